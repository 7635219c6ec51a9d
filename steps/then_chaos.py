"""Then steps of restore-path chaos: the expected ways for a recovery to break, and how drdrill detects each."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from pytest_bdd import parsers, then

from dr_infra.bdd.step_checks import checks
from dr_infra.drill import monitor_faults, recovery
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.report.journal import iso
from steps.then import SECONDS, _seconds


def _decision_lines_only(drill: Drill, step: str) -> bool:
    """Chaos outcomes read drdrill's own monitor's decision lines: for a user's monitor they are not applicable."""
    from dr_infra.drill import user_monitor

    if not user_monitor.is_user_monitor(drill):
        return False
    user_monitor.not_applicable(
        drill, step, "it reads drdrill's own monitor's decision lines (a user's monitor has none)"
    )
    return True


# -- restore-path chaos: the expected way for a recovery to break -------------------------------------------------
@then(parsers.re(rf"the restore fails within {SECONDS} seconds? with the job's status message"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    """The job ends FAILED with the injected StatusMessage, nothing was restored, and the RTO is violated."""
    from dr_infra.errors import RestoreFailed

    injected = drill.faults.get("restore_job_fails", {}).get("message")
    if injected is None:
        raise ConfigError("'the restore fails ... with the job's status message' needs 'Given restore jobs fail'")
    try:
        recovery.recover_within(drill, _seconds(seconds))
    except RestoreFailed as exc:
        failed = [j for j in drill.record.evidence.get("restore_jobs", []) if j.get("status") == "FAILED"]
        assert failed, f"the restore failed, but no FAILED restore job was seen: {exc}"
        job = failed[-1]
        assert job.get("status_message") == injected, (
            f"restore job {job.get('job_id')} ended FAILED with {job.get('status_message')!r}, "
            f"not the injected status message {injected!r}"
        )
        assert str(exc).endswith(f"ended FAILED: {injected}"), f"the failure does not quote the job: {exc}"
        leaked = recovery.restored_tables(drill)
        assert not leaked, f"a failed restore left restored table(s) behind: {sorted(leaked)}"
        drill.violate("rto", f"restore job {job.get('job_id')} ended FAILED: {injected}", expected=True)
        return
    raise AssertionError("the restore completed, but the injected fault should have made it fail")


@then(parsers.re(r'the RTO is violated in the "(?P<phase>[^"]+)" phase'))
def _(drill: Drill, phase: str) -> None:
    drill.finish_measures()
    rto = drill.record.rto
    assert rto.measured_s is not None and rto.target_s is not None, "RTO was not measured"
    assert not rto.met, f"RTO {rto.measured_s:.3f} s met the target {rto.target_s:g} s; a violation was expected"
    slowest = max(rto.phases, key=lambda p: p.duration_s or 0)
    assert slowest.name == phase, f"the phase that ran long was {slowest.name!r}, not {phase!r}"
    drill.violate(
        "rto",
        f"RTO {rto.measured_s:.3f} s exceeds the target {rto.target_s:g} s; the phase that ran long: "
        f"{slowest.name} ({slowest.duration_s:.3f} s)",
        expected=True,
    )


@then(parsers.re(rf"the restore could not be started within {SECONDS} seconds?"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    """StartRestoreJob denied: the monitor logs the AccessDeniedException and reports the records as failed."""
    if _decision_lines_only(drill, "the restore could not be started within N seconds"):
        return
    from dr_infra.errors import WaitTimeout

    deadline = time.monotonic() + _seconds(seconds)
    try:
        recovery.wait_restore_started(drill, deadline)
    except WaitTimeout as exc:
        assert exc.last_state.startswith("restore could not be started"), f"unexpected state: {exc.last_state}"
        assert "AccessDeniedException" in exc.last_state, f"the error does not name AccessDeniedException: {exc}"
        inc = drill.incident
        keys = inc.injection.keys if inc.injection is not None else []
        failed = [
            line
            for line in recovery.harmful_decisions(recovery.decisions(drill), keys)
            if line.get("decision") == "failed"
        ]
        reported = {recovery.key_text(line.get("keys")) for line in failed}
        unreported = [k for k in keys if recovery.key_text(k) not in reported]
        assert failed and not unreported, (
            f"the change monitor did not report the records as failed: {len(unreported)} of {len(keys)} "
            f"changed item(s) without a failed decision"
        )
        recovery.note_invocation(drill)
        drill.violate("rto", exc.last_state, expected=True)
        return
    raise AssertionError("a restore was started, but StartRestoreJob should have been denied")


# -- more restore-path chaos: throttling, no recovery point, failing or detached monitor ----------------------
@then(parsers.re(r'the journal counts (?P<count>-?\d+) throttles? of "(?P<operation>[^"]*)"'))
def _(drill: Drill, count: str, operation: str) -> None:
    expected = int(count)
    if expected < 0:
        raise ConfigError("a number of throttles cannot be negative")
    if getattr(drill.target, "control", None) is None:
        raise ConfigError("throttles are counted by the embedded target's control routes")
    counts = drill.record_throttles()
    served = counts.get(operation, 0)
    assert served == expected, f"{operation} was throttled {served} time(s), expected {expected}: {counts or 'none'}"


def _no_recovery_point_lines(drill: Drill) -> list[dict[str, Any]]:
    return [line for line in recovery.decisions(drill) if line.get("decision") == "no_recovery_point"]


@then("the change monitor logged no recovery point before the change")
def _(drill: Drill) -> None:
    if _decision_lines_only(drill, "the change monitor logged no recovery point before the change"):
        return
    import re

    from dr_infra.drill.waits import Probe, WaitPolicy

    inc = drill.incident
    assert inc.injection is not None and inc.change_at is not None, "no change was made"

    def probe() -> Probe:
        found = _no_recovery_point_lines(drill)
        lines = recovery.decisions(drill)
        return Probe(
            bool(found),
            f"decisions logged: {sorted({str(x.get('decision')) for x in lines}) or 'none'}",
            found,
        )

    line = WaitPolicy("change monitor logs no_recovery_point", 30).run(probe).value[0]
    reason = str(line.get("reason"))
    match = re.fullmatch(r"no recovery point before (\S+)", reason)
    assert match, f"unexpected reason: {reason!r}"
    before = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    # the incident starts at the first harmful record's stream time (whole seconds, rounded down)
    low, high = (
        inc.change_at.replace(microsecond=0) - timedelta(seconds=1),
        inc.injection.finished_at + timedelta(seconds=1),
    )
    assert low <= before <= high, f"{reason!r} does not name the change's time ({iso(inc.change_at)})"
    recovery.note_stream_record(drill)
    drill.record.add_evidence("notes", f"the change monitor logged: {reason}")


RPO_BEFORE_FIRST_BACKUP = "the RPO cannot be met for changes before the first backup"


@then(f"the report notes that {RPO_BEFORE_FIRST_BACKUP}")
def _(drill: Drill) -> None:
    if _decision_lines_only(drill, "the report notes that the RPO cannot be met for changes before the first backup"):
        return
    from dataclasses import asdict

    from dr_infra.report.model import scenario_view

    found = _no_recovery_point_lines(drill)
    assert found, "the change monitor did not report a missing recovery point"
    note = f"{RPO_BEFORE_FIRST_BACKUP}: {found[0].get('reason')}"
    drill.violate("rpo", note, expected=True)
    drill.record.add_evidence("notes", note)
    view = scenario_view(asdict(drill.record), 0)
    assert note in view.notes and view.rpo.note == note and view.rpo.verdict == "over target", (
        f"the report does not say it: notes={view.notes}, RPO note={view.rpo.note!r} ({view.rpo.verdict})"
    )


@then(parsers.re(r"the change monitor failed (?P<count>-?\d+) invocations? before the restore started"))
def _(drill: Drill, count: str) -> None:
    monitor_faults.check_failed_before_restore(drill, int(count))


@then(parsers.re(rf"the change is reported as never detected within {SECONDS} seconds?"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    """The mapping gave up (MaximumRetryAttempts used up): no decision, the batch discarded, the change lost."""
    monitor_faults.check_never_detected(drill, _seconds(seconds))


@then("the change monitor was never invoked")
def _(drill: Drill) -> None:
    """No START line after the change within a window where an attached monitor always runs."""
    monitor_faults.check_never_invoked(drill)
