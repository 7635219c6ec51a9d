"""AWS Backup selections: which resources a backup plan covers, with which IAM role.

What AWS does: CreateBackupSelection, GetBackupSelection, ListBackupSelections, DeleteBackupSelection assign
resources to a backup plan.
https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupSelection.html

What moto 5.2.5 does instead: no selection API at all (HTTP 404/500).
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.backup.exceptions import InvalidParameterValueException, ResourceNotFoundException
from moto.backup.models import BackupBackend

from dr_infra.targets.embedded import backup_model as model

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.backup.models.BackupBackend.get_backup_plan",
    "moto.backup.exceptions.InvalidParameterValueException",
    "moto.backup.exceptions.ResourceNotFoundException",
)


def create_backup_selection(
    backend: BackupBackend, plan_id: str, selection: dict[str, Any] | None, creator_request_id: str | None
) -> model.Selection:
    backend.get_backup_plan(plan_id, None)  # ResourceNotFoundException if missing
    if not selection:
        raise model.MissingParameterValueException("BackupSelection is required")
    for required in ("SelectionName", "IamRoleArn"):
        if not selection.get(required):
            raise InvalidParameterValueException(f"BackupSelection.{required} is required")
    with model.lock:
        plan_selections = model.state_of(backend).selections.setdefault(plan_id, {})
        if creator_request_id:
            for existing in plan_selections.values():
                if existing.creator_request_id == creator_request_id:
                    return existing
        created = model.Selection(str(uuid.uuid4()), plan_id, dict(selection), creator_request_id)
        plan_selections[created.selection_id] = created
        return created


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
