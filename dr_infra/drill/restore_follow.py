"""Follow a restore that has started to an ACTIVE restored table: the restore job, its recovery point, the table.

Shared by drdrill's own monitor (:mod:`dr_infra.drill.recovery`) and a user's monitor
(:mod:`dr_infra.drill.user_monitor`): both end the same way once AWS shows the restore.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from dr_infra.drill.state import Drill
from dr_infra.drill.waits import (
    PHASE_RESTORE_JOB,
    PHASE_TABLE_ACTIVE,
    WaitPolicy,
    restore_job_probe,
    table_active_probe,
)
from dr_infra.errors import DrDrillError, RestoreFailed
from dr_infra.report.journal import iso, utcnow


def aware(moment: Any) -> datetime | None:
    """A datetime from boto3 as timezone-aware UTC (naive ones are UTC), anything else ``None``."""
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def poll_cap(drill: Drill, longest: float) -> float:
    """Poll no slower than ``longest``, and no slower than the target's own pace."""
    return min(longest, drill.target.max_poll_interval)


def remaining(deadline: float) -> float:
    """Seconds left until ``deadline`` (0 once it has passed: the next phase polls once and stops, never later)."""
    return max(0.0, deadline - time.monotonic())


def _job_evidence(
    drill: Drill, job_id: str, job: Mapping[str, Any], started: datetime | None, completed: datetime | None
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
            WaitPolicy(PHASE_RESTORE_JOB, remaining(deadline), max_interval=poll_cap(drill, 10.0))
            .run(restore_job_probe(backup, job_id), sleep=sleep)
            .value
        )
    except RestoreFailed:
        failed = backup.describe_restore_job(RestoreJobId=job_id)
        inc.restore_started_at = aware(failed.get("CreationDate"))
        drill.record.add_evidence(
            "restore_jobs",
            _job_evidence(drill, job_id, failed, inc.restore_started_at, aware(failed.get("CompletionDate"))),
        )
        raise
    inc.restore_started_at = aware(job.get("CreationDate"))
    inc.restore_completed_at = aware(job.get("CompletionDate")) or utcnow()
    inc.recovery_point_arn = job.get("RecoveryPointArn")
    inc.recovery_point_at = aware(job.get("RecoveryPointCreationDate")) or inc.recovery_point_at
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
        WaitPolicy(PHASE_TABLE_ACTIVE, remaining(deadline), max_interval=poll_cap(drill, 5.0))
        .run(table_active_probe(drill.client("dynamodb"), inc.restored_table), sleep=sleep)
        .value
    )
    inc.table_active_at = utcnow()
    summary = table.get("RestoreSummary") or {}
    restore_time = aware(summary.get("RestoreDateTime"))
    if drill.strategy == "pitr" and restore_time is not None:
        inc.restore_time = restore_time
        drill.record.add_evidence("restore_times", iso(restore_time))
    result: dict[str, Any] = table
    return result
