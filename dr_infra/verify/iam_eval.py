"""Least-privilege questions about identity policies: does a set of documents allow this, and what a call needs.

The evaluation itself is :mod:`dr_infra.targets.iam_evaluator` (the same one the embedded target authorizes
requests with): explicit Deny wins, NotAction/NotResource, ARN-segment wildcards, the condition operators it
lists. :func:`allows` is its yes/no for documents without names; an undecidable statement counts as *not
allowed*, so a check built on ``allows`` alone can fail but never falsely pass (posture checks use
:func:`dr_infra.targets.iam_evaluator.evaluate` to name the statement and the reason).
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dr_infra.targets.iam_evaluator import NamedPolicy, evaluate


def allows(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """True when the documents allow ``action`` on ``resource`` (and nothing denies it or leaves it undecided)."""
    policies = [NamedPolicy(f"policy{i}", d) for i, d in enumerate(documents, start=1)]
    return evaluate(policies, action, resource, context).allowed


# -- what one API call needs ------------------------------------------------------------------------------------
NO_RESOURCE_LEVEL = frozenset(
    {
        "dynamodb:ListStreams",
        "backup:ListRestoreJobs",
        "backup:DescribeRestoreJob",
        "backup:ListRecoveryPointsByResource",
        "lambda:CreateEventSourceMapping",
        "lambda:ListEventSourceMappings",
    }
)
"""Actions IAM authorizes on ``*`` only (no resource-level permissions), per the service authorization
reference (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html,
.../list_awsbackup.html, .../list_awslambda.html)."""

_TABLE_NAME_OPERATIONS = frozenset(
    {
        "DescribeTable",
        "UpdateTable",
        "DescribeContinuousBackups",
        "UpdateContinuousBackups",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "DeleteTable",
        "CreateBackup",
    }
)
_RESOURCE_ARN_OPERATIONS = frozenset({"ListTagsOfResource", "TagResource", "UntagResource"})
_STREAM_OPERATIONS = frozenset({"DescribeStream", "GetShardIterator"})
RESTORE_TARGET_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
)
"""What a restore needs on its target table: "RestoreTableToPointInTime permissions are necessary on the
source table, and DynamoDB read and write permissions on the target table are necessary"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html)."""

_IAM_PREFIX = {"dynamodb": "dynamodb", "backup": "backup", "lambda": "lambda", "dynamodbstreams": "dynamodb"}


@dataclass(frozen=True)
class Permission:
    """One authorization IAM performs for a call: ``action`` on ``resource`` with the request ``context``."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def allowed_by(self, documents: Iterable[Mapping[str, Any]]) -> bool:
        """Does an identity policy made of ``documents`` allow it?"""
        return allows(documents, self.action, self.resource, dict(self.context))


class UnknownCall(ValueError):
    """An API call :func:`permissions_for_call` does not know the authorization of (teach it, don't guess)."""


def permissions_for_call(
    service: str, operation: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission]:
    """Every authorization IAM performs for one DynamoDB, AWS Backup or Lambda API call.

    ``service`` is botocore's service name, ``operation`` the API name (``DescribeTable``), ``params`` the
    call's parameters. Besides the action on its resource: ``RestoreTableToPointInTime`` needs read/write on
    the target table (:data:`RESTORE_TARGET_ACTIONS`); ``StartRestoreJob`` passes its ``IamRoleArn`` to
    AWS Backup (``iam:PassRole`` with ``iam:PassedToService``,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html); Lambda authorizes
    ``CreateEventSourceMapping`` on ``*`` with the ``lambda:FunctionArn`` condition key
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html). Raises
    :class:`UnknownCall` for anything else, so a new call cannot slip past a check built on this.
    """
    prefix = _IAM_PREFIX.get(service)
    if prefix is None:
        raise UnknownCall(f"{service}:{operation}: service not covered")
    action = f"{prefix}:{operation}"
    if action in NO_RESOURCE_LEVEL:
        if operation == "CreateEventSourceMapping":
            function = _function_arn(str(params["FunctionName"]), region, account)
            return [Permission(action, "*", (("lambda:FunctionArn", function),))]
        return [Permission(action, "*")]
    if prefix == "dynamodb":
        return _dynamodb(operation, action, params, region, account)
    if prefix == "backup":
        if operation == "StartRestoreJob":
            return [
                Permission(action, str(params["RecoveryPointArn"])),
                Permission(
                    "iam:PassRole", str(params["IamRoleArn"]), (("iam:PassedToService", "backup.amazonaws.com"),)
                ),
            ]
        if operation == "DescribeRecoveryPoint":
            return [Permission(action, str(params["RecoveryPointArn"]))]
        if operation == "ListRecoveryPointsByBackupVault":
            vault = f"arn:aws:backup:{region}:{account}:backup-vault:{params['BackupVaultName']}"
            return [Permission(action, vault)]
    raise UnknownCall(f"{action}: its resource is not known to dr_infra.verify.iam_eval.permissions_for_call")


def _table_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _function_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"


def _dynamodb(operation: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission]:
    if operation in _TABLE_NAME_OPERATIONS:
        return [Permission(action, _table_arn(str(params["TableName"]), region, account))]
    if operation in _RESOURCE_ARN_OPERATIONS:
        return [Permission(action, str(params["ResourceArn"]))]
    if operation in _STREAM_OPERATIONS:
        return [Permission(action, str(params["StreamArn"]))]
    if operation == "BatchWriteItem":
        return [Permission(action, _table_arn(str(t), region, account)) for t in params["RequestItems"]]
    if operation == "RestoreTableToPointInTime":
        source = _table_arn(str(params.get("SourceTableArn") or params["SourceTableName"]), region, account)
        target = _table_arn(str(params["TargetTableName"]), region, account)
        return [Permission(action, source)] + [Permission(a, target) for a in RESTORE_TARGET_ACTIONS]
    raise UnknownCall(f"{action}: its resource is not known to dr_infra.verify.iam_eval.permissions_for_call")
