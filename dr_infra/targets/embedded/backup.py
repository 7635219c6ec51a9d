"""AWS Backup for DynamoDB: selections, backup jobs, recovery points and restore jobs.

What AWS does:

* Backup selections assign resources to a backup plan with an IAM role (CreateBackupSelection,
  GetBackupSelection, ListBackupSelections, DeleteBackupSelection).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html
* StartBackupJob takes an on-demand backup of one resource into a vault. The job goes CREATED -> RUNNING ->
  COMPLETED (or FAILED / ABORTED / EXPIRED) and produces a recovery point: a snapshot of the table at that
  moment. For DynamoDB without "advanced features" the recovery point is a DynamoDB backup and its ARN is the
  DynamoDB backup ARN (``arn:aws:dynamodb:<region>:<account>:table/<name>/backup/<id>``); DynamoDB lists it
  with ``BackupType: AWS_BACKUP``. A vault that still holds recovery points cannot be deleted.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteBackupVault.html
* StartRestoreJob restores a recovery point with the given ``Metadata`` (DynamoDB: ``targetTableName``) and
  IAM role (``IamRoleArn``; AWS Backup's default service role when omitted). An ``IdempotencyToken`` makes
  retries return the same job instead of starting another restore. The job goes PENDING -> RUNNING ->
  COMPLETED or FAILED with a ``StatusMessage``; ``PercentDone`` rises; ``CreatedResourceArn`` names the new
  table. The restored table is a new table with the recovery point's data and no stream, PITR, TTL or tags.
  Restoring onto an existing table name fails the job. AWS Backup allows a limited number of concurrent
  restore jobs per account (50 here); beyond it StartRestoreJob raises ``LimitExceededException``.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html

What moto 5.2.5 does instead: only plan and vault CRUD; everything above is NotImplemented (HTTP 500) or has
no route (HTTP 404); DeleteBackupVault always succeeds.

What is modelled here (the HTTP side is in :mod:`backup_routes`): per-account/region state kept on moto's
``BackupBackend`` (so ``/moto-api/reset`` clears it). Snapshots are moto DynamoDB backups (``create_backup``),
marked ``AWS_BACKUP``. Job states are computed from elapsed time when read (no threads): a backup job is
CREATED for the first quarter of ``settings.current().backup_job_seconds``, then RUNNING, then COMPLETED; a
restore job is PENDING for the first tenth of its duration (``settings.current().restore_seconds``, or the
``restore_job_duration`` fault's ``seconds``), then RUNNING, then COMPLETED or FAILED. A successful restore's
table exists from the start, ``CREATING`` until the job completes. Faults: ``restore_job_fails`` (the job ends
FAILED with the fault's ``message``, no table is created), ``start_restore_denied``
(``AccessDeniedException``), ``restore_job_duration``. Only DynamoDB table ARNs can be backed up. Plan rules
never fire by wall clock: a drill asks for "the backup the plan would take now" with StartBackupJob on the
plan's vault and selection role. Pagination (``NextToken``) is not modelled: lists return everything.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.backup.exceptions import (
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, backup_backends
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from dr_infra.targets.embedded import history, settings
from dr_infra.targets.embedded.faults import FAULTS
from dr_infra.targets.embedded.restored import RestoringTable, item_attributes, point_in_time_restores_in_flight

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.describe_backup_vault",
    "moto.backup.models.BackupBackend.get_backup_plan",
    "moto.backup.models.backup_backends",
    "moto.backup.exceptions.InvalidParameterValueException",
    "moto.backup.exceptions.InvalidRequestException",
    "moto.backup.exceptions.ResourceNotFoundException",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.DynamoDBBackend.create_backup",
    "moto.dynamodb.models.DynamoDBBackend.get_backup",
    "moto.dynamodb.models.DynamoDBBackend.delete_backup",
    "moto.dynamodb.models.table.Backup.arn",
    "moto.iam.models.iam_backends",
    "moto.iam.models.IAMBackend.get_role_by_arn",
    "moto.utilities.utils.get_partition",
    "moto.core.exceptions.JsonRESTError",
)

MAX_RESTORES_IN_FLIGHT = 50
DEFAULT_ROLE_NAME = "service-role/AWSBackupDefaultServiceRole"


class AccessDeniedException(JsonRESTError):
    code = 403

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


class LimitExceededException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("LimitExceededException", message)


class MissingParameterValueException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("MissingParameterValueException", message)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _job_id() -> str:
    return str(uuid.uuid4()).upper()


@dataclass
class Selection:
    selection_id: str
    plan_id: str
    selection: dict[str, Any]
    creator_request_id: str | None
    created: float = field(default_factory=history.now)


@dataclass
class BackupJob:
    job_id: str
    account_id: str
    vault_name: str
    vault_arn: str
    resource_arn: str
    resource_name: str
    recovery_point_arn: str
    iam_role_arn: str
    created: float
    duration: float
    lifecycle: dict[str, Any] | None

    def state(self, at: float) -> str:
        if at >= self.created + self.duration:
            return "COMPLETED"
        return "CREATED" if at < self.created + self.duration / 4 else "RUNNING"

    def describe(self, at: float) -> dict[str, Any]:
        state = self.state(at)
        done = min(1.0, (at - self.created) / self.duration) if self.duration > 0 else 1.0
        result: dict[str, Any] = {
            "AccountId": self.account_id,
            "BackupJobId": self.job_id,
            "BackupVaultName": self.vault_name,
            "BackupVaultArn": self.vault_arn,
            "RecoveryPointArn": self.recovery_point_arn,
            "ResourceArn": self.resource_arn,
            "ResourceName": self.resource_name,
            "ResourceType": "DynamoDB",
            "CreationDate": _utc(self.created),
            "State": state,
            "PercentDone": f"{100.0 * done:.1f}",
            "BackupSizeInBytes": 0,
            "IamRoleArn": self.iam_role_arn,
            "BackupType": "FULL",
            "IsParent": False,
            "StartBy": _utc(self.created + 8 * 3600),
            "ExpectedCompletionDate": _utc(self.created + self.duration),
            "InitiationDate": _utc(self.created),
        }
        if self.lifecycle:
            result["RecoveryPointLifecycle"] = self.lifecycle
        if state == "COMPLETED":
            result["CompletionDate"] = _utc(self.created + self.duration)
        return result


@dataclass
class RecoveryPoint:
    arn: str
    vault_name: str
    vault_arn: str
    resource_arn: str
    resource_name: str
    iam_role_arn: str
    job: BackupJob

    def status(self, at: float) -> str:
        return "COMPLETED" if self.job.state(at) == "COMPLETED" else "CREATING"

    def describe(self, at: float) -> dict[str, Any]:
        status = self.status(at)
        result: dict[str, Any] = {
            "RecoveryPointArn": self.arn,
            "BackupVaultName": self.vault_name,
            "BackupVaultArn": self.vault_arn,
            "ResourceArn": self.resource_arn,
            "ResourceName": self.resource_name,
            "ResourceType": "DynamoDB",
            "IamRoleArn": self.iam_role_arn,
            "Status": status,
            "CreationDate": _utc(self.job.created),
            "InitiationDate": _utc(self.job.created),
            "BackupSizeInBytes": 0,
            "IsEncrypted": False,
            "StorageClass": "WARM",
            "IsParent": False,
            "VaultType": "BACKUP_VAULT",
        }
        if self.job.lifecycle:
            result["Lifecycle"] = self.job.lifecycle
        if status == "COMPLETED":
            result["CompletionDate"] = _utc(self.job.created + self.job.duration)
        return result


@dataclass
class RestoreJob:
    job_id: str
    account_id: str
    recovery_point: RecoveryPoint
    target_table_arn: str
    iam_role_arn: str
    created: float
    duration: float
    failure: str | None  # StatusMessage of a job that ends FAILED

    def status(self, at: float) -> str:
        if at >= self.created + self.duration:
            return "FAILED" if self.failure else "COMPLETED"
        return "PENDING" if at < self.created + self.duration / 10 else "RUNNING"

    def in_flight(self, at: float) -> bool:
        return self.status(at) in ("PENDING", "RUNNING")

    def describe(self, at: float) -> dict[str, Any]:
        status = self.status(at)
        done = min(1.0, (at - self.created) / self.duration) if self.duration > 0 else 1.0
        result: dict[str, Any] = {
            "AccountId": self.account_id,
            "RestoreJobId": self.job_id,
            "RecoveryPointArn": self.recovery_point.arn,
            "SourceResourceArn": self.recovery_point.resource_arn,
            "BackupVaultArn": self.recovery_point.vault_arn,
            "CreationDate": _utc(self.created),
            "Status": status,
            "PercentDone": f"{100.0 * done:.2f}%",
            "BackupSizeInBytes": 0,
            "IamRoleArn": self.iam_role_arn,
            "ExpectedCompletionTimeMinutes": max(1, round(self.duration / 60)),
            "ResourceType": "DynamoDB",
            "RecoveryPointCreationDate": _utc(self.recovery_point.job.created),
            "IsParent": False,
        }
        if status in ("COMPLETED", "FAILED"):
            result["CompletionDate"] = _utc(self.created + self.duration)
        if status == "COMPLETED":
            result["CreatedResourceArn"] = self.target_table_arn
        if status == "FAILED":
            result["StatusMessage"] = self.failure
        return result


@dataclass
class BackupState:
    """drdrill's AWS Backup state for one account and region."""

    selections: dict[str, dict[str, Selection]] = field(default_factory=dict)  # plan id -> selection id -> ...
    backup_jobs: dict[str, BackupJob] = field(default_factory=dict)
    recovery_points: dict[str, RecoveryPoint] = field(default_factory=dict)
    restore_jobs: dict[str, RestoreJob] = field(default_factory=dict)
    backup_tokens: dict[str, str] = field(default_factory=dict)
    restore_tokens: dict[str, str] = field(default_factory=dict)


