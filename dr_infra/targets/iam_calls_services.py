"""Which permissions an AWS Backup, Lambda, CloudWatch Logs, IAM or STS API call needs.

Part of :func:`dr_infra.targets.iam_calls.permissions_for_call` (sources: its docstring;
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html, .../list_awslambda.html,
.../list_amazoncloudwatchlogs.html, .../list_awsidentityandaccessmanagementiam.html,
.../list_awssecuritytokenservice.html). Each function returns ``None`` for a call it does not map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dr_infra.targets.iam_permission import Permission, function_arn, pass_role, unqualified

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


def backup_permissions(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    vault = f"arn:aws:backup:{region}:{account}:backup-vault:{params.get('BackupVaultName', '')}"
    if operation == "StartRestoreJob":
        return [
            Permission(action, str(params["RecoveryPointArn"])),
            pass_role(params["IamRoleArn"], "backup.amazonaws.com"),
        ]
    if operation == "StartBackupJob":
        return [Permission(action, vault), pass_role(params["IamRoleArn"], "backup.amazonaws.com")]
    plan = (
        f"arn:aws:backup:{region}:{account}:backup-plan:{params.get('backupPlanId') or params.get('BackupPlanId', '')}"
    )
    if operation == "CreateBackupSelection":  # the selection's role is passed to AWS Backup
        return [Permission(action, plan), pass_role(params["BackupSelection"]["IamRoleArn"], "backup.amazonaws.com")]
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


def lambda_permissions(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    if operation in _LAMBDA_FUNCTION_OPERATIONS:
        return [Permission(action, unqualified(function_arn(str(params["FunctionName"]), region, account)))]
    if operation == "CreateFunction":
        function = function_arn(str(params["FunctionName"]), region, account)
        return [Permission(action, function), pass_role(params["Role"], "lambda.amazonaws.com")]
    if operation == "UpdateFunctionConfiguration":
        function = unqualified(function_arn(str(params["FunctionName"]), region, account))
        needs = [Permission(action, function)]
        if params.get("Role"):
            needs.append(pass_role(params["Role"], "lambda.amazonaws.com"))
        return needs
    if operation in _LAMBDA_MAPPING_OPERATIONS:
        mapping = f"arn:aws:lambda:{region}:{account}:event-source-mapping:{params['UUID']}"
        return [Permission(action, mapping)]
    return None


def logs_permissions(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    group = f"arn:aws:logs:{region}:{account}:log-group:{params.get('logGroupName', '')}"
    if operation in ("CreateLogStream", "PutLogEvents", "GetLogEvents"):
        return [Permission(action, f"{group}:log-stream:{params.get('logStreamName', '')}")]
    if operation in ("CreateLogGroup", "DeleteLogGroup", "DescribeLogStreams", "FilterLogEvents", "PutRetentionPolicy"):
        return [Permission(action, group)]
    return None


def iam_permissions(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    if operation in _IAM_ROLE_OPERATIONS:
        return [Permission(action, f"arn:aws:iam::{account}:role/{params['RoleName']}")]
    if operation in _IAM_USER_OPERATIONS:
        return [Permission(action, f"arn:aws:iam::{account}:user/{params['UserName']}")]
    if operation in _IAM_POLICY_OPERATIONS:
        return [Permission(action, str(params["PolicyArn"]))]
    return None


def sts_permissions(
    operation: str, action: str, params: Mapping[str, Any], region: str, account: str
) -> list[Permission] | None:
    if operation == "GetCallerIdentity":
        return []  # "No permissions are required to perform this operation" (API_GetCallerIdentity.html)
    if operation == "AssumeRole":
        return [Permission(action, str(params["RoleArn"]))]
    return None
