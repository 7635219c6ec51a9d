"""A stack definition's sample items: DynamoDB JSON, one item per line, read into boto3's wire form.

The file is what ``aws dynamodb scan --output json`` items or a DynamoDB export's ``Item`` look like
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html): every attribute is
``{"<type>": value}`` with type S, N, B, BOOL, NULL, L, M, SS, NS or BS, binary values base64 text. boto3's
low-level client takes binary values as ``bytes``, so B and BS are decoded here once.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from dr_infra.errors import ConfigError

TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"})
MAX_SAMPLE_ITEMS = 10_000


def _value(av: Any, where: str) -> dict[str, Any]:
    if not isinstance(av, dict) or len(av) != 1:
        raise ValueError(f'{where} is not a DynamoDB attribute value such as {{"S": "text"}}')
    ((type_, value),) = av.items()
    if type_ not in TYPES:
        raise ValueError(f"{where} has type {type_!r}: use one of {', '.join(sorted(TYPES))}")
    if type_ == "B":
        return {"B": _binary(value, where)}
    if type_ == "BS":
        return {"BS": [_binary(v, where) for v in value]}
    if type_ == "M":
        return {"M": {k: _value(v, f"{where}.{k}") for k, v in dict(value).items()}}
    if type_ == "L":
        return {"L": [_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if type_ in {"S", "N"} and not isinstance(value, str):
        raise ValueError(f"{where}: a {type_} value is written as a JSON string")
    return {type_: value}


def _binary(value: Any, where: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: binary values are base64 text") from None


def load_sample(path: Path, label: str) -> list[dict[str, Any]]:
    """Every item of ``path``; a bad line is one ConfigError naming the file, the line and the fix."""
    items: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = raw.get("Item", raw) if isinstance(raw, dict) else raw
            if not isinstance(item, dict) or not item:
                raise ValueError("a line must be one JSON object of attributes")
            items.append({name: _value(av, name) for name, av in item.items()})
        except ValueError as exc:
            raise ConfigError(
                f"{label}: {path.name} line {number}: {exc}; write one DynamoDB JSON item per line, "
                'e.g. {"customerId": {"S": "c-1"}, "total": {"N": "12.5"}}'
            ) from None
        if len(items) > MAX_SAMPLE_ITEMS:
            raise ConfigError(f"{label}: {path.name} has more than {MAX_SAMPLE_ITEMS} items; a sample is repeated")
    if not items:
        raise ConfigError(f"{label}: {path.name} holds no item; write one DynamoDB JSON item per line")
    return items
