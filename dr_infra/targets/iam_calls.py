"""What IAM authorizes for one API call: which actions, on which resource ARNs, with which condition keys.

Shared by the embedded target's authorizer (every request signed with credentials it issued) and drdrill's
own least-privilege tests (every call the change monitor makes is checked against its role's policy), so
both use one mapping. Actions, resource types and condition keys follow the Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html,
.../list_awsbackup.html, .../list_awslambda.html, .../list_amazoncloudwatchlogs.html,
.../list_awsidentityandaccessmanagementiam.html, .../list_awssecuritytokenservice.html.
A Query or Scan of a secondary index is authorized on the index's ARN (``table/NAME/index/INDEX``), which a
grant on the table's ARN does not cover
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-specific-table-indexes.html);
``TransactWriteItems`` / ``TransactGetItems`` are each item's ``PutItem`` / ``UpdateItem`` / ``DeleteItem`` /
``ConditionCheckItem`` / ``GetItem`` on its table, with ``dynamodb:EnclosingOperation``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html); a PartiQL
statement (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) is ``dynamodb:PartiQLSelect`` /
``PartiQLInsert`` / ``PartiQLUpdate`` / ``PartiQLDelete`` on the table or index it names
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html).
Beyond the action on its resource: ``RestoreTableToPointInTime`` / ``RestoreTableFromBackup`` need read/write
on the target table (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html);
``StartBackupJob`` / ``StartRestoreJob`` / ``CreateBackupSelection`` (on its plan, ``backup-plan:ID``) pass
their ``IamRoleArn`` to AWS Backup and ``CreateFunction`` /
``UpdateFunctionConfiguration`` pass ``Role`` to Lambda (``iam:PassRole`` with ``iam:PassedToService``,
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html). A call not listed raises
:class:`UnknownCall`: the authorizer then checks its action on ``"*"`` (only a ``*`` grant allows it) and a
least-privilege test fails, so nothing slips past.

Resource tags: a recovery point (resource type ``recoveryPoint``, ARN ``arn:${Partition}:${Vendor}:${Region}:*:
${ResourceType}:${RecoveryPointId}``, so AWS Backup's ``...:recovery-point:ID`` and DynamoDB's
``...:table/NAME/backup/ID``) takes the condition keys ``aws:ResourceTag/${TagKey}``; the actions on it
(``StartRestoreJob``, ``DescribeRecoveryPoint``, ...) have no condition keys of their own
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html). When the caller
passes ``resource_tags`` (the embedded target's store of recovery-point tags; a test's own table), each
recovery-point permission carries ``aws:ResourceTag/<key>`` for every tag the point has and is marked
complete for that prefix: a tag the point does not have is absent, so ``StringEquals`` on it fails, as on
AWS. A DynamoDB backup carries no tags (tags are on tables), so its tag context is empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dr_infra.targets.iam_evaluator import NamedPolicy, evaluate

NO_RESOURCE_LEVEL = frozenset(
    {
        "dynamodb:ListStreams",
        "dynamodb:ListTables",
        "dynamodb:ListBackups",
        "backup:ListRestoreJobs",
        "backup:DescribeRestoreJob",
        "backup:ListRecoveryPointsByResource",
        "backup:DescribeBackupJob",
        "backup:ListBackupJobs",
        "backup:ListBackupVaults",
        "backup:ListBackupPlans",
        "lambda:CreateEventSourceMapping",
        "lambda:ListEventSourceMappings",
        "lambda:ListFunctions",
        "logs:DescribeLogGroups",
        "iam:ListRoles",
        "iam:ListUsers",
        "iam:ListPolicies",
    }
)
"""Actions IAM authorizes on ``*`` only (no resource-level permissions)."""

_TABLE_NAME_OPERATIONS = frozenset(
    {
        "CreateTable",
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
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
"""A transaction's items are authorized as the item operations they are (ConditionCheck: ConditionCheckItem),
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html."""
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

IAM_PREFIX = {
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodb",
    "backup": "backup",
    "lambda": "lambda",
    "logs": "logs",
    "iam": "iam",
    "sts": "sts",
}
"""botocore service name -> IAM action prefix."""

_LAMBDA_FUNCTION_OPERATIONS = frozenset(
    {
        "Invoke",
        "GetFunction",
        "GetFunctionConfiguration",
        "UpdateFunctionCode",
        "DeleteFunction",
        "PublishVersion",
        "AddPermission",
        "RemovePermission",
        "GetPolicy",
        "PutFunctionConcurrency",
        "DeleteFunctionConcurrency",
        "GetFunctionConcurrency",
        "ListVersionsByFunction",
    }
)
_LAMBDA_MAPPING_OPERATIONS = frozenset(
    {"GetEventSourceMapping", "UpdateEventSourceMapping", "DeleteEventSourceMapping"}
)
_IAM_ROLE_OPERATIONS = frozenset(
    {
        "CreateRole",
        "GetRole",
        "DeleteRole",
        "PutRolePolicy",
        "GetRolePolicy",
        "DeleteRolePolicy",
        "ListRolePolicies",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "ListAttachedRolePolicies",
        "UpdateAssumeRolePolicy",
        "TagRole",
        "UntagRole",
        "ListRoleTags",
    }
)
_IAM_USER_OPERATIONS = frozenset(
    {
        "CreateUser",
        "GetUser",
        "DeleteUser",
        "PutUserPolicy",
        "GetUserPolicy",
        "DeleteUserPolicy",
        "ListUserPolicies",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "ListAttachedUserPolicies",
        "CreateAccessKey",
        "DeleteAccessKey",
        "ListAccessKeys",
    }
)
_BACKUP_PLAN_OPERATIONS = frozenset(
    {
        "GetBackupPlan",
        "UpdateBackupPlan",
        "DeleteBackupPlan",
        "GetBackupSelection",
        "ListBackupSelections",
        "DeleteBackupSelection",
    }
)
_IAM_POLICY_OPERATIONS = frozenset({"GetPolicy", "GetPolicyVersion", "DeletePolicy", "ListPolicyVersions"})


@dataclass(frozen=True)
class Permission:
    """One authorization IAM performs for a call: ``action`` on ``resource`` with the request ``context``."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    complete: tuple[str, ...] = ()
    """Condition-key prefixes ``context`` holds every key of (``aws:ResourceTag/`` once the tags are known)."""

    def allowed_by(self, documents: Iterable[Mapping[str, Any]]) -> bool:
        """Does an identity policy made of ``documents`` allow it?"""
        policies = [NamedPolicy(f"policy{i}", d) for i, d in enumerate(documents, start=1)]
        return evaluate(policies, self.action, self.resource, dict(self.context), self.complete).allowed


