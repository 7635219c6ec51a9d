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

from collections.abc import Mapping
from typing import Any

from dr_infra.targets.iam_calls_dynamodb import RESTORE_TARGET_ACTIONS, dynamodb_permissions
from dr_infra.targets.iam_calls_services import (
    backup_permissions,
    iam_permissions,
    lambda_permissions,
    logs_permissions,
    sts_permissions,
)
from dr_infra.targets.iam_permission import (
    RESOURCE_TAG,
    Permission,
    ResourceTags,
    function_arn,
    is_recovery_point,
    with_resource_tags,
)

__all__ = [
    "ACTION_NAMES",
    "IAM_PREFIX",
    "NO_RESOURCE_LEVEL",
    "RESOURCE_TAG",
    "RESTORE_TARGET_ACTIONS",
    "Permission",
    "ResourceTags",
    "UnknownCall",
    "action_of",
    "is_recovery_point",
    "permissions_for_call",
    "with_resource_tags",
]

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
            function = function_arn(str(params["FunctionName"]), region, account)
            return [Permission(action, "*", (("lambda:FunctionArn", function),))]
        return [Permission(action, "*")]
    handler = _BY_PREFIX.get(prefix)
    found: list[Permission] | None = handler(operation, action, params, region, account) if handler else None
    if found is None:
        raise UnknownCall(f"{action}: its resource is not known to dr_infra.targets.iam_calls.permissions_for_call")
    return [with_resource_tags(p, resource_tags) for p in found]


_BY_PREFIX = {
    "dynamodb": dynamodb_permissions,
    "backup": backup_permissions,
    "lambda": lambda_permissions,
    "logs": logs_permissions,
    "iam": iam_permissions,
    "sts": sts_permissions,
}
