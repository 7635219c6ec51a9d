"""Judge a change monitor drdrill did not write by what AWS shows, never by its log format.

The restore is what AWS reports (restore jobs of the table's recovery points, tables whose RestoreSummary names
the table, created since the change: :mod:`dr_infra.drill.restore_count`); "monitor invoked" is the function's
own invocation (the START line Lambda writes to its log stream,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html); its failures (an import error, an
exception, a timeout) are quoted from the lines Lambda writes for them. The user's own log lines are kept as
evidence, and matched against the definition's ``log_pattern`` for steps that need the monitor's word.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dr_infra.drill.monitor_decisions import note_invocation
from dr_infra.drill.restore_count import started_restores
from dr_infra.drill.restore_follow import follow_backup_restore, remaining, wait_table_active
from dr_infra.drill.state import Drill
from dr_infra.drill.waits import PHASE_RESTORE_STARTED, Probe, WaitPolicy
from dr_infra.report.journal import iso
from dr_infra.verify import monitor_log as evidence

MAX_LINES = 50
_RUNTIME_LINE = re.compile(r"^(START|END|REPORT|INIT_START) ")


def _group(drill: Drill) -> str:
    stack = drill.require_stack()
    return stack.names.log_group(stack.names.monitor_function)


def output_lines(drill: Drill) -> list[dict[str, Any]]:
    """The function's own log lines since the change (not Lambda's START/END/REPORT), kept as evidence."""
    lines = [
        {"timestamp": iso(datetime.fromtimestamp(ts / 1000, UTC)), "message": message}
        for ts, message in evidence.log_lines(drill.client("logs"), _group(drill), drill.incident.change_at)
        if not _RUNTIME_LINE.match(message)
    ]
    drill.record.evidence["monitor_output"] = lines[-MAX_LINES:]
    return lines


def failures(drill: Drill) -> list[str]:
    """The function's failed invocations, quoted as Lambda logged them; kept as evidence ``monitor_errors``."""
    errors = evidence.function_errors(drill.client("logs"), _group(drill), drill.incident.change_at)
    if errors:
        drill.record.evidence["monitor_errors"] = errors[-10:]
    return errors


def invocation_state(drill: Drill) -> str:
    """What the function did since the change, in one line (the state a timed-out wait quotes)."""
    starts = evidence.invocation_starts(drill.client("logs"), _group(drill), drill.incident.change_at)
    if not starts:
        return "monitor never invoked"
    errors = failures(drill)
    if errors:
        return f"monitor invoked {len(starts)} time(s), no restore started; it failed: {errors[-1].splitlines()[0]}"
    said = [line["message"] for line in output_lines(drill)]
    last = f"; its last line: {said[-1][:200]}" if said else "; it logged nothing"
    return f"monitor invoked {len(starts)} time(s), no restore started{last}"


def pattern_matches(drill: Drill) -> list[dict[str, Any]]:
    """The function's lines matching the definition's ``log_pattern`` (with the pattern's named groups)."""
    definition = drill.require_stack().spec.definition
    pattern = definition.monitor.pattern() if definition is not None and definition.monitor is not None else None
    if pattern is None:
        return []
    found = []
    for line in output_lines(drill):
        match = pattern.search(line["message"])
        if match:
            found.append({**line, **{k: v for k, v in match.groupdict().items() if v is not None}})
    drill.record.evidence["monitor_pattern_lines"] = found[-MAX_LINES:]
    return found


