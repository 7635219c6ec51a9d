"""Check what the change monitor did about the harmful change: how many restores it started, which event it saw.

Counted from what AWS reports (restore jobs, restored tables), never from the monitor's own log lines alone; the
log is kept beside the count as evidence, and a disagreement between the two is noted.
"""

from __future__ import annotations

from dr_infra.drill import recovery, user_monitor
from dr_infra.drill.state import Drill
from dr_infra.drill.waits import Probe, WaitPolicy


def check_restore_count(drill: Drill, expected: int) -> None:
    """``exactly N restore jobs started`` since the change, once the count is stable."""
    # Count what AWS reports (restore jobs, restored tables), not the monitor's log lines: a line is written
    # when its invocation returns, the restore exists as soon as the call does. Let redelivered, retried or
    # bisected batches land first: read until the count is stable (the interval follows the target's pace).
    settle = max(0.5, 5 * drill.target.max_poll_interval)
    started = recovery.settled_restores(lambda: recovery.started_restores(drill), settle, limit=30)
    if user_monitor.is_user_monitor(drill):
        said = user_monitor.logged_jobs(drill)  # None: the user's log names no job (log_pattern without (?P<job>))
        logged = set(started) if said is None else said
    else:
        logged = {
            str(line.get("restoreJobId") or line.get("restoredTable"))
            for line in recovery.decisions(drill)
            if line.get("decision") == "restore_started"
        }
    actual = len(started)
    drill.record.evidence["restore_job_count"] = [
        {"expected": expected, "started": actual, "restores": started, "monitor_logged": sorted(logged)}
    ]
    if logged != set(started):
        drill.record.add_evidence(
            "notes",
            f"the change monitor's log disagrees with AWS: it logged restore_started for {sorted(logged) or 'none'}, "
            f"AWS reports {sorted(started) or 'none'} (counted: AWS)",
        )
    assert actual == expected, (
        f"expected exactly {expected} restore job(s), {actual} were started since the change: "
        + ", ".join(f"{key} ({info['kind']}, {info['status']})" for key, info in started.items())
    )


def wait_logged_event(drill: Drill, event: str, timeout: float = 30) -> None:
    """``the change monitor logged the INSERT|MODIFY|REMOVE event``: a decision about the injected change."""
    if user_monitor.is_user_monitor(drill):
        user_monitor.logged_event(drill, event)
        return
    injection = drill.incident.injection
    keys = injection.keys if injection is not None else []

    def probe() -> Probe:
        # Only decisions about the injected harmful change count: not the item strategy's own repair writes,
        # TTL deletions or other events the monitor logs as ignored.
        lines = recovery.harmful_decisions(recovery.decisions(drill), keys)
        seen = sorted({f"{line.get('eventName')} ({line.get('decision')})" for line in lines})
        return Probe(
            any(line.get("eventName") == event for line in lines),
            f"decisions about the harmful change: {seen or 'none'}",
        )

    WaitPolicy(f"change monitor logs a {event} event", timeout).run(probe)
