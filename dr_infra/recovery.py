"""Follow a recovery from the outside: find the restore the monitor started, wait for it, verify it.

The framework never asks the monitor how it did; it reads what the monitor logged (CloudWatch Logs), what
AWS Backup and DynamoDB report (DescribeRestoreJob, DescribeTable), and compares data with the oracle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dr_infra import evidence
from dr_infra.drill import Drill
from dr_infra.errors import DrDrillError
from dr_infra.journal import iso, utcnow
from dr_infra.waits import (
    PHASE_ITEM_REPAIRED,
    PHASE_RESTORE_JOB,
    PHASE_RESTORE_STARTED,
    PHASE_TABLE_ACTIVE,
    Probe,
    WaitPolicy,
    restore_job_probe,
    table_active_probe,
)

STARTED = {"restore_started", "restore_already_started"}


def _from_ms(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _aware(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _cap(drill: Drill, longest: float) -> float:
    """Poll no slower than ``longest``, and no slower than the target's own pace."""
    return min(longest, drill.target.max_poll_interval)


def remaining(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


def decisions(drill: Drill) -> list[dict[str, Any]]:
    """The monitor's decision lines since the change, kept in the journal as evidence."""
    stack = drill.require_stack()
    found = evidence.monitor_decisions(
        drill.client("logs"), stack.names.log_group(stack.names.monitor_function), drill.incident.change_at
    )
    drill.record.evidence["monitor_log"] = found[-50:]
    return found


def _summary(line: dict[str, Any]) -> str:
    parts = [str(line.get("decision"))]
    parts.extend(str(line[key]) for key in ("reason", "error") if line.get(key))
    return ": ".join(parts)


def wait_restore_started(drill: Drill, deadline: float, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Wait for the monitor's restore_started decision; a timeout quotes the monitor's last word."""

    def probe() -> Probe:
        lines = decisions(drill)
        started = [line for line in lines if line.get("decision") in STARTED]
        if started:
            return Probe(True, "started", started[0])
        if not lines:
            invoked = evidence.invocation_starts(
                drill.client("logs"),
                drill.require_stack().names.log_group(drill.require_stack().names.monitor_function),
                drill.incident.change_at,
            )
            return Probe(False, "monitor never invoked" if not invoked else "monitor invoked, no decision logged")
        last = lines[-1]
        state = _summary(last)
        if last.get("decision") == "failed":
            state = f"restore could not be started: {last.get('error') or last.get('reason')}"
        return Probe(False, state)

    result = WaitPolicy(PHASE_RESTORE_STARTED, remaining(deadline), max_interval=_cap(drill, 1.0)).run(
        probe, sleep=sleep
    )
    line: dict[str, Any] = result.value
    return line


def note_invocation(drill: Drill) -> None:
    stack = drill.require_stack()
    starts = evidence.invocation_starts(
        drill.client("logs"), stack.names.log_group(stack.names.monitor_function), drill.incident.change_at
    )
    if starts:
        drill.incident.monitor_invoked_at = _from_ms(starts[0])


def follow_backup_restore(
    drill: Drill, job_id: str, deadline: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait for an AWS Backup restore job and its new table; fill the incident's timeline and evidence."""
    inc = drill.incident
    backup = drill.client("backup")
    inc.restore_job_id = job_id
    job = (
        WaitPolicy(PHASE_RESTORE_JOB, remaining(deadline), max_interval=_cap(drill, 10.0))
        .run(restore_job_probe(backup, job_id), sleep=sleep)
        .value
    )
    inc.restore_started_at = _aware(job.get("CreationDate"))
    inc.restore_completed_at = _aware(job.get("CompletionDate")) or utcnow()
    inc.recovery_point_arn = job.get("RecoveryPointArn")
    inc.recovery_point_at = _aware(job.get("RecoveryPointCreationDate")) or inc.recovery_point_at
    created = job.get("CreatedResourceArn", "")
    inc.restored_table = created.rsplit("/", 1)[-1] if created else inc.restored_table
    drill.record.add_evidence(
        "restore_jobs",
        {
            "job_id": job_id,
            "status": job.get("Status"),
            "status_message": job.get("StatusMessage"),
            "resource_arn": drill.require_stack().table_arn,
            "recovery_point_arn": job.get("RecoveryPointArn"),
            "created_resource_arn": created,
            "created_at": iso(inc.restore_started_at),
            "completed_at": iso(inc.restore_completed_at),
            "duration_s": round((inc.restore_completed_at - inc.restore_started_at).total_seconds(), 3)
            if inc.restore_started_at and inc.restore_completed_at
            else None,
            "percent_done": job.get("PercentDone"),
            "recovery_point_created_at": iso(inc.recovery_point_at),
        },
    )
    if inc.recovery_point_arn:
        drill.record.add_evidence(
            "recovery_points", {"arn": inc.recovery_point_arn, "created_at": iso(inc.recovery_point_at)}
        )
    wait_table_active(drill, deadline, sleep)


def wait_table_active(drill: Drill, deadline: float, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    inc = drill.incident
    if not inc.restored_table:
        raise DrDrillError("no restored table to wait for")
    table = (
        WaitPolicy(PHASE_TABLE_ACTIVE, remaining(deadline), max_interval=_cap(drill, 5.0))
        .run(table_active_probe(drill.client("dynamodb"), inc.restored_table), sleep=sleep)
        .value
    )
    inc.table_active_at = utcnow()
    summary = table.get("RestoreSummary") or {}
    restore_time = _aware(summary.get("RestoreDateTime"))
    if drill.strategy == "pitr" and restore_time is not None:
        inc.restore_time = restore_time
        drill.record.add_evidence("restore_times", iso(restore_time))
    result: dict[str, Any] = table
    return result


def follow_pitr_restore(
    drill: Drill, line: dict[str, Any], deadline: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    inc = drill.incident
    inc.restored_table = line.get("restoredTable")
    inc.restore_started_at = _from_ms(line.get("timestamp"))
    if line.get("restoreTime"):
        inc.restore_time = datetime.fromisoformat(str(line["restoreTime"]).replace("Z", "+00:00"))
    wait_table_active(drill, deadline, sleep)
    inc.restore_completed_at = inc.table_active_at


def await_recovery(drill: Drill, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """From the harmful change to an ACTIVE restored table, whatever the strategy (not item)."""
    deadline = time.monotonic() + timeout
    inc = drill.incident
    if inc.restore_job_id is None and inc.restored_table is None:
        line = wait_restore_started(drill, deadline, sleep)
        note_invocation(drill)
        if drill.strategy == "pitr":
            follow_pitr_restore(drill, line, deadline, sleep)
            return
        job_id = line.get("restoreJobId")
        if not job_id:
            raise DrDrillError(f"the monitor logged {line.get('decision')} without a restoreJobId")
        follow_backup_restore(drill, str(job_id), deadline, sleep)
    elif inc.restore_job_id is not None and inc.table_active_at is None:
        follow_backup_restore(drill, inc.restore_job_id, deadline, sleep)


def await_item_repair(drill: Drill, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Poll GetItem on every key the change touched until each is back to its state before the change."""
    oracle = drill.require_oracle()
    inc = drill.incident
    assert inc.injection is not None and inc.change_at is not None
    expected = {oracle.key(i): i for i in oracle.state_at(drill.just_before_change())()}
    ddb = drill.client("dynamodb")
    keys = inc.injection.keys

    def probe() -> Probe:
        wrong = 0
        for key in keys:
            got = ddb.get_item(TableName=drill.table, Key=key, ConsistentRead=True).get("Item")
            want = expected.get(oracle.key(key))
            if not _same(got, want):
                wrong += 1
        return Probe(wrong == 0, f"{wrong} of {len(keys)} items not yet repaired")

    WaitPolicy(PHASE_ITEM_REPAIRED, timeout, first_interval=0.05, max_interval=_cap(drill, 0.5)).run(probe, sleep=sleep)
    inc.repaired_at = utcnow()
    note_invocation(drill)
    decisions(drill)


def _same(got: dict[str, Any] | None, want: dict[str, Any] | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    from dr_infra.equivalence import canonical

    return canonical(got) == canonical(want)