def _earliest(found: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    return min(found.items(), key=lambda kv: str(kv[1].get("created_at") or ""))


def await_recovery(drill: Drill, deadline: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait until AWS shows a restore of the table started since the change, then follow it to an ACTIVE table."""
    inc = drill.incident

    def probe() -> Probe:
        found = started_restores(drill)
        if found:
            return Probe(True, f"{len(found)} restore(s) started", _earliest(found))
        return Probe(False, invocation_state(drill))

    try:
        key, info = (
            WaitPolicy(PHASE_RESTORE_STARTED, remaining(deadline), max_interval=min(1.0, _poll(drill)))
            .run(probe, sleep=sleep)
            .value
        )
    finally:
        output_lines(drill)
        failures(drill)
    note_invocation(drill)
    kind = "backup" if info["kind"] == "backup restore job" else "pitr"
    if kind != drill.strategy:
        drill.record.add_evidence(
            "notes",
            f"the user's monitor restored with {kind} ({info['kind']} {key}, as AWS shows it); the scenario expected "
            f"{drill.strategy}: the drill follows what happened",
        )
        drill.strategy = kind
    drill.record.add_evidence("notes", f"restore found from AWS, not from the monitor's log: {info['kind']} {key}")
    if kind == "backup":
        follow_backup_restore(drill, key, deadline, sleep)
    else:
        inc.restored_table = key
        inc.restore_started_at = _parse(info.get("created_at"))
        wait_table_active(drill, deadline, sleep)
        inc.restore_completed_at = inc.table_active_at
    output_lines(drill)


def _poll(drill: Drill) -> float:
    return float(drill.target.max_poll_interval)


def _parse(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None


def not_applicable(drill: Drill, step: str, reason: str) -> None:
    """Report ``step`` as not applicable to this monitor, with the reason: the step is recorded as skipped (never
    passed) and the report's notes say why; the scenario goes on with its other steps."""
    drill.step_skip_reason = f"not applicable to this monitor: {reason}"
    drill.record.add_evidence("not_applicable", {"step": step, "reason": reason})
    drill.record.add_evidence("notes", f"'{step}' is not applicable to this monitor: {reason}")


def is_user_monitor(drill: Drill) -> bool:
    return drill.stack is not None and drill.stack.spec.user_monitor


NO_DECISION_LINES = (
    "it needs drdrill's own monitor's JSON decision lines, and this definition's [monitor] has no log_pattern "
    "to read the user's monitor's lines by"
)


def logged_event(drill: Drill, event: str, limit_s: float = 30.0) -> None:
    """'the change monitor logged the X event' for a user's monitor: a line after the change matching log_pattern
    (with its ``event`` group equal to X when the pattern has one); without a pattern, not applicable."""
    definition = drill.require_stack().spec.definition
    pattern = definition.monitor.pattern() if definition is not None and definition.monitor is not None else None
    step = f"the change monitor logged the {event} event"
    if pattern is None:
        not_applicable(drill, step, NO_DECISION_LINES)
        return
    names_event = "event" in pattern.groupindex

    def probe() -> Probe:
        lines = pattern_matches(drill)
        hit = [line for line in lines if not names_event or str(line.get("event", "")).upper() == event]
        seen = sorted({str(line.get("event", "?")) for line in lines})
        return Probe(bool(hit), f"lines matching log_pattern: {len(lines)} (events {seen or 'none'})", hit)

    found = WaitPolicy(f"the user's monitor logs a line matching log_pattern for {event}", limit_s).run(probe).value
    if not names_event:
        drill.record.add_evidence(
            "notes",
            f"log_pattern has no (?P<event>...) group: any matching line counts for {event} ({found[0]['message']!r})",
        )


def logged_jobs(drill: Drill) -> set[str] | None:
    """Restore jobs the user's monitor says it started (log_pattern's ``job`` group), ``None`` if it cannot say."""
    definition = drill.require_stack().spec.definition
    pattern = definition.monitor.pattern() if definition is not None and definition.monitor is not None else None
    if pattern is None or "job" not in pattern.groupindex:
        return None
    return {str(line["job"]) for line in pattern_matches(drill) if line.get("job")}


def first_restore_ms(drill: Drill) -> int | None:
    """When the first restore AWS shows since the change was created (epoch ms), or ``None``."""
    found = started_restores(drill)
    if not found:
        return None
    moment = _parse(_earliest(found)[1].get("created_at"))
    return int(moment.timestamp() * 1000) if moment is not None else None


def assert_never_invoked(drill: Drill, window_s: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """No invocation (START line) and no restore since the change, for ``window_s`` seconds."""
    deadline = time.monotonic() + window_s
    while True:
        starts = evidence.invocation_starts(drill.client("logs"), _group(drill), drill.incident.change_at)
        if starts or started_restores(drill):
            raise AssertionError(f"the monitor was invoked: {invocation_state(drill)}")
        if time.monotonic() >= deadline:
            return
        sleep(min(0.5, _poll(drill)))
