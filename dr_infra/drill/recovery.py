"""Follow a recovery from the outside: find the restore the monitor started, wait for it, verify it.

The framework never asks the monitor how it did; it reads what the monitor logged (CloudWatch Logs), what
AWS Backup and DynamoDB report (DescribeRestoreJob, DescribeTable), and compares data with the oracle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from dr_infra.drill.restore_count import restored_tables, settled_restores, started_restores
from dr_infra.drill.state import Drill
from dr_infra.drill.waits import (
    PHASE_ITEM_REPAIRED,
    PHASE_RESTORE_JOB,
    PHASE_RESTORE_STARTED,
    PHASE_TABLE_ACTIVE,
    Probe,
    WaitPolicy,
    restore_job_probe,
    table_active_probe,
)
from dr_infra.errors import DrDrillError, RestoreFailed
from dr_infra.report.journal import iso, utcnow
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
    """Seconds left until ``deadline`` (0 once it has passed: the next phase polls once and stops, never later)."""
    return max(0.0, deadline - time.monotonic())


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


def _job_evidence(
    drill: Drill, job_id: str, job: dict[str, Any], started: datetime | None, completed: datetime | None
) -> dict[str, Any]:
    """A restore job as the journal keeps it (restore-jobs.csv is rendered from these), finished or FAILED."""
    return {
        "job_id": job_id,
        "status": job.get("Status"),
        "status_message": job.get("StatusMessage"),
        "resource_arn": drill.require_stack().table_arn,
        "recovery_point_arn": job.get("RecoveryPointArn"),
        "created_resource_arn": job.get("CreatedResourceArn", ""),
        "created_at": iso(started),
        "completed_at": iso(completed),
    }


def follow_backup_restore(
    drill: Drill, job_id: str, deadline: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait for an AWS Backup restore job and its new table; fill the incident's timeline and evidence."""
    inc = drill.incident
    backup = drill.client("backup")
    inc.restore_job_id = job_id
    try:
        job = (
            WaitPolicy(PHASE_RESTORE_JOB, remaining(deadline), max_interval=_cap(drill, 10.0))
            .run(restore_job_probe(backup, job_id), sleep=sleep)
            .value
        )
    except RestoreFailed:
        failed = backup.describe_restore_job(RestoreJobId=job_id)
        inc.restore_started_at = _aware(failed.get("CreationDate"))
        drill.record.add_evidence(
            "restore_jobs",
            _job_evidence(drill, job_id, failed, inc.restore_started_at, _aware(failed.get("CompletionDate"))),
        )
        raise
    inc.restore_started_at = _aware(job.get("CreationDate"))
    inc.restore_completed_at = _aware(job.get("CompletionDate")) or utcnow()
    inc.recovery_point_arn = job.get("RecoveryPointArn")
    inc.recovery_point_at = _aware(job.get("RecoveryPointCreationDate")) or inc.recovery_point_at
    created = job.get("CreatedResourceArn", "")
    inc.restored_table = created.rsplit("/", 1)[-1] if created else inc.restored_table
    drill.record.add_evidence(
        "restore_jobs",
        {
            **_job_evidence(drill, job_id, job, inc.restore_started_at, inc.restore_completed_at),
            "duration_s": round((inc.restore_completed_at - inc.restore_started_at).total_seconds(), 3)
            if inc.restore_started_at and inc.restore_completed_at
            else None,
            "percent_done": job.get("PercentDone"),
            "recovery_point_created_at": iso(inc.recovery_point_at),
        },
    )
    if inc.recovery_point_arn:
        drill.record.add_evidence(
            "recovery_points",
            {
                "arn": inc.recovery_point_arn,
                "created_at": iso(inc.recovery_point_at),
                "origin": recovery_point_origin(drill, inc.recovery_point_arn),
            },
        )
    wait_table_active(drill, deadline, sleep)


def recovery_point_origin(drill: Drill, arn: str) -> str:
    """``backup plan <id>`` or ``on demand``: DescribeRecoveryPoint's ``CreatedBy`` names the plan that made it.

    https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RecoveryPointCreator.html
    """
    try:
        point = drill.client("backup").describe_recovery_point(
            BackupVaultName=drill.require_stack().names.vault, RecoveryPointArn=arn
        )
    except ClientError as exc:
        return f"unknown ({exc.response.get('Error', {}).get('Code', 'error')})"
    plan = (point.get("CreatedBy") or {}).get("BackupPlanId")
    origin = f"backup plan {plan}" if plan else "on demand"
    made = f"made by {origin} (scheduled)" if plan else "taken on demand"
    drill.record.add_evidence("notes", f"the restore used a recovery point {made}: {arn}")
    return origin


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
    if drill.require_stack().spec.user_monitor and not inc.table_lost:
        from dr_infra.drill import user_monitor

        user_monitor.await_recovery(drill, deadline, sleep)
        return
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
    elif inc.restored_table is not None and inc.table_active_at is None:
        # A restore the drill started itself (the table-loss runbook's point-in-time restore): wait for it.
        wait_table_active(drill, deadline, sleep)
        inc.restore_completed_at = inc.table_active_at


def _budget(drill: Drill, limit: float) -> float:
    """What is left of a time limit counted from the harmful change (the RTO's start), not from the step."""
    change_at = drill.incident.change_at
    if change_at is None:
        return limit
    return max(0.0, limit - (utcnow() - change_at).total_seconds())


def _judge_limit(drill: Drill, limit: float, end: datetime | None, what: str) -> None:
    """A time-limited step passes only when the figure the report shows is within the limit: the harmful
    change to ``end`` (the RTO's own clock), never the time the step happened to wait."""
    change_at = drill.incident.change_at
    if change_at is None or end is None:
        return
    took = (end - change_at).total_seconds()
    figure = drill.aws_seconds(took)
    if figure > limit:
        aws = f" ({figure:.0f} s AWS-equivalent)" if figure != took else ""
        raise AssertionError(f"{what} {took:.3f} s after the harmful change{aws}, beyond the {limit:g} s limit")


def recover_within(drill: Drill, limit: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """``a restore job completes within N seconds``: the restored table is ACTIVE at most ``limit`` seconds after
    the harmful change, judged on the measured figure (its AWS equivalent under aws-scaled: ``limit`` is AWS time)."""
    await_recovery(drill, _budget(drill, drill.wall_seconds(limit)), sleep)
    _judge_limit(drill, limit, drill.incident.table_active_at, "the restored table became ACTIVE")


def repair_within(drill: Drill, limit: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """``the table is repaired in place within N seconds``, judged on the measured figure."""
    await_item_repair(drill, _budget(drill, drill.wall_seconds(limit)), sleep)
    _judge_limit(drill, limit, drill.incident.repaired_at, "the table was repaired")


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
    from dr_infra.verify.equivalence import canonical

    return canonical(got) == canonical(want)


__all__ = [
    "STARTED",
    "await_item_repair",
    "await_recovery",
    "decisions",
    "follow_backup_restore",
    "harmful_decisions",
    "key_text",
    "note_invocation",
    "note_stream_record",
    "restored_tables",
    "settled_restores",
    "started_restores",
    "wait_restore_started",
    "wait_table_active",
]
