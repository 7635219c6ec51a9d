"""AWS Backup acts with the job's IAM role: the role must trust backup.amazonaws.com and allow what the job does.

What AWS does (https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/security-iam-awsmanpol.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html): StartBackupJob and
StartRestoreJob name an ``IamRoleArn`` that AWS Backup assumes (the caller needs ``iam:PassRole`` on it, checked
by :mod:`iam_enforcement`). A role AWS Backup cannot assume fails the work with "The provided role <arn> cannot
be assumed by AWS Backup."; a role without a permission the job needs ends the job FAILED with IAM's message
for the role's session (``User: arn:aws:sts::<account>:assumed-role/<role>/AWSBackup-<role> is not authorized to
perform: dynamodb:ListTagsOfResource on resource: <table> because no identity-based policy allows ...``).

What a DynamoDB job needs, from AWS's managed service-role policies: a backup (advanced DynamoDB backup, as
the embedded target's recovery points are) ``dynamodb:DescribeTable``, ``dynamodb:ListTagsOfResource`` and
``dynamodb:StartAwsBackupJob`` on the table (``AWSBackupServiceRolePolicyForBackup``); a restore
``dynamodb:RestoreTableFromAwsBackup``, ``DescribeTable`` and the item reads/writes on the target table
(``AWSBackupServiceRolePolicyForRestores``). Evaluated by :mod:`dr_infra.targets.iam_evaluator` over the
role's inline and attached managed policies, capped by its permissions boundary.
"""

from __future__ import annotations

from dr_infra.targets.embedded import execution_role, principals
from dr_infra.targets.iam_calls import Permission
from dr_infra.targets.iam_evaluator import trusts_service

BACKUP_SERVICE = "backup.amazonaws.com"
BACKUP_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:StartAwsBackupJob")
RESTORE_ACTIONS = (
    "dynamodb:RestoreTableFromAwsBackup",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
)


def _account_of(role_arn: str, default: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else default


def assumable(role_arn: str, account: str) -> bool:
    """Does ``role_arn`` exist and trust backup.amazonaws.com (for a request from ``account``)?"""
    trust = principals.role_trust_policy(_account_of(role_arn, account), role_arn)
    return trust is not None and trusts_service(trust, BACKUP_SERVICE, {"aws:SourceAccount": account})


def _problem(role_arn: str, account: str, region: str, actions: tuple[str, ...], resource: str) -> str | None:
    from dr_infra.targets.embedded.iam_enforcement import denial_message

    role_account = _account_of(role_arn, account)
    if not assumable(role_arn, account):
        return f"The provided role {role_arn} cannot be assumed by AWS Backup."
    role_name = role_arn.split("/")[-1]
    session = f"arn:aws:sts::{role_account}:assumed-role/{role_name}/AWSBackup-{role_name}"
    for action in actions:
        result = execution_role.role_allows(role_arn, account, region, action, resource)
        if not result.allowed:
            return denial_message(session, Permission(action, resource), result)
    return None


def backup_problem(role_arn: str, account: str, region: str, table_arn: str) -> str | None:
    """Why AWS Backup, as ``role_arn``, cannot back ``table_arn`` up (``None``: it can)."""
    return _problem(role_arn, account, region, BACKUP_ACTIONS, table_arn)


def restore_problem(role_arn: str, account: str, region: str, target_table_arn: str) -> str | None:
    """Why AWS Backup, as ``role_arn``, cannot restore into ``target_table_arn`` (``None``: it can)."""
    return _problem(role_arn, account, region, RESTORE_ACTIONS, target_table_arn)
