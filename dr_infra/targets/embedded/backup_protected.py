"""AWS Backup's protected-resource and copy-job reads: ListProtectedResources, DescribeProtectedResource,
ListProtectedResourcesByBackupVault, ListCopyJobs.

What AWS does:

* ListProtectedResources "returns an array of resources successfully backed up by AWS Backup, including the
  time the resource was saved, an ARN of the resource, and a resource type" (``Results``: ResourceArn,
  ResourceType, ResourceName, LastBackupTime, LastBackupVaultArn, LastRecoveryPointArn), paged by MaxResults
  and NextToken; ListProtectedResourcesByBackupVault the same for one vault (ResourceNotFoundException for a
  vault that does not exist).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListProtectedResources.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListProtectedResourcesByBackupVault.html
* DescribeProtectedResource adds the latest restore: LatestRestoreJobCreationDate,
  LatestRestoreExecutionTimeMinutes ("the time, in minutes, that the most recent restore job took to
  complete") and LatestRestoreRecoveryPointCreationDate; a resource AWS Backup never backed up is
  ``ResourceNotFoundException``.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeProtectedResource.html
* ListCopyJobs lists the copy jobs of the account (made by a rule's CopyActions or StartCopyJob).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListCopyJobs.html

What moto 5.2.5 does instead: none of these has a route (an HTML 404 that botocore cannot parse).

What is modelled here: a resource is protected while it has a COMPLETED recovery point in the region's vaults
(its newest one gives LastBackupTime / vault / ARN); the latest restore is the newest restore job of one of
its recovery points, its execution time counted only once it has completed. The embedded target makes no copy
jobs (StartCopyJob is not modelled, and a rule's CopyActions are not run), so ListCopyJobs answers an empty
list, unless a live backup plan has CopyActions: then AWS would list copies, so the request is refused as not
modelled (``UnknownOperationException``) rather than answered falsely.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from moto.backup.exceptions import ResourceNotFoundException
from moto.backup.models import BackupBackend
from moto.backup.responses import BackupResponse
from moto.core.responses import ActionResult

from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded import backup_pages, history, moto_patch
from dr_infra.targets.embedded.error_net import UnknownOperationException

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.responses.BackupResponse",
    "moto.backup.responses.BackupResponse.backup_backend",
    "moto.backup.models.BackupBackend.describe_backup_vault",
    "moto.backup.models.Plan.__init__",
    "moto.backup.exceptions.ResourceNotFoundException",
    "moto.core.responses.ActionResult",
)


def _completed(backend: BackupBackend, at: float, vault_name: str | None = None) -> list[model.RecoveryPoint]:
    with model.lock:
        points = list(model.state_of(backend).recovery_points.values())
    return sorted(
        (p for p in points if p.status(at) == "COMPLETED" and (vault_name is None or p.vault_name == vault_name)),
        key=lambda p: p.job.created,
    )


def protected_resources(backend: BackupBackend, vault_name: str | None = None) -> list[dict[str, Any]]:
    """One ProtectedResource per resource with a COMPLETED recovery point, from its newest one."""
    newest: dict[str, model.RecoveryPoint] = {}
    for point in _completed(backend, history.now(), vault_name):
        newest[point.resource_arn] = point  # sorted oldest first: the last one wins
    return [
        {
            "ResourceArn": p.resource_arn,
            "ResourceType": "DynamoDB",
            "ResourceName": p.resource_name,
            "LastBackupTime": model.utc(p.job.created),
            "LastBackupVaultArn": p.vault_arn,
            "LastRecoveryPointArn": p.arn,
        }
        for p in newest.values()
    ]


def describe_protected(backend: BackupBackend, resource_arn: str) -> dict[str, Any]:
    """DescribeProtectedResource of ``resource_arn``; ResourceNotFoundException if it is not protected."""
    found = [r for r in protected_resources(backend) if r["ResourceArn"] == resource_arn]
    if not found:
        raise ResourceNotFoundException(f"Resource {resource_arn} is not protected by AWS Backup")
    result = dict(found[0])
    at = history.now()
    with model.lock:
        restores = [
            j for j in model.state_of(backend).restore_jobs.values() if j.recovery_point.resource_arn == resource_arn
        ]
    if restores:
        latest = max(restores, key=lambda j: j.created)
        result["LatestRestoreJobCreationDate"] = model.utc(latest.created)
        result["LatestRestoreRecoveryPointCreationDate"] = model.utc(latest.recovery_point.job.created)
        if latest.status(at) == "COMPLETED":
            result["LatestRestoreExecutionTimeMinutes"] = max(1, round(latest.duration / 60))
    return result


def plans_with_copy_actions(backend: BackupBackend) -> list[str]:
    """Names of live plans with a rule that has CopyActions."""
    names = []
    for plan in list(backend.plans.values()):
        if plan.deletion_date is not None:
            continue
        rules = (plan.backup_plan or {}).get("Rules") or []
        if any(rule.get("CopyActions") for rule in rules if isinstance(rule, dict)):
            names.append(str((plan.backup_plan or {}).get("BackupPlanName") or plan.backup_plan_id))
    return names


# --- handlers (named after the operation in snake_case) -----------------------------------------------------


def list_protected_resources(self: BackupResponse) -> ActionResult:
    return ActionResult(backup_pages.paged(self, "Results", protected_resources(self.backup_backend)))


def list_protected_resources_by_backup_vault(self: BackupResponse) -> ActionResult:
    vault = unquote(str(self.uri_match.get("backupVaultName") or ""))
    self.backup_backend.describe_backup_vault(vault)  # ResourceNotFoundException if missing
    return ActionResult(backup_pages.paged(self, "Results", protected_resources(self.backup_backend, vault)))


def describe_protected_resource(self: BackupResponse) -> ActionResult:
    arn = unquote(str(self.uri_match.get("resourceArn") or ""))
    if not arn:
        raise model.MissingParameterValueException("ResourceArn is required")
    return ActionResult(describe_protected(self.backup_backend, arn))


def list_copy_jobs(self: BackupResponse) -> ActionResult:
    copying = plans_with_copy_actions(self.backup_backend)
    if copying:
        raise UnknownOperationException(
            f"backup:ListCopyJobs is not modelled by drdrill's embedded target while a backup plan has CopyActions "
            f"({', '.join(sorted(copying))}): the embedded target makes no copies; run it against AWS"
        )
    return ActionResult(backup_pages.paged(self, "CopyJobs", []))


HANDLERS = (
    list_protected_resources,
    list_protected_resources_by_backup_vault,
    describe_protected_resource,
    list_copy_jobs,
)


def install() -> None:
    """Add the handlers to moto's Backup service (routes: :mod:`backup_routes`' last-resort route)."""
    for handler in HANDLERS:
        moto_patch.add(BackupResponse, handler.__name__, handler, by=__name__)
