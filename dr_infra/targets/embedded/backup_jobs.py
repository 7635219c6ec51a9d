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
takes ``EmbeddedSettings.backup_job_seconds``. Only DynamoDB table ARNs can be backed up. Lists are paged by
:mod:`backup_pages`.
"""

from __future__ import annotations

from typing import Any

from moto.backup.exceptions import InvalidParameterValueException, InvalidRequestException, ResourceNotFoundException
from moto.backup.models import BackupBackend, backup_backends
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded import backup_service_role, backup_tags, history, process_state
from dr_infra.targets.embedded.backup_plans import DEFAULT_START_WINDOW, MAX_WINDOW, MIN_START_WINDOW, check_lifecycle
from dr_infra.targets.embedded.backup_selections import ROLE_ARN

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.describe_backup_vault",
    "moto.backup.exceptions.InvalidRequestException",
    "moto.backup.exceptions.ResourceNotFoundException",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.DynamoDBBackend.create_backup",
    "moto.dynamodb.models.DynamoDBBackend.delete_backup",
    "moto.dynamodb.models.table.Backup.arn",
)


def check_start_backup_job(
    backend: BackupBackend,
    vault_name: Any,
    resource_arn: Any,
    iam_role_arn: Any,
    lifecycle: Any,
    start_window: Any,
    complete_window: Any,
    recovery_point_tags: Any = None,
) -> None:
    """What AWS checks in a StartBackupJob request beyond the vault and the resource.

    ``IamRoleArn`` must name an existing IAM role (AWS Backup assumes it); ``StartWindowMinutes`` at least 60,
    both windows at most 52,560,000 minutes; ``Lifecycle`` as in a plan rule (DeleteAfterDays at least
    MoveToColdStorageAfterDays + 90); ``RecoveryPointTags`` a map of tags (:func:`backup_tags.check_tags`).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html
    Only requests are checked: a plan's own runs (:mod:`backup_schedule`) start jobs with the selection's role.
    The vault (ResourceNotFoundException) and the resource ARN are checked first, as :func:`start_backup_job` does.
    """
    backend.describe_backup_vault(str(vault_name or ""))
    model.table_of(str(resource_arn or ""))
    if not isinstance(iam_role_arn, str) or not ROLE_ARN.match(iam_role_arn):
        raise InvalidParameterValueException(
            f"Invalid IamRoleArn {iam_role_arn!r}: give the ARN of an IAM role, arn:aws:iam::ACCOUNT:role/NAME"
        )
    try:
        iam_backends[backend.account_id][get_partition(backend.region_name)].get_role_by_arn(iam_role_arn)
    except Exception:
        raise InvalidParameterValueException(f"Invalid IAM role ARN {iam_role_arn}: the role does not exist") from None
    if start_window is not None and not (
        isinstance(start_window, int) and MIN_START_WINDOW <= start_window <= MAX_WINDOW
    ):
        raise InvalidParameterValueException(
            f"StartWindowMinutes must be at least {MIN_START_WINDOW} and at most {MAX_WINDOW}, got {start_window}"
        )
    if complete_window is not None and not (isinstance(complete_window, int) and 1 <= complete_window <= MAX_WINDOW):
        raise InvalidParameterValueException(
            f"CompleteWindowMinutes must be at least 1 and at most {MAX_WINDOW}, got {complete_window}"
        )
    backup_tags.check_tags(recovery_point_tags)
    if lifecycle is not None:
        if not isinstance(lifecycle, dict):
            raise InvalidParameterValueException("Lifecycle must be an object")
        try:
            check_lifecycle("on-demand", lifecycle, continuous=False)
        except InvalidParameterValueException as err:
            raise InvalidParameterValueException(err.message.removeprefix("Error in rule on-demand : ")) from None


def start_backup_job(
    backend: BackupBackend,
    vault_name: str,
    resource_arn: str,
    iam_role_arn: str,
    idempotency_token: str | None = None,
    lifecycle: dict[str, Any] | None = None,
    recovery_point_tags: dict[str, str] | None = None,
    start_window_minutes: int | None = None,
) -> model.BackupJob:
    """A backup job of one DynamoDB table; its recovery point gets an AWS Backup ARN, its data a DynamoDB backup,
    and ``recovery_point_tags`` (:mod:`backup_tags`). ``start_window_minutes``: the request's or the plan rule's
    StartWindowMinutes; unset, AWS's default of 8 hours (``StartBy``, :meth:`model.BackupJob.start_by`)."""
    window = DEFAULT_START_WINDOW if start_window_minutes is None else int(start_window_minutes)
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
        problem = backup_service_role.backup_problem(iam_role_arn, backend.account_id, region, resource_arn)
        if problem is not None:  # AWS Backup cannot act as the role: the job FAILS, no recovery point
            failed = model.BackupJob(
                job_id=job_id,
                account_id=backend.account_id,
                vault_name=vault_name,
                vault_arn=vault.backup_vault_arn,
                resource_arn=resource_arn,
                resource_name=table_name,
                recovery_point_arn="",
                iam_role_arn=iam_role_arn,
                created=history.now(),
                duration=process_state.current_settings().backup_job_seconds,
                lifecycle=lifecycle,
                start_window_minutes=window,
                failure=problem,
            )
            state.backup_jobs[job_id] = failed
            if idempotency_token:
                state.backup_tokens[idempotency_token] = job_id
            return failed
        snapshot = ddb.create_backup(table_name, f"AwsBackup-{job_id}")
        snapshot.type = "AWS_BACKUP"
        point_arn = model.recovery_point_arn(
            get_partition(backend.region_name), backend.region_name, backend.account_id
        )
        job = model.BackupJob(
            job_id=job_id,
            account_id=backend.account_id,
            vault_name=vault_name,
            vault_arn=vault.backup_vault_arn,
            resource_arn=resource_arn,
            resource_name=table_name,
            recovery_point_arn=point_arn,
            iam_role_arn=iam_role_arn,
            created=history.now(),
            duration=process_state.current_settings().backup_job_seconds,
            lifecycle=lifecycle,
            start_window_minutes=window,
            snapshot_arn=snapshot.arn,
        )
        state.backup_jobs[job_id] = job
        state.recovery_points[point_arn] = model.RecoveryPoint(
            arn=point_arn,
            vault_name=vault_name,
            vault_arn=vault.backup_vault_arn,
            resource_arn=resource_arn,
            resource_name=table_name,
            iam_role_arn=iam_role_arn,
            job=job,
        )
        backup_tags.tag_recovery_point(backend, point_arn, backup_tags.check_tags(recovery_point_tags))
        vault.num_of_recovery_points += 1
        if idempotency_token:
            state.backup_tokens[idempotency_token] = job_id
        return job


