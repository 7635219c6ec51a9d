"""``--stack-from cloudformation:STACK_NAME``: a deployed stack's parts named by its CloudFormation resources.

ListStackResources (paginated) gives each resource's ``ResourceType`` and ``PhysicalResourceId``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackResources.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackResourceSummary.html). The physical id of
an ``AWS::DynamoDB::Table`` and of an ``AWS::Lambda::Function`` is its name, of an ``AWS::Backup::BackupVault`` the
vault's name, of an ``AWS::Backup::BackupPlan`` the plan's id (its name is read with GetBackupPlan); see the
``Ref`` return values in https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-table.html,
.../aws-resource-lambda-function.html, .../aws-resource-backup-backupvault.html and
.../aws-resource-backup-backupplan.html. Everything else (the mapping, the selection, the roles) is then found the
way a ``[deployed]`` definition's missing parts are (:mod:`dr_infra.stack.deployed_discovery`). Read-only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from dr_infra.errors import ConfigError
from dr_infra.stack.deployed import DeployedDefinition
from dr_infra.targets.base import Target

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import StackResourceSummaryTypeDef

TABLE = "AWS::DynamoDB::Table"
FUNCTION = "AWS::Lambda::Function"
VAULT = "AWS::Backup::BackupVault"
PLAN = "AWS::Backup::BackupPlan"
MAPPING = "AWS::Lambda::EventSourceMapping"


def stack_resources(cloudformation: CloudFormationClient, name: str) -> list[StackResourceSummaryTypeDef]:
    """The stack's resource summaries; a stack that does not exist is one line (exit 2)."""
    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=name)
        return [r for page in pages for r in page.get("StackResourceSummaries", [])]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            message = exc.response["Error"].get("Message")
            raise ConfigError(
                f"--stack-from cloudformation:{name}: no such CloudFormation stack ({message}); "
                "check the stack name, account and region"
            ) from None
        raise


def _physical(resources: list[StackResourceSummaryTypeDef], kind: str) -> list[str]:
    return [
        str(r["PhysicalResourceId"]) for r in resources if r.get("ResourceType") == kind and r.get("PhysicalResourceId")
    ]


def _one(name: str, kind: str, found: list[str], required: bool) -> str | None:
    if len(found) > 1:
        raise ConfigError(
            f"--stack-from cloudformation:{name}: the stack has {len(found)} {kind} resources ({', '.join(found)}); "
            "write a [deployed] definition naming the one to drill"
        )
    if not found and required:
        raise ConfigError(
            f"--stack-from cloudformation:{name}: the stack has no {kind} resource; name the deployed table in a "
            "[deployed] definition instead"
        )
    return found[0] if found else None


def resolve_stack(target: Target, deployed: DeployedDefinition) -> DeployedDefinition:
    """``deployed`` with its table, function, vault and plan filled in from the CloudFormation stack."""
    name = deployed.cloudformation_stack
    assert name is not None
    resources = stack_resources(target.client("cloudformation"), name)
    table = _one(name, TABLE, _physical(resources, TABLE), required=True)
    function = _one(name, FUNCTION, _physical(resources, FUNCTION), required=False)
    vault = _one(name, VAULT, _physical(resources, VAULT), required=False)
    plan_id = _one(name, PLAN, _physical(resources, PLAN), required=False)
    plan = None
    if plan_id is not None:
        plan = str(target.client("backup").get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["BackupPlanName"])
    return replace(deployed, table=table, function=function, vault=vault, plan=plan)