ResourceTags = Callable[[str], Mapping[str, str] | None]
"""A recovery point's tags by ARN (``None``: unknown, so a condition on them cannot be decided)."""
RESOURCE_TAG = "aws:ResourceTag/"
_RECOVERY_POINT_ACTIONS = frozenset(
    {
        "backup:StartRestoreJob",
        "backup:DescribeRecoveryPoint",
        "backup:DeleteRecoveryPoint",
        "backup:GetRecoveryPointRestoreMetadata",
    }
)


def is_recovery_point(arn: str) -> bool:
    """An AWS Backup recovery point ARN or a DynamoDB backup ARN (both are IAM's ``recoveryPoint``)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return False
    return (parts[2] == "backup" and parts[5].startswith("recovery-point:")) or (
        parts[2] == "dynamodb" and parts[5].startswith("table/") and "/backup/" in parts[5]
    )


def with_resource_tags(permission: Permission, resource_tags: ResourceTags | None) -> Permission:
    """``permission`` with its recovery point's ``aws:ResourceTag/`` keys, complete, when the tags are known."""
    if resource_tags is None or permission.action not in _RECOVERY_POINT_ACTIONS:
        return permission
    if not is_recovery_point(permission.resource):
        return permission
    tags = {} if permission.resource.split(":")[2] == "dynamodb" else resource_tags(permission.resource)
    if tags is None:
        return permission
    keys = tuple((f"{RESOURCE_TAG}{k}", str(v)) for k, v in sorted(tags.items()))
    return Permission(permission.action, permission.resource, permission.context + keys, (RESOURCE_TAG,))


ACTION_NAMES = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "lambda:InvokeFunction",
}
"""API operations whose IAM action has another name: Invoke is authorized as ``lambda:InvokeFunction``
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html)."""


def action_of(service: str, operation: str) -> str:
    """The IAM action an API call is authorized as (``service`` is botocore's name)."""
    named = ACTION_NAMES.get((service, operation))
    return named or f"{IAM_PREFIX.get(service, service)}:{operation}"


class UnknownCall(ValueError):
    """An API call :func:`permissions_for_call` does not know the authorization of (teach it, don't guess)."""


def _pass_role(role: Any, service: str) -> Permission:
    return Permission("iam:PassRole", str(role), (("iam:PassedToService", service),))


