"""A small, honest IAM policy reader: does an identity policy allow an action on a resource?

Used by posture checks that prove least privilege from the policy *read back from IAM*. It evaluates what
drdrill's own policies use - Allow/Deny statements, ``Action``/``Resource`` with ``*`` and ``?`` wildcards,
and ``StringEquals``/``StringLike`` conditions - following the documented evaluation logic (an explicit deny
wins, otherwise an allow is needed; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Anything it does not understand (NotAction, other condition operators) counts as *not allowed*, so a check
built on it can fail, never falsely pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(condition: Mapping[str, Any] | None, context: Mapping[str, str]) -> bool:
    if not condition:
        return True
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = context.get(key)
            if actual is None:
                return False
            values = _as_list(expected)
            if operator == "StringEquals":
                if actual not in values:
                    return False
            elif operator == "StringLike":
                if not any(_matches(v, actual) for v in values):
                    return False
            else:
                return False
    return True


def _statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        return False
    actions = _as_list(statement.get("Action", []))
    resources = _as_list(statement.get("Resource", []))
    return (
        any(_matches(a, action, case_sensitive=False) for a in actions)
        and any(_matches(r, resource) for r in resources)
        and _condition_holds(statement.get("Condition"), context)
    )


def allows(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """True when some statement allows ``action`` on ``resource`` and none denies it."""
    ctx = context or {}
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement", [])):
            if not _statement_applies(statement, action, resource, ctx):
                continue
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


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
