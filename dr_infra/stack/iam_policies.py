"""The IAM documents of the DR stack: trust policies and least-privilege, resource-scoped permissions.

Pure functions of the stack's names, region and account, so ``drdrill plan`` can print exactly what a run
would create without touching anything. Actions and resource types follow the service authorization
reference (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html,
.../list_awsbackup.html, .../list_awslambda.html); actions that do not support resource-level permissions
(``dynamodb:ListStreams``, ``backup:ListRestoreJobs``, ``backup:DescribeRestoreJob``,
``backup:ListRecoveryPointsByResource``, ``lambda:CreateEventSourceMapping``,
``lambda:ListEventSourceMappings``) are the only ones granted on ``*``. ``lambda:CreateEventSourceMapping`` is
narrowed by its ``lambda:FunctionArn`` condition key to the monitor function; ``lambda:ListEventSourceMappings``
has no condition key (a condition on it would deny it), so it is granted alone, unconditioned.
``tests/integration/test_least_privilege.py`` reads the monitor's policy back from IAM and pins this list.

Restores are scoped to the run's own backups. ``backup:StartRestoreJob`` acts on the ``recoveryPoint``
resource type, whose only condition keys are ``aws:ResourceTag/${TagKey}``; the action has none of its own
and needs ``iam:PassRole`` (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html).
An AWS Backup recovery point ARN names neither the vault nor the table (``recovery-point:ID``), so it is granted
only with the condition ``aws:ResourceTag/drdrill:run-id`` = the run id: every recovery point drdrill causes
carries that tag (``RecoveryPointTags`` of the plan's rules and of drdrill's StartBackupJob). A DynamoDB backup
ARN names its table (``table/NAME/backup/ID``) but carries no tags, so those are granted by table name.
"""

from __future__ import annotations

from typing import Any

from dr_infra.stack.names import TAG_RUN_ID, StackNames

PolicyDocument = dict[str, Any]
BACKUP_SERVICE = "backup.amazonaws.com"
LAMBDA_SERVICE = "lambda.amazonaws.com"


