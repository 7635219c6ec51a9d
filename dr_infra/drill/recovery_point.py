"""A recovery point on demand: an AWS Backup job of the drill's table, waited for and recorded as evidence.

The job is started with StartBackupJob and tagged with the run's tags (the monitor may restore only this run's
recovery points: https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html), then followed
until COMPLETED within the policy's backup job timeout (minutes on AWS).
"""

from __future__ import annotations

from dr_infra.drill.state import Drill
from dr_infra.drill.waits import PHASE_BACKUP_JOB, WaitPolicy, backup_job_probe
from dr_infra.report.journal import iso


def take_recovery_point(drill: Drill) -> str:
    """Back the table up now; the recovery point's ARN, also the incident's (the newest one before the change).
    The step requires the target's ``backup_jobs`` first (dr_infra.bdd.needs lists it for drdrill plan)."""
    stack = drill.require_stack()
    backup = drill.client("backup")
    job = backup.start_backup_job(  # tagged: the monitor may restore only this run's recovery points
        BackupVaultName=stack.names.vault,
        ResourceArn=stack.table_arn,
        IamRoleArn=stack.backup_role_arn,
        RecoveryPointTags=stack.names.tags(),
    )
    limit = drill.policy.backup_job_timeout_seconds  # minutes on AWS: policies/aws.toml
    done = WaitPolicy(PHASE_BACKUP_JOB, limit).run(backup_job_probe(backup, job["BackupJobId"])).value
    arn = str(done["RecoveryPointArn"])
    point = backup.describe_recovery_point(BackupVaultName=stack.names.vault, RecoveryPointArn=arn)
    created = point.get("CreationDate")
    drill.incident.recovery_point_arn = arn
    drill.incident.recovery_point_at = created
    drill.record.add_evidence("recovery_points", {"arn": arn, "created_at": iso(created), "origin": "on demand"})
    return arn