_lock = threading.RLock()


def state_of(backend: BackupBackend) -> BackupState:
    """The drdrill state attached to one moto Backup backend (created on first use)."""
    with _lock:
        state: BackupState | None = backend.__dict__.get("_drdrill_backup")
        if state is None:
            state = BackupState()
            backend.__dict__["_drdrill_backup"] = state
        return state


# --- selections ---------------------------------------------------------------------------------------------


def create_backup_selection(
    backend: BackupBackend, plan_id: str, selection: dict[str, Any] | None, creator_request_id: str | None
) -> Selection:
    backend.get_backup_plan(plan_id, None)  # ResourceNotFoundException if missing
    if not selection:
        raise MissingParameterValueException("BackupSelection is required")
    for required in ("SelectionName", "IamRoleArn"):
        if not selection.get(required):
            raise InvalidParameterValueException(f"BackupSelection.{required} is required")
    with _lock:
        plan_selections = state_of(backend).selections.setdefault(plan_id, {})
        if creator_request_id:
            for existing in plan_selections.values():
                if existing.creator_request_id == creator_request_id:
                    return existing
        created = Selection(str(uuid.uuid4()), plan_id, dict(selection), creator_request_id)
        plan_selections[created.selection_id] = created
        return created


def get_backup_selection(backend: BackupBackend, plan_id: str, selection_id: str) -> Selection:
    with _lock:
        found = state_of(backend).selections.get(plan_id, {}).get(selection_id)
    if found is None:
        raise ResourceNotFoundException(f"Backup selection {selection_id} of plan {plan_id} not found")
    return found


