"""AWS Backup backup jobs and the recovery points they produce, for DynamoDB tables.

What AWS does: StartBackupJob takes an on-demand backup of one resource into a vault. The job goes CREATED ->
RUNNING -> COMPLETED (or FAILED / ABORTED / EXPIRED) and produces a recovery point: a snapshot of the table at
that moment; DynamoDB lists it with ``BackupType: AWS_BACKUP``. A vault that still holds recovery points
cannot be deleted.
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteBackupVault.html

What moto 5.2.5 does instead: StartBackupJob and the recovery-point API are missing; DeleteBackupVault always
succeeds.

What is modelled here: snapshots are moto DynamoDB backups (``create_backup``), marked ``AWS_BACKUP``; the job
takes ``settings.current().backup_job_seconds``. Only DynamoDB table ARNs can be backed up. Pagination
(``NextToken``) is not modelled: lists return everything.
"""

from __future__ import annotations

from typing import Any

from moto.backup.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.backup.models import BackupBackend
from moto.dynamodb.models import dynamodb_backends

from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded import history, settings

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.describe_backup_vault",
    "moto.backup.exceptions.InvalidRequestException",
    "moto.backup.exceptions.ResourceNotFoundException",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.DynamoDBBackend.create_backup",
    "moto.dynamodb.models.DynamoDBBackend.delete_backup",
    "moto.dynamodb.models.table.Backup.arn",
)


def start_backup_job(
    backend: BackupBackend,
    vault_name: str,
    resource_arn: str,
    iam_role_arn: str,
    idempotency_token: str | None = None,
    lifecycle: dict[str, Any] | None = None,
) -> model.BackupJob:
    vault = backend.describe_backup_vault(vault_name)  # ResourceNotFoundException if missing
    if not resource_arn or not iam_role_arn:
        raise model.MissingParameterValueException("ResourceArn and IamRoleArn are required")
    account, region, table_name = model.table_of(resource_arn)
    with model.lock:
        state = model.state_of(backend)
        if idempotency_token and idempotency_token in state.backup_tokens:
            return state.backup_jobs[state.backup_tokens[idempotency_token]]
        ddb = dynamodb_backends[account][region]
        if table_name not in ddb.tables:
            raise ResourceNotFoundException(f"Resource {resource_arn} not found")
        job_id = model.new_job_id()
        snapshot = ddb.create_backup(table_name, f"AwsBackup-{job_id}")
        snapshot.type = "AWS_BACKUP"
        job = model.BackupJob(
            job_id=job_id,
            account_id=backend.account_id,
            vault_name=vault_name,
            vault_arn=vault.backup_vault_arn,
            resource_arn=resource_arn,
            resource_name=table_name,
            recovery_point_arn=snapshot.arn,
            iam_role_arn=iam_role_arn,
            created=history.now(),
            duration=settings.current().backup_job_seconds,
            lifecycle=lifecycle,
        )
        state.backup_jobs[job_id] = job
        state.recovery_points[snapshot.arn] = model.RecoveryPoint(
            arn=snapshot.arn,
            vault_name=vault_name,
            vault_arn=vault.backup_vault_arn,
            resource_arn=resource_arn,
            resource_name=table_name,
            iam_role_arn=iam_role_arn,
            job=job,
        )
        vault.num_of_recovery_points += 1
        if idempotency_token:
            state.backup_tokens[idempotency_token] = job_id
        return job


def describe_backup_job(backend: BackupBackend, job_id: str) -> model.BackupJob:
    with model.lock:
        job = model.state_of(backend).backup_jobs.get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Backup job {job_id} not found")
    return job


def list_backup_jobs(
    backend: BackupBackend,
    resource_arn: str | None = None,
    state: str | None = None,
    vault_name: str | None = None,
    resource_type: str | None = None,
) -> list[dict[str, Any]]:
    at = history.now()
    with model.lock:
        jobs = list(model.state_of(backend).backup_jobs.values())
    described = [job.describe(at) for job in jobs]
    return [
        d
        for d in described
        if (resource_arn is None or d["ResourceArn"] == resource_arn)
        and (state is None or d["State"] == state)
        and (vault_name is None or d["BackupVaultName"] == vault_name)
        and (resource_type is None or d["ResourceType"] == resource_type)
    ]


def recovery_point(backend: BackupBackend, arn: str, vault_name: str | None = None) -> model.RecoveryPoint:
    with model.lock:
        found = model.state_of(backend).recovery_points.get(arn)
    if found is None or (vault_name is not None and found.vault_name != vault_name):
        raise ResourceNotFoundException(f"Recovery point {arn} not found")
    return found


def list_recovery_points_by_vault(
    backend: BackupBackend, vault_name: str, resource_arn: str | None = None, resource_type: str | None = None
) -> list[model.RecoveryPoint]:
    backend.describe_backup_vault(vault_name)
    with model.lock:
        points = list(model.state_of(backend).recovery_points.values())
    return [
        p
        for p in points
        if p.vault_name == vault_name
        and (resource_arn is None or p.resource_arn == resource_arn)
        and (resource_type is None or resource_type == "DynamoDB")
    ]


def list_recovery_points_by_resource(backend: BackupBackend, resource_arn: str) -> list[model.RecoveryPoint]:
    with model.lock:
        points = list(model.state_of(backend).recovery_points.values())
    return [p for p in points if p.resource_arn == resource_arn]


def delete_recovery_point(backend: BackupBackend, vault_name: str, arn: str) -> None:
    point = recovery_point(backend, arn, vault_name)
    with model.lock:
        state = model.state_of(backend)
        if state.recovery_points.pop(arn, None) is None:
            return
        vault = backend.describe_backup_vault(vault_name)
        vault.num_of_recovery_points = max(0, vault.num_of_recovery_points - 1)
        account, region, _ = model.table_of(point.resource_arn)
        ddb = dynamodb_backends[account][region]
        if arn in ddb.backups:
            ddb.delete_backup(arn)


def check_vault_deletable(backend: BackupBackend, vault_name: str) -> None:
    """AWS refuses to delete a vault that still holds recovery points."""
    with model.lock:
        count = sum(1 for p in model.state_of(backend).recovery_points.values() if p.vault_name == vault_name)
    if count:
        raise InvalidRequestException(
            f"Backup vault {vault_name} cannot be deleted because it contains {count} recovery point(s)"
        )
