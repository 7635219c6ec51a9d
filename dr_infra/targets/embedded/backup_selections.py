r"""AWS Backup selections: which resources a backup plan covers, with which IAM role.

What AWS does: CreateBackupSelection, GetBackupSelection, ListBackupSelections, DeleteBackupSelection assign
resources to a backup plan.
https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupSelection.html

* ``SelectionName`` matches ``^[a-zA-Z0-9\-\_\.]{1,50}$``; ``IamRoleArn`` is the ARN of an IAM role
  ("for example, arn:aws:iam::123456789012:role/S3Access"); the plan must exist and not be deleted.
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html
* A resource assignment holds up to 500 ARNs without wildcards, or up to 30 ARNs with wildcard expressions;
  a request over a limit is ``LimitExceededException`` ("a maximum number of items allowed in a request").
  https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupSelection.html

What moto 5.2.5 does instead: no selection API at all (HTTP 404/500).

* The role must be one AWS Backup can assume: a role that does not exist, or whose trust policy does not let
  ``backup.amazonaws.com`` assume it, is ``InvalidParameterValueException`` "IAM Role <arn> cannot be assumed by
  AWS Backup" (the message clients match to retry for IAM's eventual consistency, e.g. Terraform's
  aws_backup_selection:
  https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/backup/selection.go).
  https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html

What is modelled here: the checks above (``InvalidParameterValueException`` for a malformed name, role or
resource, or a role AWS Backup cannot assume; ``LimitExceededException`` beyond the ARN limits), in that
order. The role's permissions are not checked here (AWS checks them when a job runs:
:mod:`backup_service_role`); a role deleted after the selection was made fails the plan's jobs then.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from moto.backup.exceptions import InvalidParameterValueException, ResourceNotFoundException
from moto.backup.models import BackupBackend

from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded import backup_service_role

SELECTION_NAME = re.compile(r"^[a-zA-Z0-9\-\_\.]{1,50}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
MAX_RESOURCES = 500
MAX_WILDCARD_RESOURCES = 30

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.get_backup_plan",
    "moto.backup.exceptions.InvalidParameterValueException",
    "moto.backup.exceptions.ResourceNotFoundException",
)


def create_backup_selection(
    backend: BackupBackend, plan_id: str, selection: dict[str, Any] | None, creator_request_id: str | None
) -> model.Selection:
    plan = backend.get_backup_plan(plan_id, None)  # ResourceNotFoundException if missing
    if plan.deletion_date is not None:
        raise ResourceNotFoundException(f"Backup plan {plan_id} is deleted")
    if not selection:
        raise model.MissingParameterValueException("BackupSelection is required")
    check_selection(selection)
    role = selection["IamRoleArn"]
    if not backup_service_role.assumable(role, backend.account_id):
        raise InvalidParameterValueException(f"IAM Role {role} cannot be assumed by AWS Backup")
    with model.lock:
        plan_selections = model.state_of(backend).selections.setdefault(plan_id, {})
        if creator_request_id:
            for existing in plan_selections.values():
                if existing.creator_request_id == creator_request_id:
                    return existing
        created = model.Selection(str(uuid.uuid4()), plan_id, dict(selection), creator_request_id)
        plan_selections[created.selection_id] = created
        return created


def check_selection(selection: dict[str, Any]) -> None:
    """A BackupSelection as AWS checks it, or the first problem as AWS's error."""
    for required in ("SelectionName", "IamRoleArn"):
        if not selection.get(required):
            raise model.MissingParameterValueException(f"BackupSelection.{required} is required")
    name, role = selection["SelectionName"], selection["IamRoleArn"]
    if not isinstance(name, str) or not SELECTION_NAME.match(name):
        raise InvalidParameterValueException(
            f"Invalid SelectionName {name!r}: 1 to 50 alphanumeric or '-_.' characters"
        )
    if not isinstance(role, str) or not ROLE_ARN.match(role):
        raise InvalidParameterValueException(
            f"Invalid IamRoleArn {role!r}: give the ARN of an IAM role, arn:aws:iam::ACCOUNT:role/NAME"
        )
    for key in ("Resources", "NotResources"):
        resources = selection.get(key) or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            raise InvalidParameterValueException(f"BackupSelection.{key} must be a list of ARNs")
        bad = [r for r in resources if r != "*" and not r.startswith("arn:")]
        if bad:
            raise InvalidParameterValueException(f"Invalid ARN {bad[0]!r} in BackupSelection.{key}: give ARNs or *")
        wildcards = sum(1 for r in resources if "*" in r)
        if wildcards > MAX_WILDCARD_RESOURCES:
            raise model.LimitExceededException(
                f"BackupSelection.{key} has {wildcards} ARNs with wildcards; the limit is {MAX_WILDCARD_RESOURCES}"
            )
        if len(resources) - wildcards > MAX_RESOURCES:
            raise model.LimitExceededException(
                f"BackupSelection.{key} has {len(resources) - wildcards} ARNs; the limit is {MAX_RESOURCES}"
            )


def get_backup_selection(backend: BackupBackend, plan_id: str, selection_id: str) -> model.Selection:
    with model.lock:
        found = model.state_of(backend).selections.get(plan_id, {}).get(selection_id)
    if found is None:
        raise ResourceNotFoundException(f"Backup selection {selection_id} of plan {plan_id} not found")
    return found


def list_backup_selections(backend: BackupBackend, plan_id: str) -> list[model.Selection]:
    backend.get_backup_plan(plan_id, None)
    with model.lock:
        return list(model.state_of(backend).selections.get(plan_id, {}).values())


def delete_backup_selection(backend: BackupBackend, plan_id: str, selection_id: str) -> None:
    get_backup_selection(backend, plan_id, selection_id)
    with model.lock:
        del model.state_of(backend).selections[plan_id][selection_id]