def permissions_for_call(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    region: str,
    account: str,
    resource_tags: ResourceTags | None = None,
) -> list[Permission]:
    """Every authorization IAM performs for one API call (``service`` is botocore's name, ``operation`` the API's).

    ``resource_tags`` supplies a recovery point's tags (see the module docstring). Raises :class:`UnknownCall`
    for a call not mapped here, so a new call cannot slip past a check built on it.
    """
    prefix = IAM_PREFIX.get(service)
    if prefix is None:
        raise UnknownCall(f"{service}:{operation}: service not covered")
    action = action_of(service, operation)
    if action in NO_RESOURCE_LEVEL:
        if operation == "CreateEventSourceMapping":
            function = _function_arn(str(params["FunctionName"]), region, account)
            return [Permission(action, "*", (("lambda:FunctionArn", function),))]
        return [Permission(action, "*")]
    handler = _BY_PREFIX.get(prefix)
    found: list[Permission] | None = handler(operation, action, params, region, account) if handler else None
    if found is None:
        raise UnknownCall(f"{action}: its resource is not known to dr_infra.targets.iam_calls.permissions_for_call")
    return [with_resource_tags(p, resource_tags) for p in found]


def _table_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _function_arn(name: str, region: str, account: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def _unqualified(arn: str) -> str:
    """A function ARN without its version/alias qualifier (IAM authorizes qualified ARNs on the same resource)."""
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def _transaction(operation: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission]:
    """Each item's own action on its table, with ``dynamodb:EnclosingOperation`` naming the transaction."""
    needs: list[Permission] = []
    for item in params["TransactItems"]:
        for kind, body in dict(item).items():
            table = _table_arn(str(body["TableName"]), region, account)
            permission = Permission(_TRANSACT_ACTIONS[kind], table, (("dynamodb:EnclosingOperation", operation),))
            if permission not in needs:
                needs.append(permission)
    return needs


_ITEM_OPERATIONS_ELSEWHERE = frozenset(
    {"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction", "TransactWriteItems", "TransactGetItems"}
)
_PARTIQL_TARGET = r'(?:"(?P<qt>[^"]+)"|(?P<bt>[A-Za-z0-9_\-]+))(?:\s*\.\s*(?:"(?P<qi>[^"]+)"|(?P<bi>[A-Za-z0-9_\-]+)))?'
_PARTIQL = (
    ("dynamodb:PartiQLSelect", re.compile(r"^\s*SELECT\b.*?\bFROM\s+" + _PARTIQL_TARGET, re.IGNORECASE | re.DOTALL)),
    ("dynamodb:PartiQLInsert", re.compile(r"^\s*INSERT\s+INTO\s+" + _PARTIQL_TARGET, re.IGNORECASE)),
    ("dynamodb:PartiQLUpdate", re.compile(r"^\s*UPDATE\s+" + _PARTIQL_TARGET, re.IGNORECASE)),
    ("dynamodb:PartiQLDelete", re.compile(r"^\s*DELETE\s+FROM\s+" + _PARTIQL_TARGET, re.IGNORECASE)),
)


def _partiql(statements: Iterable[str], region: str, account: str) -> list[Permission] | None:
    """``dynamodb:PartiQLSelect/Insert/Update/Delete`` on the table (or ``table/T/index/I``) each statement names;
    ``None`` when a statement is not one of those shapes (the call is then unknown, checked on ``*``)."""
    needs: list[Permission] = []
    for statement in statements:
        matched = next(((a, m) for a, p in _PARTIQL if (m := p.match(statement))), None)
        if matched is None:
            return None
        action, found = matched
        table = _table_arn(found.group("qt") or found.group("bt"), region, account)
        index = found.group("qi") or found.group("bi")
        permission = Permission(action, f"{table}/index/{index}" if index else table)
        if permission not in needs:
            needs.append(permission)
    return needs


def _dynamodb_items(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    """Item calls authorized on something else than the table they name: PartiQL, transactions, indexes."""
    if operation == "ExecuteStatement":
        return _partiql([str(params["Statement"])], region, account)
    if operation in ("BatchExecuteStatement", "ExecuteTransaction"):
        key = "Statements" if operation == "BatchExecuteStatement" else "TransactStatements"
        return _partiql([str(s["Statement"]) for s in params[key]], region, account)
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return _transaction(operation, params, region, account)
    table = _table_arn(str(params["TableName"]), region, account)  # Query / Scan of an index
    return [Permission(action, f"{table}/index/{params['IndexName']}")]


def _dynamodb(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    if operation in _ITEM_OPERATIONS_ELSEWHERE or (operation in ("Query", "Scan") and params.get("IndexName")):
        return _dynamodb_items(operation, action, params, region, account)
    if operation in _TABLE_NAME_OPERATIONS:
        return [Permission(action, _table_arn(str(params["TableName"]), region, account))]
    if operation in _RESOURCE_ARN_OPERATIONS:
        return [Permission(action, str(params["ResourceArn"]))]
    if operation in _STREAM_OPERATIONS:
        return [Permission(action, str(params["StreamArn"]))]
    if operation == "GetRecords":  # moto's shard iterators are "<stream arn>|1|<id>"
        return [Permission(action, str(params["ShardIterator"]).split("|", 1)[0])]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Permission(action, _table_arn(str(t), region, account)) for t in params["RequestItems"]]
    if operation in ("DescribeBackup", "DeleteBackup"):
        return [Permission(action, str(params["BackupArn"]))]
    if operation in ("RestoreTableToPointInTime", "RestoreTableFromBackup"):
        return _restore(operation, action, params, region, account)
    return None


def _restore(operation: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission]:
    """A restore's action on its source (table or backup) and the target table's actions."""
    if operation == "RestoreTableToPointInTime":
        source = _table_arn(str(params.get("SourceTableArn") or params["SourceTableName"]), region, account)
    else:
        source = str(params["BackupArn"])
    target = _table_arn(str(params["TargetTableName"]), region, account)
    return [Permission(action, source)] + [Permission(a, target) for a in RESTORE_TARGET_ACTIONS]


def _backup(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    vault = f"arn:aws:backup:{region}:{account}:backup-vault:{params.get('BackupVaultName', '')}"
    if operation == "StartRestoreJob":
        return [
            Permission(action, str(params["RecoveryPointArn"])),
            _pass_role(params["IamRoleArn"], "backup.amazonaws.com"),
        ]
    if operation == "StartBackupJob":
        return [Permission(action, vault), _pass_role(params["IamRoleArn"], "backup.amazonaws.com")]
    plan = (
        f"arn:aws:backup:{region}:{account}:backup-plan:{params.get('backupPlanId') or params.get('BackupPlanId', '')}"
    )
    if operation == "CreateBackupSelection":  # the selection's role is passed to AWS Backup
        return [Permission(action, plan), _pass_role(params["BackupSelection"]["IamRoleArn"], "backup.amazonaws.com")]
    if operation in _BACKUP_PLAN_OPERATIONS:
        return [Permission(action, plan)]
    if operation in ("DescribeRecoveryPoint", "DeleteRecoveryPoint", "GetRecoveryPointRestoreMetadata"):
        return [Permission(action, str(params["RecoveryPointArn"]))]
    if operation in (
        "ListRecoveryPointsByBackupVault",
        "DescribeBackupVault",
        "DeleteBackupVault",
        "CreateBackupVault",
    ):
        return [Permission(action, vault)]
    return None


def _lambda(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    if operation in _LAMBDA_FUNCTION_OPERATIONS:
        return [Permission(action, _unqualified(_function_arn(str(params["FunctionName"]), region, account)))]
    if operation == "CreateFunction":
        function = _function_arn(str(params["FunctionName"]), region, account)
        return [Permission(action, function), _pass_role(params["Role"], "lambda.amazonaws.com")]
    if operation == "UpdateFunctionConfiguration":
        function = _unqualified(_function_arn(str(params["FunctionName"]), region, account))
        needs = [Permission(action, function)]
        if params.get("Role"):
            needs.append(_pass_role(params["Role"], "lambda.amazonaws.com"))
        return needs
    if operation in _LAMBDA_MAPPING_OPERATIONS:
        mapping = f"arn:aws:lambda:{region}:{account}:event-source-mapping:{params['UUID']}"
        return [Permission(action, mapping)]
    return None


def _logs(operation: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission] | None:
    group = f"arn:aws:logs:{region}:{account}:log-group:{params.get('logGroupName', '')}"
    if operation in ("CreateLogStream", "PutLogEvents", "GetLogEvents"):
        return [Permission(action, f"{group}:log-stream:{params.get('logStreamName', '')}")]
    if operation in ("CreateLogGroup", "DeleteLogGroup", "DescribeLogStreams", "FilterLogEvents", "PutRetentionPolicy"):
        return [Permission(action, group)]
    return None


def _iam(operation: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission] | None:
    if operation in _IAM_ROLE_OPERATIONS:
        return [Permission(action, f"arn:aws:iam::{account}:role/{params['RoleName']}")]
    if operation in _IAM_USER_OPERATIONS:
        return [Permission(action, f"arn:aws:iam::{account}:user/{params['UserName']}")]
    if operation in _IAM_POLICY_OPERATIONS:
        return [Permission(action, str(params["PolicyArn"]))]
    return None


def _sts(operation: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[Permission] | None:
    if operation == "GetCallerIdentity":
        return []  # "No permissions are required to perform this operation" (API_GetCallerIdentity.html)
    if operation == "AssumeRole":
        return [Permission(action, str(params["RoleArn"]))]
    return None


_BY_PREFIX: dict[str, Any] = {
    "dynamodb": _dynamodb,
    "backup": _backup,
    "lambda": _lambda,
    "logs": _logs,
    "iam": _iam,
    "sts": _sts,
}
