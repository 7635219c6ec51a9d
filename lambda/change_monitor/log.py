"""One JSON line per decision on stdout: the evidence the framework reads back.

Why stdout and not ``logging``: Lambda ships stdout lines to CloudWatch Logs as-is,
one event per line, so the framework can filter them with ``{ $.decision = ... }``
and parse them without a prefix. Key names are a contract: do not rename them.

Schema (always present, ``null`` when not applicable)::

    level           "INFO" | "ERROR"
    decision        restore_started | restore_already_started | repaired |
                    repair_skipped_newer_write | ignored | malformed | failed |
                    no_recovery_point | config_error | reprotected
    table           table name (the record's table; the restored table for reprotected)
    eventName       INSERT | MODIFY | REMOVE (as in the record, may be anything for malformed)
    keys            the record's Keys in DynamoDB JSON, e.g. {"pk": {"S": "a"}}
    sequenceNumber  the record's SequenceNumber (string)
    strategy        backup | pitr | item

Present when relevant::

    recoveryPointArn  backup: the recovery point restored from
    restoreTime       pitr: restore time; backup: the recovery point's creation time
                      (ISO-8601 UTC, "2024-05-01T12:00:00Z")
    restoreJobId      backup: the AWS Backup restore job id
    restoredTable     backup, pitr, reprotected: the table the restore creates/created
    incident          backup, pitr: incident id (first harmful change, UTC %Y%m%dT%H%M%SZ)
    reason            why (ignored, malformed, no_recovery_point, failed, skips, notes)
    error             "<ErrorCode>: <message>" of the AWS error or exception
    variable, allowed config_error: the offending variable and its allowed values
    sourceTable, actions  reprotected: the source table and what was changed

Every stream record that reaches the handler gets exactly one decision line.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from change_monitor.records import StreamRecord


class Decision(enum.StrEnum):
    """The closed set of decisions; the framework matches on these strings."""

    RESTORE_STARTED = "restore_started"
    RESTORE_ALREADY_STARTED = "restore_already_started"
    REPAIRED = "repaired"
    REPAIR_SKIPPED_NEWER_WRITE = "repair_skipped_newer_write"
    IGNORED = "ignored"
    MALFORMED = "malformed"
    FAILED = "failed"
    NO_RECOVERY_POINT = "no_recovery_point"
    CONFIG_ERROR = "config_error"
    REPROTECTED = "reprotected"


_ERROR_DECISIONS = frozenset({Decision.MALFORMED, Decision.FAILED, Decision.NO_RECOVERY_POINT, Decision.CONFIG_ERROR})


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix, whole seconds unless the time has a fraction."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    return str(value)


def emit(
    decision: Decision,
    *,
    strategy: str | None,
    record: StreamRecord | None = None,
    raw: object = None,
    stream: TextIO | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Write one decision line and return it (tests and callers may inspect it).

    ``record`` fills table/eventName/keys/sequenceNumber from a parsed record; for a
    malformed record pass the raw dict as ``raw`` and whatever can be read is used.
    Fields whose value is None are left out, except the always-present schema keys.
    """
    line: dict[str, Any] = {
        "level": "ERROR" if decision in _ERROR_DECISIONS else "INFO",
        "decision": decision.value,
        "table": None,
        "eventName": None,
        "keys": None,
        "sequenceNumber": None,
        "strategy": strategy,
    }
    if record is not None:
        line.update(
            table=record.table.name,
            eventName=record.event_name.value,
            keys=record.keys_raw,
            sequenceNumber=record.sequence_number,
        )
    elif isinstance(raw, Mapping):
        line.update(_best_effort(raw))
    line.update({k: v for k, v in fields.items() if v is not None})
    out = stream if stream is not None else sys.stdout
    out.write(json.dumps(line, default=_default, separators=(",", ":")) + "\n")
    out.flush()
    return line


def _best_effort(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What a malformed record still tells us, without trusting its shape."""
    ddb = raw.get("dynamodb")
    ddb = ddb if isinstance(ddb, Mapping) else {}
    arn = raw.get("eventSourceARN")
    table = None
    if isinstance(arn, str) and ":table/" in arn:
        table = arn.split(":table/", 1)[1].split("/", 1)[0] or None
    seq = ddb.get("SequenceNumber")
    return {
        "table": table,
        "eventName": raw.get("eventName") if isinstance(raw.get("eventName"), str) else None,
        "keys": ddb.get("Keys") if isinstance(ddb.get("Keys"), Mapping) else None,
        "sequenceNumber": seq if isinstance(seq, str) else None,
    }


def error_text(exc: BaseException) -> str:
    """``Code: message`` for botocore ClientErrors, ``Type: message`` otherwise."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        err = response.get("Error", {})
        if isinstance(err, Mapping) and err.get("Code"):
            return f"{err.get('Code')}: {err.get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"
