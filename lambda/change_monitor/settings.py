"""Configuration from environment variables, read and validated once per cold start.

Why a frozen dataclass built in one place: a misconfigured monitor must fail loudly
on its first invocation with one log line that names the variable and the allowed
values, instead of failing later, record by record, with a confusing AWS error.

Variables
---------
``DR_STRATEGY`` (required)
    ``backup`` | ``pitr`` | ``item``.
``DR_TRIGGER_EVENTS``
    Comma list of ``INSERT``, ``MODIFY``, ``REMOVE``; default all three.
``DR_BACKUP_VAULT_NAME``, ``DR_RESTORE_ROLE_ARN``
    Required for ``backup``. Only recovery points in this vault are used.
``DR_LEDGER_TABLE``
    Required for ``backup`` and ``pitr``: the one-incident-one-restore ledger.
``DR_INCIDENT_WINDOW_SECONDS``
    Positive integer, default 3600. Harmful changes of one table less than this
    many seconds after the incident's first harmful change belong to that incident
    and never start a second restore.
``DR_RESTORED_TABLE_TEMPLATE``
    Default ``{table}-restored-{incident}``. Placeholders: ``{table}`` (source table
    name) and ``{incident}`` (the incident's first harmful change, UTC,
    ``%Y%m%dT%H%M%SZ``). Characters DynamoDB does not allow are replaced by ``-``
    and the name is cut to 255 characters. The framework's backup selection covers
    ``<table ARN>-restored-*``, so keep that prefix if you change the template.
``DR_MAX_CONCURRENT_RESTORES``
    Positive integer, default 50 (AWS's per-account limit on concurrent restores).
``DR_MONITOR_FUNCTION_ARN``
    Optional; the function re-protection attaches to a restored table's stream.
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from change_monitor.records import EventName

_TABLE_NAME_MAX = 255
_INVALID_TABLE_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")
INCIDENT_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


class Strategy(enum.StrEnum):
    """How a harmful change is undone."""

    BACKUP = "backup"
    PITR = "pitr"
    ITEM = "item"


class ConfigError(ValueError):
    """A configuration variable is missing or invalid.

    Carries the variable and the allowed values so the handler can log one
    self-explanatory line.
    """

    def __init__(self, variable: str, value: str | None, allowed: str, reason: str) -> None:
        self.variable = variable
        self.value = value
        self.allowed = allowed
        self.reason = reason
        super().__init__(f"{variable}={value!r} is invalid: {reason} (allowed: {allowed})")


@dataclass(frozen=True)
class Settings:
    """Validated configuration of one cold start."""

    strategy: Strategy
    trigger_events: frozenset[EventName]
    backup_vault_name: str | None = None
    restore_role_arn: str | None = None
    ledger_table: str | None = None
    incident_window_seconds: int = 3600
    restored_table_template: str = "{table}-restored-{incident}"
    max_concurrent_restores: int = 50
    monitor_function_arn: str | None = None

    def restored_table_name(self, table: str, incident: str) -> str:
        """Name of the table a restore for ``incident`` of ``table`` creates.

        Deterministic, so a redelivered batch targets the same name (which makes a
        PITR restore idempotent through TableAlreadyExistsException).
        """
        name = self.restored_table_template.format(table=table, incident=incident)
        return _INVALID_TABLE_CHARS.sub("-", name)[:_TABLE_NAME_MAX]


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _required(env: Mapping[str, str], name: str, allowed: str, strategy: Strategy) -> str:
    value = _optional(env, name)
    if value is None:
        raise ConfigError(name, env.get(name), allowed, f"required when DR_STRATEGY={strategy}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(name, raw, "a positive integer", "not a positive integer")
    return value


def _trigger_events(env: Mapping[str, str]) -> frozenset[EventName]:
    allowed = ",".join(e.value for e in EventName)
    raw = env.get("DR_TRIGGER_EVENTS")
    if raw is None or raw.strip() == "":
        return frozenset(EventName)
    names = [part.strip().upper() for part in raw.split(",") if part.strip()]
    unknown = [n for n in names if n not in EventName.__members__]
    if unknown or not names:
        raise ConfigError(
            "DR_TRIGGER_EVENTS",
            raw,
            f"comma list of {allowed}",
            f"unknown event name(s): {', '.join(unknown)}" if unknown else "empty list",
        )
    return frozenset(EventName(n) for n in names)


def _template(env: Mapping[str, str]) -> str:
    default = "{table}-restored-{incident}"
    raw = env.get("DR_RESTORED_TABLE_TEMPLATE")
    if raw is None or raw.strip() == "":
        return default
    allowed = "a format string using only {table} and {incident}"
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(raw) if f is not None}
    except ValueError as exc:
        raise ConfigError("DR_RESTORED_TABLE_TEMPLATE", raw, allowed, str(exc)) from exc
    unknown = fields - {"table", "incident"}
    if unknown:
        raise ConfigError("DR_RESTORED_TABLE_TEMPLATE", raw, allowed, f"unknown placeholder(s) {sorted(unknown)}")
    if "incident" not in fields:
        # Without the incident the name is not unique per incident: the second
        # incident's restore would collide with the first restored table.
        raise ConfigError("DR_RESTORED_TABLE_TEMPLATE", raw, allowed, "{incident} is required")
    return raw


def load_settings(env: Mapping[str, str]) -> Settings:
    """Validate ``env`` and build the settings; raise :class:`ConfigError` on the first bad value."""
    raw_strategy = env.get("DR_STRATEGY")
    allowed_strategies = "|".join(s.value for s in Strategy)
    try:
        strategy = Strategy((raw_strategy or "").strip().lower())
    except ValueError:
        raise ConfigError(
            "DR_STRATEGY",
            raw_strategy,
            allowed_strategies,
            "missing" if not raw_strategy else "unknown strategy",
        ) from None

    triggers = _trigger_events(env)
    window = _positive_int(env, "DR_INCIDENT_WINDOW_SECONDS", 3600)
    max_restores = _positive_int(env, "DR_MAX_CONCURRENT_RESTORES", 50)
    template = _template(env)

    vault = _optional(env, "DR_BACKUP_VAULT_NAME")
    role = _optional(env, "DR_RESTORE_ROLE_ARN")
    ledger = _optional(env, "DR_LEDGER_TABLE")
    if strategy is Strategy.BACKUP:
        vault = _required(env, "DR_BACKUP_VAULT_NAME", "a backup vault name", strategy)
        role = _required(env, "DR_RESTORE_ROLE_ARN", "an IAM role ARN", strategy)
        if not role.startswith("arn:"):
            raise ConfigError("DR_RESTORE_ROLE_ARN", role, "an IAM role ARN", "not an ARN")
    if strategy in (Strategy.BACKUP, Strategy.PITR):
        ledger = _required(env, "DR_LEDGER_TABLE", "a DynamoDB table name", strategy)

    return Settings(
        strategy=strategy,
        trigger_events=triggers,
        backup_vault_name=vault,
        restore_role_arn=role,
        ledger_table=ledger,
        incident_window_seconds=window,
        restored_table_template=template,
        max_concurrent_restores=max_restores,
        monitor_function_arn=_optional(env, "DR_MONITOR_FUNCTION_ARN"),
    )