def trust_policy(service: str) -> PolicyDocument:
    """Who may assume a role: one AWS service."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _arns(names: StackNames, region: str, account: str) -> dict[str, str]:
    table = f"arn:aws:dynamodb:{region}:{account}:table/{names.table}"
    return {
        "table": table,
        "restored": f"{table}-restored-*",
        "ledger": f"arn:aws:dynamodb:{region}:{account}:table/{names.ledger_table}",
        "vault": f"arn:aws:backup:{region}:{account}:backup-vault:{names.vault}",
        "recovery_points": f"arn:aws:backup:{region}:{account}:recovery-point:*",
        "table_backups": f"{table}/backup/*",
        "backup_role": f"arn:aws:iam::{account}:role/{names.backup_role}",
        "monitor_fn": f"arn:aws:lambda:{region}:{account}:function:{names.monitor_function}",
        "logs": f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{names.prefix}-*",
    }


def backup_role_policy(names: StackNames, region: str, account: str, user_monitor: bool = False) -> PolicyDocument:
    """What AWS Backup needs to back up the table and restore it into new tables.

    AWS Backup restores *as this role*, so it may write only the tables named here: drdrill's monitor restores
    into ``<table>-restored-*``; a user's own monitor (stack definition ``[monitor]``) chooses its restore target
    names, which must then start with ``<table>-`` (``user_monitor=True``), or AWS ends the restore job FAILED
    with "... is not authorized to perform: dynamodb:RestoreTableFromAwsBackup ..."."""
    arn = _arns(names, region, account)
    if user_monitor:
        arn["restored"] = f"{arn['table']}-*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BackupTable",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeTable",
                    "dynamodb:CreateBackup",
                    "dynamodb:StartAwsBackupJob",
                    "dynamodb:ListTagsOfResource",
                    "dynamodb:DescribeContinuousBackups",
                ],
                "Resource": [arn["table"], arn["restored"]],
            },
            {
                "Sid": "ManageTableBackups",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeBackup",
                    "dynamodb:DeleteBackup",
                    "dynamodb:RestoreTableFromBackup",
                ],
                "Resource": [arn["table_backups"], f"{arn['restored']}/backup/*"],
            },
            {
                "Sid": "WriteRestoredTables",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:RestoreTableFromAwsBackup",
                    "dynamodb:DescribeTable",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:BatchWriteItem",
                ],
                "Resource": [arn["restored"]],
            },
            {
                "Sid": "UseVault",
                "Effect": "Allow",
                "Action": ["backup:DescribeBackupVault", "backup:CopyIntoBackupVault"],
                "Resource": [arn["vault"]],
            },
        ],
    }


def monitor_role_policy(names: StackNames, region: str, account: str) -> PolicyDocument:
    """The change monitor: read its streams, start restores, repair items, re-protect restored tables.

    It can pass exactly one role, the backup role, and only to AWS Backup; it cannot delete tables. It restores
    only recovery points tagged with this run's id and DynamoDB backups of this stack's tables (see the module
    docstring), so a compromised monitor cannot restore a production backup into a drill table.

    Restored tables are ``<table>-restored-*``: what the monitor's default ``DR_RESTORED_TABLE_TEMPLATE``
    (``{table}-restored-{incident}``) produces, also for a restore of a restored table (a template not
    starting with ``{table}-restored-`` needs this policy changed). Once re-protected, a restored table is a
    protected table, so it gets what the table gets (restore it to a point in time, describe its PITR, read
    its tags, repair items, start restores from its backups) plus what re-protection changes on it
    (``UpdateTable`` for the stream, ``UpdateContinuousBackups``, ``TagResource``) and the read/write
    permissions a restore needs on its *target* table ("RestoreTableToPointInTime permissions are necessary
    on the source table, and DynamoDB read and write permissions on the target table",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html).
    ``tests/lambda_unit/test_reprotect.py`` records every API call the monitor's flows make and checks each
    against this document with :func:`dr_infra.verify.iam_eval.permissions_for_call`.
    """
    arn = _arns(names, region, account)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadStreams",
                "Effect": "Allow",
                "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                "Resource": [f"{arn['table']}/stream/*", f"{arn['restored']}/stream/*"],
            },
            {"Sid": "ListStreams", "Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": ["*"]},
            {
                "Sid": "RestoreThisRunsRecoveryPoints",
                "Effect": "Allow",
                "Action": ["backup:StartRestoreJob", "backup:DescribeRecoveryPoint"],
                "Resource": [arn["recovery_points"]],
                "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_RUN_ID}": names.run_id}},
            },
            {
                "Sid": "RestoreTheTablesBackups",
                "Effect": "Allow",
                "Action": ["backup:StartRestoreJob", "backup:DescribeRecoveryPoint"],
                "Resource": [arn["table_backups"], f"{arn['restored']}/backup/*"],
            },
            {
                "Sid": "ListRecoveryPoints",
                "Effect": "Allow",
                "Action": ["backup:ListRecoveryPointsByBackupVault"],
                "Resource": [arn["vault"]],
            },
            {
                "Sid": "ReadRestoreJobs",
                "Effect": "Allow",
                "Action": [
                    "backup:DescribeRestoreJob",
                    "backup:ListRestoreJobs",
                    "backup:ListRecoveryPointsByResource",
                ],
                "Resource": ["*"],
            },
            {
                "Sid": "PointInTimeRestoreAndRepair",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:RestoreTableToPointInTime",
                    "dynamodb:DescribeContinuousBackups",
                    "dynamodb:DescribeTable",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:ListTagsOfResource",
                ],
                # A re-protected restored table is a protected table: the monitor restores and repairs it too.
                "Resource": [arn["table"], arn["restored"]],
            },
            {
                "Sid": "WriteRestoredTables",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeTable",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:UpdateTable",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:TagResource",
                ],
                "Resource": [arn["restored"]],
            },
            {
                "Sid": "IncidentLedger",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                "Resource": [arn["ledger"]],
            },
            {
                "Sid": "AttachMonitorToRestoredTables",
                "Effect": "Allow",
                "Action": ["lambda:CreateEventSourceMapping"],
                "Resource": ["*"],
                "Condition": {"StringEquals": {"lambda:FunctionArn": arn["monitor_fn"]}},
            },
            {
                "Sid": "FindMonitorMappings",
                "Effect": "Allow",
                "Action": ["lambda:ListEventSourceMappings"],
                "Resource": ["*"],
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [arn["logs"], f"{arn['logs']}:*"],
            },
            {
                "Sid": "PassOnlyTheBackupRoleToBackup",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [arn["backup_role"]],
                "Condition": {"StringEquals": {"iam:PassedToService": BACKUP_SERVICE}},
            },
        ],
    }