def list_backup_selections(backend: BackupBackend, plan_id: str) -> list[Selection]:
    backend.get_backup_plan(plan_id, None)
    with _lock:
        return list(state_of(backend).selections.get(plan_id, {}).values())


def delete_backup_selection(backend: BackupBackend, plan_id: str, selection_id: str) -> None:
    get_backup_selection(backend, plan_id, selection_id)
    with _lock:
        del state_of(backend).selections[plan_id][selection_id]


# --- backup jobs and recovery points ------------------------------------------------------------------------


def _table_of(resource_arn: str) -> tuple[str, str, str]:
    """(account, region, table name) of a DynamoDB table ARN."""
    parts = resource_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/") or "/" in parts[5][6:]:
        raise InvalidParameterValueException(
            f"Invalid resource ARN {resource_arn}: the embedded target backs up DynamoDB tables only"
        )
    return parts[4], parts[3], parts[5][len("table/") :]


def start_backup_job(
    backend: BackupBackend,
    vault_name: str,
    resource_arn: str,
    iam_role_arn: str,
    idempotency_token: str | None = None,
    lifecycle: dict[str, Any] | None = None,
) -> BackupJob:
    vault = backend.describe_backup_vault(vault_name)  # ResourceNotFoundException if missing
    if not resource_arn or not iam_role_arn:
        raise MissingParameterValueException("ResourceArn and IamRoleArn are required")
    account, region, table_name = _table_of(resource_arn)
    with _lock:
        state = state_of(backend)
        if idempotency_token and idempotency_token in state.backup_tokens:
            return state.backup_jobs[state.backup_tokens[idempotency_token]]
        ddb = dynamodb_backends[account][region]
        if table_name not in ddb.tables:
            raise ResourceNotFoundException(f"Resource {resource_arn} not found")
        job_id = _job_id()
        snapshot = ddb.create_backup(table_name, f"AwsBackup-{job_id}")
        snapshot.type = "AWS_BACKUP"
        job = BackupJob(
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
        state.recovery_points[snapshot.arn] = RecoveryPoint(
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


def describe_backup_job(backend: BackupBackend, job_id: str) -> BackupJob:
    with _lock:
        job = state_of(backend).backup_jobs.get(job_id)
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
    with _lock:
        jobs = list(state_of(backend).backup_jobs.values())
    described = [job.describe(at) for job in jobs]
    return [
        d
        for d in described
        if (resource_arn is None or d["ResourceArn"] == resource_arn)
        and (state is None or d["State"] == state)
        and (vault_name is None or d["BackupVaultName"] == vault_name)
        and (resource_type is None or d["ResourceType"] == resource_type)
    ]


def recovery_point(backend: BackupBackend, arn: str, vault_name: str | None = None) -> RecoveryPoint:
    with _lock:
        found = state_of(backend).recovery_points.get(arn)
    if found is None or (vault_name is not None and found.vault_name != vault_name):
        raise ResourceNotFoundException(f"Recovery point {arn} not found")
    return found


def list_recovery_points_by_vault(
    backend: BackupBackend, vault_name: str, resource_arn: str | None = None, resource_type: str | None = None
) -> list[RecoveryPoint]:
    backend.describe_backup_vault(vault_name)
    with _lock:
        points = list(state_of(backend).recovery_points.values())
    return [
        p
        for p in points
        if p.vault_name == vault_name
        and (resource_arn is None or p.resource_arn == resource_arn)
        and (resource_type is None or resource_type == "DynamoDB")
    ]


def list_recovery_points_by_resource(backend: BackupBackend, resource_arn: str) -> list[RecoveryPoint]:
    with _lock:
        points = list(state_of(backend).recovery_points.values())
    return [p for p in points if p.resource_arn == resource_arn]


def delete_recovery_point(backend: BackupBackend, vault_name: str, arn: str) -> None:
    point = recovery_point(backend, arn, vault_name)
    with _lock:
        state = state_of(backend)
        if state.recovery_points.pop(arn, None) is None:
            return
        vault = backend.describe_backup_vault(vault_name)
        vault.num_of_recovery_points = max(0, vault.num_of_recovery_points - 1)
        account, region, _ = _table_of(point.resource_arn)
        ddb = dynamodb_backends[account][region]
        if arn in ddb.backups:
            ddb.delete_backup(arn)


def check_vault_deletable(backend: BackupBackend, vault_name: str) -> None:
    """AWS refuses to delete a vault that still holds recovery points."""
    with _lock:
        count = sum(1 for p in state_of(backend).recovery_points.values() if p.vault_name == vault_name)
    if count:
        raise InvalidRequestException(
            f"Backup vault {vault_name} cannot be deleted because it contains {count} recovery point(s)"
        )


# --- restore jobs -------------------------------------------------------------------------------------------


def _check_role(account_id: str, region: str, role_arn: str) -> None:
    iam = iam_backends[account_id][get_partition(region)]
    try:
        iam.get_role_by_arn(role_arn)
    except Exception:
        raise InvalidParameterValueException(f"Invalid IAM role ARN {role_arn}: the role does not exist") from None


def restores_in_flight(account_id: str, at: float) -> int:
    """Every restore of the account still running: AWS Backup restore jobs and point-in-time restores.

    DynamoDB counts both against one quota of 50 concurrent restores per account
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-backup-restore).
    """
    count = 0
    for backend in list(backup_backends[account_id].values()):
        count += sum(1 for job in state_of(backend).restore_jobs.values() if job.in_flight(at))
    for ddb in list(dynamodb_backends[account_id].values()):
        count += point_in_time_restores_in_flight(list(ddb.tables.values()))
    return count


def start_restore_job(
    backend: BackupBackend,
    recovery_point_arn: str,
    metadata: dict[str, str] | None,
    iam_role_arn: str | None,
    idempotency_token: str | None,
) -> RestoreJob:
    # a scoped fault applies when the restore's target table or the recovery point's table is in its scope
    named_point = state_of(backend).recovery_points.get(recovery_point_arn or "")
    denied = FAULTS.take(
        "start_restore_denied",
        resource=(
            (metadata or {}).get("targetTableName"),
            recovery_point_arn,
            named_point.resource_arn if named_point is not None else None,
        ),
    )
    if denied is not None:
        raise AccessDeniedException(
            str(denied.get("message") or "User is not authorized to perform: backup:StartRestoreJob")
        )
    with _lock:
        state = state_of(backend)
        if idempotency_token and idempotency_token in state.restore_tokens:
            return state.restore_jobs[state.restore_tokens[idempotency_token]]
        if not recovery_point_arn:
            raise MissingParameterValueException("RecoveryPointArn is required")
        point = recovery_point(backend, recovery_point_arn)
        at = history.now()
        if point.status(at) != "COMPLETED":
            raise InvalidRequestException(f"Recovery point {recovery_point_arn} is not COMPLETED yet")
        target = (metadata or {}).get("targetTableName")
        if not target:
            raise InvalidParameterValueException("Metadata must contain targetTableName for a DynamoDB restore")
        partition = get_partition(backend.region_name)
        role = iam_role_arn or f"arn:{partition}:iam::{backend.account_id}:role/{DEFAULT_ROLE_NAME}"
        _check_role(backend.account_id, backend.region_name, role)
        if restores_in_flight(backend.account_id, at) >= MAX_RESTORES_IN_FLIGHT:
            raise LimitExceededException(
                f"Concurrent restore job limit of {MAX_RESTORES_IN_FLIGHT} for this account has been reached"
            )

        duration_fault = FAULTS.take("restore_job_duration", resource=(target, point.resource_arn))
        duration = float(duration_fault["seconds"]) if duration_fault else settings.current().restore_seconds
        account, region, _ = _table_of(point.resource_arn)
        ddb = dynamodb_backends[account][region]
        snapshot = ddb.get_backup(point.arn)
        failure: str | None = None
        failed_fault = FAULTS.take("restore_job_fails", resource=(target, point.resource_arn))
        if failed_fault is not None:
            failure = str(failed_fault.get("message") or "Restore job failed (drdrill fault)")
        elif target in ddb.tables:
            failure = f"Table already exists: {target}"
        job = RestoreJob(
            job_id=_job_id(),
            account_id=backend.account_id,
            recovery_point=point,
            target_table_arn=f"arn:{partition}:dynamodb:{region}:{account}:table/{target}",
            iam_role_arn=role,
            created=at,
            duration=duration,
            failure=failure,
        )
        if failure is None:
            restored = RestoringTable(  # type: ignore[abstract]  # moto's Table leaves CloudFormation hooks abstract
                target,
                source=snapshot.table,
                items=item_attributes(snapshot.table),
                ready_at=at + duration,
                restore_summary={
                    "SourceBackupArn": point.arn,
                    "SourceTableArn": point.resource_arn,
                    "RestoreDateTime": at,
                },
            )
            history.drop(history.table_id(restored))
            ddb.tables[target] = restored
        state.restore_jobs[job.job_id] = job
        if idempotency_token:
            state.restore_tokens[idempotency_token] = job.job_id
        return job


def describe_restore_job(backend: BackupBackend, job_id: str) -> RestoreJob:
    with _lock:
        job = state_of(backend).restore_jobs.get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Restore job {job_id} not found")
    return job


def list_restore_jobs(
    backend: BackupBackend, status: str | None = None, resource_type: str | None = None
) -> list[dict[str, Any]]:
    at = history.now()
    with _lock:
        jobs = list(state_of(backend).restore_jobs.values())
    described = [job.describe(at) for job in jobs]
    return [
        d
        for d in described
        if (status is None or d["Status"] == status) and (resource_type is None or d["ResourceType"] == resource_type)
    ]


def backend_for(account_id: str, region: str) -> BackupBackend:
    return backup_backends[account_id][region]


def install() -> None:
    """The logic needs no patch of its own; :mod:`backup_routes` wires it into moto."""