def backup_in_progress(table_arn: str, at: float) -> model.BackupJob | None:
    """A backup job of ``table_arn`` still CREATED or RUNNING, in any region of its account (or None)."""
    account = table_arn.split(":")[4] if table_arn.count(":") >= 5 else ""
    with model.lock:
        for backend in list(backup_backends[account].values()) if account else []:
            for job in model.state_of(backend).backup_jobs.values():
                if job.resource_arn == table_arn and job.state(at) not in ("COMPLETED", "FAILED"):
                    return job
    return None


def managed_snapshot(snapshot_arn: str) -> model.RecoveryPoint | None:
    """The recovery point whose data is the DynamoDB backup ``snapshot_arn`` (None: a plain DynamoDB backup)."""
    account = snapshot_arn.split(":")[4] if snapshot_arn.count(":") >= 5 else ""
    with model.lock:
        for backend in list(backup_backends[account].values()) if account else []:
            for point in model.state_of(backend).recovery_points.values():
                if point.job.snapshot_arn == snapshot_arn:
                    return point
    return None


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
        backup_tags.forget(backend, arn)
        vault = backend.describe_backup_vault(vault_name)
        vault.num_of_recovery_points = max(0, vault.num_of_recovery_points - 1)
        account, region, _ = model.table_of(point.resource_arn)
        ddb = dynamodb_backends[account][region]
        if point.job.snapshot_arn in ddb.backups:
            ddb.delete_backup(point.job.snapshot_arn)


def check_vault_deletable(backend: BackupBackend, vault_name: str) -> None:
    """AWS refuses to delete a vault that still holds recovery points."""
    with model.lock:
        count = sum(1 for p in model.state_of(backend).recovery_points.values() if p.vault_name == vault_name)
    if count:
        raise InvalidRequestException(
            f"Backup vault {vault_name} cannot be deleted because it contains {count} recovery point(s)"
        )
