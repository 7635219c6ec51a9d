"""The HTTP side of :mod:`backup`: moto routes and ``BackupResponse`` handlers for the AWS Backup
operations moto 5.2.5 lacks.

What AWS does: see :mod:`backup`
(https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Operations_AWS_Backup.html).

What is modelled here: how a request reaches a handler in moto (``moto/backup/urls.py`` and
``BaseResponse.call_action``): ``moto.backup.urls.url_paths`` is a module-level dict of regex -> dispatcher
that moto reads when it builds the service's Flask app (on the first Backup request; :func:`install` runs
before the server starts). The operation name comes from moto's botocore-model router, which also fills
``self.uri_match`` with the URI labels; the handler is the ``BackupResponse`` method named after the operation
in snake_case. Routes ending in a slash after a converter must be written ``.../recovery-points/$`` (Werkzeug
only forgives a missing slash on static rules). Handlers read the JSON body / query string with
``self._get_param`` and return ``ActionResult(dict)`` so moto's serializer applies the service model
(timestamps, shapes).

Operations added: CreateBackupSelection, GetBackupSelection, ListBackupSelections, DeleteBackupSelection,
StartBackupJob, DescribeBackupJob, ListBackupJobs, ListRecoveryPointsByBackupVault,
ListRecoveryPointsByResource, DescribeRecoveryPoint, GetRecoveryPointRestoreMetadata, DeleteRecoveryPoint,
StartRestoreJob, DescribeRestoreJob, ListRestoreJobs; DeleteBackupVault is wrapped so a vault holding recovery
points is not deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import moto.backup.urls
from moto.backup.responses import BackupResponse
from moto.core.responses import ActionResult
from moto.dynamodb.models import dynamodb_backends

from dr_infra.targets.embedded import backup, backup_jobs, backup_model, backup_pages, history, moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.urls.url_paths",
    "moto.backup.responses.BackupResponse",
    "moto.backup.responses.BackupResponse.dispatch",
    "moto.backup.responses.BackupResponse.backup_backend",
    "moto.backup.responses.BackupResponse.delete_backup_vault",
    "moto.core.responses.BaseResponse._get_param",
    "moto.core.responses.BaseResponse.call_action",
    "moto.core.responses.ActionResult",
    "moto.dynamodb.models.dynamodb_backends",
)

ROUTES: tuple[str, ...] = (
    "{0}/backup-jobs/?$",
    "{0}/backup-jobs/(?P<backupJobId>[^/]+)$",
    "{0}/restore-jobs/?$",
    "{0}/restore-jobs/(?P<restoreJobId>[^/]+)$",
    "{0}/backup-vaults/(?P<backupVaultName>[^/]+)/recovery-points/$",
    "{0}/backup-vaults/(?P<backupVaultName>[^/]+)/recovery-points/(?P<recoveryPointArn>.+)/restore-metadata$",
    "{0}/backup-vaults/(?P<backupVaultName>[^/]+)/recovery-points/(?P<recoveryPointArn>.+)$",
    "{0}/resources/(?P<resourceArn>.+)/recovery-points/$",
    "{0}/.*",  # last resort: every other path reaches moto's dispatcher, so error_net answers in AWS's shape
)


def _uri(self: BackupResponse, label: str) -> str:
    value = self.uri_match.get(label)
    if value is None:
        raise backup.MissingParameterValueException(f"{label} is required")
    return unquote(str(value))


def _query(self: BackupResponse, name: str) -> str | None:
    values = self.querystring.get(name)
    return str(values[0]) if values else None


def _selection_dict(s: backup.Selection) -> dict[str, Any]:
    return {
        "BackupSelection": s.selection,
        "SelectionId": s.selection_id,
        "BackupPlanId": s.plan_id,
        "CreationDate": backup.utc(s.created),
        "CreatorRequestId": s.creator_request_id,
    }


# --- handlers (named after the operation in snake_case) -----------------------------------------------------


def create_backup_selection(self: BackupResponse) -> ActionResult:
    s = backup.create_backup_selection(
        self.backup_backend,
        _uri(self, "backupPlanId"),
        self._get_param("BackupSelection"),
        self._get_param("CreatorRequestId"),
    )
    return ActionResult(
        {"SelectionId": s.selection_id, "BackupPlanId": s.plan_id, "CreationDate": backup.utc(s.created)}
    )


def get_backup_selection(self: BackupResponse) -> ActionResult:
    s = backup.get_backup_selection(self.backup_backend, _uri(self, "backupPlanId"), _uri(self, "selectionId"))
    return ActionResult(_selection_dict(s))


def list_backup_selections(self: BackupResponse) -> ActionResult:
    selections = backup.list_backup_selections(self.backup_backend, _uri(self, "backupPlanId"))
    return ActionResult(
        backup_pages.paged(
            self,
            "BackupSelectionsList",
            [
                {
                    "SelectionId": s.selection_id,
                    "SelectionName": s.selection.get("SelectionName"),
                    "BackupPlanId": s.plan_id,
                    "CreationDate": backup.utc(s.created),
                    "CreatorRequestId": s.creator_request_id,
                    "IamRoleArn": s.selection.get("IamRoleArn"),
                }
                for s in selections
            ],
        )
    )


def delete_backup_selection(self: BackupResponse) -> ActionResult:
    backup.delete_backup_selection(self.backup_backend, _uri(self, "backupPlanId"), _uri(self, "selectionId"))
    return ActionResult({})


def start_backup_job(self: BackupResponse) -> ActionResult:
    backup_jobs.check_start_backup_job(
        self.backup_backend,
        vault_name=self._get_param("BackupVaultName"),
        resource_arn=self._get_param("ResourceArn"),
        iam_role_arn=self._get_param("IamRoleArn"),
        lifecycle=self._get_param("Lifecycle"),
        start_window=self._get_param("StartWindowMinutes"),
        complete_window=self._get_param("CompleteWindowMinutes"),
        recovery_point_tags=self._get_param("RecoveryPointTags"),
    )
    job = backup.start_backup_job(
        self.backup_backend,
        vault_name=self._get_param("BackupVaultName"),
        resource_arn=self._get_param("ResourceArn"),
        iam_role_arn=self._get_param("IamRoleArn"),
        idempotency_token=self._get_param("IdempotencyToken"),
        lifecycle=self._get_param("Lifecycle"),
        recovery_point_tags=self._get_param("RecoveryPointTags"),
        start_window_minutes=self._get_param("StartWindowMinutes"),
    )
    return ActionResult(
        {
            "BackupJobId": job.job_id,
            "RecoveryPointArn": job.recovery_point_arn,
            "CreationDate": backup.utc(job.created),
            "IsParent": False,
        }
    )


def describe_backup_job(self: BackupResponse) -> ActionResult:
    job = backup.describe_backup_job(self.backup_backend, _uri(self, "backupJobId"))
    return ActionResult(job.describe(history.now()))


def list_backup_jobs(self: BackupResponse) -> ActionResult:
    jobs = backup.list_backup_jobs(
        self.backup_backend,
        resource_arn=_query(self, "resourceArn"),
        state=_query(self, "state"),
        vault_name=_query(self, "backupVaultName"),
        resource_type=_query(self, "resourceType"),
    )
    return ActionResult(backup_pages.paged(self, "BackupJobs", jobs))


def list_recovery_points_by_backup_vault(self: BackupResponse) -> ActionResult:
    at = history.now()
    points = backup.list_recovery_points_by_vault(
        self.backup_backend,
        _uri(self, "backupVaultName"),
        resource_arn=_query(self, "resourceArn"),
        resource_type=_query(self, "resourceType"),
    )
    return ActionResult(backup_pages.paged(self, "RecoveryPoints", [p.describe(at) for p in points]))


def list_recovery_points_by_resource(self: BackupResponse) -> ActionResult:
    at = history.now()
    points = backup.list_recovery_points_by_resource(self.backup_backend, _uri(self, "resourceArn"))
    return ActionResult(
        backup_pages.paged(
            self,
            "RecoveryPoints",
            [
                {
                    "RecoveryPointArn": p.arn,
                    "CreationDate": backup.utc(p.job.created),
                    "Status": p.status(at),
                    "BackupSizeBytes": 0,
                    "BackupVaultName": p.vault_name,
                    "IsParent": False,
                    "ResourceName": p.resource_name,
                    "VaultType": "BACKUP_VAULT",
                }
                for p in points
            ],
        )
    )


def describe_recovery_point(self: BackupResponse) -> ActionResult:
    point = backup.recovery_point(self.backup_backend, _uri(self, "recoveryPointArn"), _uri(self, "backupVaultName"))
    return ActionResult(point.describe(history.now()))


def get_recovery_point_restore_metadata(self: BackupResponse) -> ActionResult:
    """The metadata AWS Backup infers for a DynamoDB restore: targetTableName, encryptionType and the source's
    deletionProtection at backup time (https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html)."""
    point = backup.recovery_point(self.backup_backend, _uri(self, "recoveryPointArn"), _uri(self, "backupVaultName"))
    account, region, _ = backup_model.table_of(point.resource_arn)
    snapshot = dynamodb_backends[account][region].backups.get(point.job.snapshot_arn)
    protected = bool(snapshot is not None and snapshot.table.deletion_protection_enabled)
    return ActionResult(
        {
            "BackupVaultArn": point.vault_arn,
            "RecoveryPointArn": point.arn,
            "ResourceType": "DynamoDB",
            "RestoreMetadata": {
                "targetTableName": point.resource_name,
                "originalTableName": point.resource_name,
                "encryptionType": "Default",
                "deletionProtection": "true" if protected else "false",
            },
        }
    )


def delete_recovery_point(self: BackupResponse) -> ActionResult:
    backup.delete_recovery_point(self.backup_backend, _uri(self, "backupVaultName"), _uri(self, "recoveryPointArn"))
    return ActionResult({})


def start_restore_job(self: BackupResponse) -> ActionResult:
    job = backup.start_restore_job(
        self.backup_backend,
        recovery_point_arn=self._get_param("RecoveryPointArn"),
        metadata=self._get_param("Metadata"),
        iam_role_arn=self._get_param("IamRoleArn"),
        idempotency_token=self._get_param("IdempotencyToken"),
    )
    return ActionResult({"RestoreJobId": job.job_id})


def describe_restore_job(self: BackupResponse) -> ActionResult:
    job = backup.describe_restore_job(self.backup_backend, _uri(self, "restoreJobId"))
    return ActionResult(job.describe(history.now()))


def list_restore_jobs(self: BackupResponse) -> ActionResult:
    jobs = backup.list_restore_jobs(
        self.backup_backend, status=_query(self, "status"), resource_type=_query(self, "resourceType")
    )
    return ActionResult(backup_pages.paged(self, "RestoreJobs", jobs))


def _wrap_delete_backup_vault(original: Callable[[BackupResponse], Any]) -> Callable[[BackupResponse], Any]:
    def delete_backup_vault(self: BackupResponse) -> Any:
        name = unquote(self.path.rstrip("/").split("/")[-1])
        self.backup_backend.describe_backup_vault(name)  # AWS: ResourceNotFoundException (moto: success)
        backup.check_vault_deletable(self.backup_backend, name)
        return original(self)

    return delete_backup_vault


HANDLERS: dict[str, Callable[[BackupResponse], ActionResult]] = {
    f.__name__: f
    for f in (
        create_backup_selection,
        get_backup_selection,
        list_backup_selections,
        delete_backup_selection,
        start_backup_job,
        describe_backup_job,
        list_backup_jobs,
        list_recovery_points_by_backup_vault,
        list_recovery_points_by_resource,
        describe_recovery_point,
        get_recovery_point_restore_metadata,
        delete_recovery_point,
        start_restore_job,
        describe_restore_job,
        list_restore_jobs,
    )
}


def install() -> None:
    """Add the routes and handlers to moto's Backup service (before the first Backup request)."""

    def add_routes() -> None:
        dispatch = BackupResponse.dispatch
        for route in ROUTES:
            moto.backup.urls.url_paths.setdefault(route, dispatch)

    moto_patch.once("moto.backup.urls.url_paths", add_routes, by=__name__)
    for name, handler in HANDLERS.items():
        moto_patch.add(BackupResponse, name, handler, by=__name__)
    moto_patch.wrap(BackupResponse, "delete_backup_vault", _wrap_delete_backup_vault, by=__name__)
