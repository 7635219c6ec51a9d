"""What a DynamoDB Streams record says, as AWS writes it: version, region, size, and who made the change.

What AWS does (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html):

* ``eventVersion`` is ``1.1``; ``awsRegion`` is the table's region.
* ``SizeBytes`` is the size of the record's item data: ``Keys`` plus ``NewImage`` and ``OldImage`` when present,
  each sized as DynamoDB sizes items (every attribute's UTF-8 name plus its value: strings their UTF-8 length,
  binaries their length, numbers one byte per two significant digits plus one, booleans and nulls one byte,
  lists and maps three bytes plus one byte and the size of each element). Checked against the records LocalStack
  recorded on AWS (``tests/aws/services/dynamodbstreams/test_dynamodb_streams.snapshot.json``: ``{"id": "test"}``
  INSERT -> 12, with a two-attribute new image and a one-attribute old image -> 46, a BOOL -> +12, ...).
* A deletion made by TTL carries ``userIdentity``: ``{"PrincipalId": "dynamodb.amazonaws.com", "Type":
  "Service"}`` in the DynamoDB Streams API (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
  API_streams_Identity.html), ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`` in a Lambda event
  (:mod:`esm_events`).

moto 5.2.5 writes eventVersion ``1.0``, ``us-east-1`` whatever the region, a ``SizeBytes`` of its JSON dump (several
times AWS's) and never a ``userIdentity``; :func:`amend` corrects a record moto built.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.models.table import StreamRecord

HOOKED_INTERNALS: tuple[str, ...] = ("moto.dynamodb.models.table.StreamRecord",)
"""It also rewrites ``StreamRecord.record`` (the dict moto serves) and reads ``Table.region_name``."""

TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}

_service = threading.local()


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return (max(1, len(digits)) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value in its JSON form (``{"S": "x"}``, ``{"M": {...}}``, ...)."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content) if isinstance(content, bytes | bytearray) else (len(str(content)) * 3) // 4
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in content)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in content)
    if kind == "BS":
        return sum(value_size({"B": v}) for v in content)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in content.items())
    return len(str(content).encode())


def item_size(attributes: dict[str, Any]) -> int:
    """Bytes of an item (or a key): every attribute's name plus its value."""
    return sum(len(name.encode()) + value_size(value) for name, value in attributes.items())


def record_size(dynamodb: dict[str, Any]) -> int:
    """``SizeBytes`` of a stream record's ``dynamodb`` part."""
    return sum(item_size(dynamodb[part]) for part in ("Keys", "NewImage", "OldImage") if dynamodb.get(part))


class service_deletions:
    """Within this block, deletions on this thread are the DynamoDB service's own (TTL), not a caller's."""

    def __enter__(self) -> None:
        _service.active = True

    def __exit__(self, *exc: object) -> None:
        _service.active = False


def amend(record: StreamRecord, table: Any) -> StreamRecord:
    """Make a record moto built say what AWS's says."""
    raw = record.record
    raw["eventVersion"] = "1.1"
    raw["awsRegion"] = getattr(table, "region_name", raw.get("awsRegion"))
    raw["dynamodb"]["SizeBytes"] = record_size(raw["dynamodb"])
    if getattr(_service, "active", False) and raw.get("eventName") == "REMOVE":
        raw["userIdentity"] = dict(TTL_IDENTITY)
    return record
