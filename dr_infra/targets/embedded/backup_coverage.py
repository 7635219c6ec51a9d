"""What a backup plan covers: the vaults its rules write to and the DynamoDB tables its selections assign.

What AWS does: a backup selection assigns resources to a plan by ARN (``Resources``, ``*`` wildcards allowed),
minus ``NotResources``, or by tags and conditions; the plan's rules back up every assigned resource into their
target vault. https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html

What is modelled here: ARN patterns (``fnmatch``, case-sensitive) and ``NotResources``; a selection by tags or
conditions is not modelled and is reported in the plan clock's ``errors`` (:mod:`backup_schedule`).
"""

from __future__ import annotations

import fnmatch

from moto.backup.models import BackupBackend, Plan
from moto.dynamodb.models import dynamodb_backends
from moto.utilities.utils import get_partition

from dr_infra.targets.embedded import backup

# The moto internals used here are listed in backup_schedule.HOOKED_INTERNALS (checked by patches).


def patterns(backend: BackupBackend, plan: Plan) -> tuple[list[tuple[str, str, str]], list[str]]:
    """``([(resource pattern, role, selection name)], [NotResources patterns])`` of the plan's selections."""
    chosen: list[tuple[str, str, str]] = []
    excluded: list[str] = []
    for selection in backup.state_of(backend).selections.get(plan.backup_plan_id, {}).values():
        body = selection.selection
        role = str(body.get("IamRoleArn"))
        chosen.extend((str(pattern), role, str(body.get("SelectionName"))) for pattern in body.get("Resources") or [])
        excluded.extend(str(p) for p in body.get("NotResources") or [])
    return chosen, excluded


def vaults(plan: Plan) -> set[str]:
    return {str(rule.get("TargetBackupVaultName")) for rule in plan.backup_plan.get("Rules", [])}


def covers(backend: BackupBackend, plan: Plan, vault: str, resource_arn: str) -> bool:
    return vault in vaults(plan) and selects(backend, plan, resource_arn)


def selects(backend: BackupBackend, plan: Plan, resource_arn: str) -> bool:
    """Do the plan's selections name ``resource_arn`` (Resources patterns, minus NotResources)?"""
    chosen, excluded = patterns(backend, plan)
    return any(fnmatch.fnmatchcase(resource_arn, p) for p, _, _ in chosen) and not any(
        fnmatch.fnmatchcase(resource_arn, p) for p in excluded
    )


def selected_tables(backend: BackupBackend, plan: Plan, errors: list[str]) -> list[tuple[str, str]]:
    """``[(table ARN, role ARN)]`` the plan's selections assign now (existing DynamoDB tables only); what cannot
    be evaluated is added to ``errors`` once."""
    chosen, excluded = patterns(backend, plan)
    for selection in backup.state_of(backend).selections.get(plan.backup_plan_id, {}).values():
        body = selection.selection
        if body.get("ListOfTags") or body.get("Conditions"):
            message = f"selection {body.get('SelectionName')}: selecting by tags or conditions is not modelled"
            if message not in errors:
                errors.append(message)
    ddb = dynamodb_backends[backend.account_id][backend.region_name]
    partition = get_partition(backend.region_name)
    prefix = f"arn:{partition}:dynamodb:{backend.region_name}:{backend.account_id}:table/"
    found: dict[str, str] = {}
    for name in sorted(ddb.tables):
        arn = prefix + name
        if any(fnmatch.fnmatchcase(arn, p) for p in excluded):
            continue
        for pattern, role, _ in chosen:
            if fnmatch.fnmatchcase(arn, pattern):
                found.setdefault(arn, role)
    return sorted(found.items())
