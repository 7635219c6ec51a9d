"""The state drdrill keeps for AWS Backup on the embedded target: selections, jobs, recovery points, restores.

One :class:`BackupState` per account and region, attached to moto's ``BackupBackend`` (so ``/moto-api/reset``
clears it). The records compute their state from elapsed time when read (no threads): a backup job is CREATED
for the first quarter of its duration, then RUNNING, then COMPLETED; a restore job is PENDING for the first
tenth, then RUNNING, then COMPLETED or FAILED. The shapes follow the API references
(https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeBackupJob.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRecoveryPoint.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html).
The operations live in :mod:`backup_selections`, :mod:`backup_jobs` and :mod:`backup_restores`.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.backup.exceptions import InvalidParameterValueException
from moto.backup.models import BackupBackend, backup_backends
from moto.core.exceptions import JsonRESTError

from dr_infra.targets.embedded import history, process_state

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend",
    "moto.backup.models.backup_backends",
    "moto.backup.exceptions.InvalidParameterValueException",
    "moto.core.exceptions.JsonRESTError",
)


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


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def new_job_id() -> str:
    return str(uuid.uuid4()).upper()


def recovery_point_arn(partition: str, region: str, account: str) -> str:
    """A new AWS Backup recovery point ARN, as accounts with advanced DynamoDB backup features get.

    AWS Backup turns advanced features for DynamoDB on by default for customers who started after November
    2021; their recovery points are AWS Backup resources with ``arn:aws:backup`` ARNs (older accounts keep the
    DynamoDB backup ARN). https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html
    """
    return f"arn:{partition}:backup:{region}:{account}:recovery-point:{str(uuid.uuid4()).upper()}"


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
    """AWS Backup's ARN of the recovery point (``arn:aws:backup:REGION:ACCOUNT:recovery-point:ID``)."""
    iam_role_arn: str
    created: float
    duration: float
    lifecycle: dict[str, Any] | None
    created_by: dict[str, Any] | None = None
    """``CreatedBy`` (BackupPlanId, BackupPlanArn, BackupPlanVersion, BackupRuleId) of a job a plan started
    (:mod:`backup_schedule`); ``None`` for an on-demand StartBackupJob."""
    snapshot_arn: str = ""
    """The DynamoDB backup holding the data (``arn:aws:dynamodb:...:table/NAME/backup/ID``, BackupType
    AWS_BACKUP in DynamoDB's ListBackups)."""
    start_window_minutes: int = 480
    """The job's StartWindowMinutes: the request's or the plan rule's, else AWS's default of 8 hours (480 minutes,
    https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html). ``StartBy`` is the scheduled
    time plus this window (:meth:`start_by`)."""
    failure: str | None = None
    """StatusMessage of a job that ends FAILED (no recovery point), e.g. its role cannot do the backup
    (:mod:`backup_service_role`)."""

    def start_by(self) -> float:
        """When the job must have started: "calculated by adding the start window to the scheduled time"
        (``StartBy``, https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeBackupJob.html). The job is
        created at its scheduled time (an on-demand one when requested). Under ``aws-scaled`` the window passes at
        the plan clock's rate, as the schedule does (:mod:`settings`), so it is scaled with it."""
        return self.created + self.start_window_minutes * 60 * process_state.current_settings().plan_time_scale

    def state(self, at: float) -> str:
        if at >= self.created + self.duration:
            return "FAILED" if self.failure else "COMPLETED"
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
            "CreationDate": utc(self.created),
            "State": state,
            "PercentDone": f"{100.0 * done:.1f}",
            "BackupSizeInBytes": 0,
            "IamRoleArn": self.iam_role_arn,
            "BackupType": "FULL",
            "IsParent": False,
            "StartBy": utc(self.start_by()),
            "ExpectedCompletionDate": utc(self.created + self.duration),
            "InitiationDate": utc(self.created),
        }
        if self.lifecycle:
            result["RecoveryPointLifecycle"] = self.lifecycle
        if self.created_by:
            result["CreatedBy"] = self.created_by
        if state in ("COMPLETED", "FAILED"):
            result["CompletionDate"] = utc(self.created + self.duration)
        if self.failure:
            result.pop("RecoveryPointArn", None)
            if state == "FAILED":
                result["StatusMessage"] = self.failure
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
    expired: bool = False
    """Past its lifecycle and not deleted (AWS Backup could not delete it): status EXPIRED
    (:mod:`backup_schedule`)."""

    def status(self, at: float) -> str:
        if self.expired:
            return "EXPIRED"
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
            "CreationDate": utc(self.job.created),
            "InitiationDate": utc(self.job.created),
            "BackupSizeInBytes": 0,
            "IsEncrypted": False,
            "StorageClass": "WARM",
            "IsParent": False,
            "VaultType": "BACKUP_VAULT",
        }
        if self.job.lifecycle:
            result["Lifecycle"] = self.job.lifecycle
            delete_after = self.job.lifecycle.get("DeleteAfterDays")
            if isinstance(delete_after, int | float) and delete_after >= 0:
                result["CalculatedLifecycle"] = {"DeleteAt": utc(self.job.created + delete_after * 86400)}
        if self.job.created_by:
            result["CreatedBy"] = self.job.created_by
        if status in ("COMPLETED", "EXPIRED"):
            result["CompletionDate"] = utc(self.job.created + self.job.duration)
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
            "CreationDate": utc(self.created),
            "Status": status,
            "PercentDone": f"{100.0 * done:.2f}%",
            "BackupSizeInBytes": 0,
            "IamRoleArn": self.iam_role_arn,
            "ExpectedCompletionTimeMinutes": max(1, round(self.duration / 60)),
            "ResourceType": "DynamoDB",
            "RecoveryPointCreationDate": utc(self.recovery_point.job.created),
            "IsParent": False,
        }
        if status in ("COMPLETED", "FAILED"):
            result["CompletionDate"] = utc(self.created + self.duration)
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


lock = threading.RLock()


def state_of(backend: BackupBackend) -> BackupState:
    """The drdrill state attached to one moto Backup backend (created on first use)."""
    with lock:
        state: BackupState | None = backend.__dict__.get("_drdrill_backup")
        if state is None:
            state = BackupState()
            backend.__dict__["_drdrill_backup"] = state
        return state


def backend_for(account_id: str, region: str) -> BackupBackend:
    return backup_backends[account_id][region]


def table_of(resource_arn: str) -> tuple[str, str, str]:
    """(account, region, table name) of a DynamoDB table ARN."""
    parts = resource_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/") or "/" in parts[5][6:]:
        raise InvalidParameterValueException(
            f"Invalid resource ARN {resource_arn}: the embedded target backs up DynamoDB tables only"
        )
    return parts[4], parts[3], parts[5][len("table/") :]
