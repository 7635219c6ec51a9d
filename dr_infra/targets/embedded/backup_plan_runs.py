"""A backup plan's scheduled runs on the embedded target: a backup job per selected table, dated when due.

The job's ``CreatedBy`` names the plan and rule, the rule's ``RecoveryPointTags`` and ``Lifecycle`` go with it
(https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RecoveryPointCreator.html). See :mod:`backup_schedule`
for what AWS does and what is modelled.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from moto.backup.models import BackupBackend, Plan
from moto.dynamodb.models import dynamodb_backends

from dr_infra.targets.embedded import backup, backup_model
from dr_infra.targets.embedded import backup_coverage as coverage
from dr_infra.targets.embedded.backup_plan_clock import PlanClock, iso
from dr_infra.targets.schedule_expression import Schedule, ScheduleError, parse

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.get_backup_plan",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.Backup",
)


@functools.lru_cache(maxsize=512)
def _parsed(expression: str, timezone: str | None) -> Schedule:
    return parse(expression, timezone)


def schedule_of(rule: dict[str, Any], clock: PlanClock) -> Schedule | None:
    try:
        return _parsed(
            str(rule.get("ScheduleExpression") or "cron(0 5 ? * * *)"), rule.get("ScheduleExpressionTimezone")
        )
    except ScheduleError as exc:
        message = f"rule {rule.get('RuleName')}: {exc}"
        if message not in clock.errors:
            clock.errors.append(message)
        return None


def run(backend: BackupBackend, plan: Plan, rule: dict[str, Any], clock: PlanClock, due: float) -> None:
    """One scheduled run of ``rule``: a backup job per selected table, dated when it was due."""
    vault = str(rule.get("TargetBackupVaultName"))
    if vault not in backend.vaults:
        clock.note(clock.runs, {"rule": rule.get("RuleName"), "due": iso(due), "error": f"vault {vault} not found"})
        return
    wall = clock.wall_at(due)
    for table_arn, role in coverage.selected_tables(backend, plan, clock.errors):
        job = backup.start_backup_job(
            backend,
            vault,
            table_arn,
            role,
            lifecycle=rule.get("Lifecycle"),
            recovery_point_tags=rule.get("RecoveryPointTags"),
            start_window_minutes=rule.get("StartWindowMinutes"),
        )
        job.created = wall
        job.created_by = {
            "BackupPlanId": plan.backup_plan_id,
            "BackupPlanArn": plan.backup_plan_arn,
            "BackupPlanVersion": plan.version_id,
            "BackupRuleId": rule.get("RuleId"),
        }
        redate_snapshot(job, wall)
        clock.note(
            clock.runs,
            {
                "rule": rule.get("RuleName"),
                "due": iso(due),
                "created_at": iso(wall),
                "job_id": job.job_id,
                "recovery_point_arn": job.recovery_point_arn,
                "resource_arn": table_arn,
            },
        )


def redate_snapshot(job: backup.BackupJob, wall: float) -> None:
    """The DynamoDB backup behind the recovery point carries the same creation time (DescribeBackup)."""
    _, region, _ = backup_model.table_of(job.resource_arn)
    snapshot = dynamodb_backends[job.account_id][region].backups.get(job.snapshot_arn)
    if snapshot is not None:
        snapshot.creation_date_time = datetime.fromtimestamp(wall, UTC)
