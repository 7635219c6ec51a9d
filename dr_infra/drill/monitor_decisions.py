"""What the change monitor logged about the harmful change, read into the drill's incident and journal.

Its own module because two ways of following a recovery need it: drdrill's own monitor
(:mod:`dr_infra.drill.recovery`) and a user's monitor judged by what AWS shows (:mod:`dr_infra.drill.user_monitor`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from dr_infra.drill.state import Drill
from dr_infra.report.journal import iso
from dr_infra.verify import monitor_log as evidence

STARTED = {"restore_started", "restore_already_started"}
#: Decisions the monitor takes about a harmful user change (``ignored`` covers its own repair writes, TTL
#: deletions and events outside DR_TRIGGER_EVENTS; ``malformed``, ``config_error`` and ``reprotected`` are not
#: about a change either).
HARMFUL_DECISIONS = frozenset(
    {
        "restore_started",
        "restore_already_started",
        "repaired",
        "repair_skipped_newer_write",
        "failed",
        "no_recovery_point",
    }
)


def from_ms(ms: int | None) -> datetime | None:
    """A CloudWatch Logs timestamp (milliseconds since the epoch) as a UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def decisions(drill: Drill) -> list[dict[str, Any]]:
    """The monitor's decision lines since the change, kept in the journal as evidence."""
    stack = drill.require_stack()
    found = evidence.monitor_decisions(
        drill.client("logs"), stack.names.log_group(stack.names.monitor_function), drill.incident.change_at
    )
    drill.record.evidence["monitor_log"] = found[-50:]
    return found


def key_text(key: Any) -> str:
    return evidence.key_json(key)


def harmful_decisions(lines: Iterable[dict[str, Any]], keys: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The decision lines about harmful user changes, and only of ``keys`` (the injected ones) when given."""
    wanted = {key_text(k) for k in keys}
    return [
        line
        for line in lines
        if line.get("decision") in HARMFUL_DECISIONS and (not wanted or key_text(line.get("keys")) in wanted)
    ]


def note_invocation(drill: Drill) -> None:
    stack = drill.require_stack()
    starts = evidence.invocation_starts(
        drill.client("logs"), stack.names.log_group(stack.names.monitor_function), drill.incident.change_at
    )
    if starts:
        drill.incident.monitor_invoked_at = from_ms(starts[0])
    note_stream_record(drill)


def note_stream_record(drill: Drill) -> datetime | None:
    """The harmful write's moment on DynamoDB's clock: its stream record's ApproximateCreationDateTime.

    Read from the table's stream (the records of the injected keys since the change); when the stream cannot be
    read (the table was deleted, no stream), the first harmful decision line that quotes the change's time
    (pitr: ``restoreTime``) is used. Kept in the journal next to the client clock's change time.
    """
    inc = drill.incident
    if inc.change_stream_at is not None or inc.change_at is None or inc.injection is None:
        return inc.change_stream_at
    stack = drill.require_stack()
    found: datetime | None = None
    source = "stream"
    if inc.injection.keys and stack.stream_arn:
        try:
            times = evidence.stream_record_times(
                drill.client("dynamodbstreams"), stack.stream_arn, inc.injection.keys, inc.change_at
            )
        except ClientError as exc:
            times = []
            drill.record.add_evidence("notes", f"the stream could not be read for the change's record: {exc}")
        found = min(times) if times else None
    if found is None:
        quoted = [
            line.get("restoreTime")
            for line in harmful_decisions(decisions(drill), inc.injection.keys)
            if line.get("strategy") == "pitr" and line.get("restoreTime")
        ]
        if quoted:
            found, source = datetime.fromisoformat(str(quoted[0]).replace("Z", "+00:00")), "monitor decision line"
    if found is not None:
        inc.change_stream_at = found
        change = drill.record.evidence.setdefault("change", {})
        if isinstance(change, dict):
            change["stream_record_at"] = iso(found)
            change["stream_record_source"] = source
    return found
