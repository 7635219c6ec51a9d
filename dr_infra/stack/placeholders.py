"""Placeholders in a stack definition's files (``{table_arn}``, ...): which exist, and filling them in.

A user's monitor environment, role policy, backup plan and selection are written once, for any drill: the names
drdrill gives the drill's resources (unique per run) are filled in when the stack is provisioned. Only string
values inside parsed JSON/TOML are filled, so the braces of a JSON document are never mistaken for one, and
IAM policy variables (``${aws:username}``) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

KNOWN = (
    "table_name",
    "table_arn",
    "stream_arn",
    "vault_name",
    "vault_arn",
    "restore_role_arn",
    "backup_role_arn",
    "monitor_role_arn",
    "monitor_function_name",
    "region",
    "account_id",
    "run_id",
)
_PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown(value: Any) -> list[str]:
    """Placeholder names in ``value`` (strings anywhere inside dicts and lists) that drdrill does not fill."""
    found: list[str] = []
    if isinstance(value, str):
        found += [name for name in _PLACEHOLDER.findall(value) if name not in KNOWN]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found += unknown(key) + unknown(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found += unknown(item)
    return found


def fill(value: Any, values: Mapping[str, str]) -> Any:
    """``value`` with every known placeholder replaced by its drill value (a copy; the input is untouched)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, Mapping):
        return {fill(k, values): fill(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill(v, values) for v in value]
    return value


def hint() -> str:
    return ", ".join("{" + name + "}" for name in KNOWN)
