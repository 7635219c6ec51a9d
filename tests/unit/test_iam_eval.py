"""The IAM reader behind the least-privilege posture check, and drdrill's own monitor policy."""

from __future__ import annotations

from typing import Any

import pytest

from dr_infra.stack.iam_policies import backup_role_policy, monitor_role_policy
from dr_infra.stack.names import StackNames
from dr_infra.verify import iam_eval

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


def _doc(*statements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def test_allow_matches_action_and_resource() -> None:
    docs = _doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE})
    assert iam_eval.allows(docs, "dynamodb:GetItem", TABLE)
    assert not iam_eval.allows(docs, "dynamodb:PutItem", TABLE)
    assert not iam_eval.allows(docs, "dynamodb:GetItem", TABLE + "-other")


def test_nothing_allowed_without_a_statement() -> None:
    assert not iam_eval.allows([], "dynamodb:GetItem", TABLE)
    assert not iam_eval.allows(_doc(), "dynamodb:GetItem", TABLE)


def test_explicit_deny_wins_over_allow() -> None:
    docs = _doc(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": TABLE},
    )
    assert iam_eval.allows(docs, "dynamodb:PutItem", TABLE)
    assert not iam_eval.allows(docs, "dynamodb:DeleteTable", TABLE)


def test_wildcards_in_actions_and_resources() -> None:
    docs = _doc({"Effect": "Allow", "Action": ["dynamodb:Get*", "backup:?escribeRestoreJob"], "Resource": f"{TABLE}*"})
    assert iam_eval.allows(docs, "dynamodb:GetRecords", f"{TABLE}/stream/2025")
    assert iam_eval.allows(docs, "DYNAMODB:GETITEM", TABLE)  # action names are case-insensitive
    assert iam_eval.allows(docs, "backup:DescribeRestoreJob", TABLE)
    assert not iam_eval.allows(docs, "dynamodb:Query", TABLE)
    assert not iam_eval.allows(docs, "dynamodb:GetItem", TABLE.upper())  # resources are case-sensitive


def test_conditions_string_equals_and_like() -> None:
    docs = _doc(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringLike": {"s3:prefix": ["home/*"]}},
        },
    )
    assert iam_eval.allows(docs, "iam:PassRole", "r", {"iam:PassedToService": "backup.amazonaws.com"})
    assert not iam_eval.allows(docs, "iam:PassRole", "r", {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not iam_eval.allows(docs, "iam:PassRole", "r")  # the key is absent: the condition fails
    assert iam_eval.allows(docs, "s3:GetObject", "o", {"s3:prefix": "home/alice"})
    assert not iam_eval.allows(docs, "s3:GetObject", "o", {"s3:prefix": "etc/passwd"})


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "x"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceIp": "1"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:dynamodb:*:*:table/${aws:username}"},
    ],
)
def test_what_it_cannot_evaluate_is_not_allowed(statement: dict[str, Any]) -> None:
    assert not iam_eval.allows(_doc(statement), "dynamodb:DeleteTable", TABLE)


REGION, ACCOUNT = "eu-west-1", "111122223333"
NAMES = StackNames("20250301t120000-abcd", 1, "orders")
MONITOR = [monitor_role_policy(NAMES, REGION, ACCOUNT)]
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMES.table}"
BACKUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.backup_role}"
TO_BACKUP = {"iam:PassedToService": "backup.amazonaws.com"}


def test_monitor_policy_allows_starting_restores() -> None:
    point = f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:abc-123"
    assert iam_eval.allows(MONITOR, "backup:StartRestoreJob", point, {"aws:ResourceTag/drdrill:run-id": NAMES.run_id})
    assert iam_eval.allows(MONITOR, "backup:StartRestoreJob", f"{TABLE_ARN}/backup/01234")
    assert iam_eval.allows(MONITOR, "dynamodb:RestoreTableToPointInTime", TABLE_ARN)


def test_monitor_policy_passes_only_the_backup_role_only_to_backup() -> None:
    assert iam_eval.allows(MONITOR, "iam:PassRole", BACKUP_ROLE, TO_BACKUP)
    assert not iam_eval.allows(MONITOR, "iam:PassRole", BACKUP_ROLE, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not iam_eval.allows(MONITOR, "iam:PassRole", BACKUP_ROLE)
    assert not iam_eval.allows(MONITOR, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{NAMES.monitor_role}", TO_BACKUP)
    assert not iam_eval.allows(MONITOR, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", TO_BACKUP)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("dynamodb:DeleteTable", TABLE_ARN),
        ("dynamodb:DeleteTable", f"{TABLE_ARN}-restored-x"),
        ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMES.ledger_table}"),
        ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/someone-elses-table"),
        ("backup:DeleteBackupVault", f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:{NAMES.vault}"),
        ("iam:CreateRole", "*"),
    ],
)
def test_monitor_policy_denies_destruction_and_foreign_resources(action: str, resource: str) -> None:
    assert not iam_eval.allows(MONITOR, action, resource, TO_BACKUP)


def test_backup_role_cannot_delete_the_protected_table() -> None:
    docs = [backup_role_policy(NAMES, REGION, ACCOUNT)]
    assert iam_eval.allows(docs, "dynamodb:StartAwsBackupJob", TABLE_ARN)
    assert not iam_eval.allows(docs, "dynamodb:DeleteTable", TABLE_ARN)


# -- what one API call needs (the check behind tests/lambda_unit/test_reprotect.py) ------------------------------
def _needs(service: str, operation: str, **params: Any) -> list[tuple[str, str, dict[str, str]]]:
    return [
        (p.action, p.resource, dict(p.context))
        for p in iam_eval.permissions_for_call(service, operation, params, REGION, ACCOUNT)
    ]


def test_a_table_call_needs_its_action_on_the_table_arn() -> None:
    assert _needs("dynamodb", "DescribeContinuousBackups", TableName=NAMES.table) == [
        ("dynamodb:DescribeContinuousBackups", TABLE_ARN, {})
    ]
    assert _needs("dynamodb", "ListTagsOfResource", ResourceArn=TABLE_ARN) == [
        ("dynamodb:ListTagsOfResource", TABLE_ARN, {})
    ]


def test_a_point_in_time_restore_needs_read_write_on_its_target() -> None:
    target = f"{TABLE_ARN}-restored-x"
    needs = _needs("dynamodb", "RestoreTableToPointInTime", SourceTableName=NAMES.table, TargetTableName=target)
    assert needs[0] == ("dynamodb:RestoreTableToPointInTime", TABLE_ARN, {})
    assert {(a, r) for a, r, _ in needs[1:]} == {(a, target) for a in iam_eval.RESTORE_TARGET_ACTIONS}


def test_starting_a_restore_job_passes_its_role_to_backup() -> None:
    point = f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:p"
    assert _needs("backup", "StartRestoreJob", RecoveryPointArn=point, IamRoleArn=BACKUP_ROLE) == [
        ("backup:StartRestoreJob", point, {}),
        ("iam:PassRole", BACKUP_ROLE, TO_BACKUP),
    ]


def test_actions_without_resource_level_permissions_are_checked_on_star() -> None:
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAMES.monitor_function}"
    assert _needs("lambda", "CreateEventSourceMapping", FunctionName=NAMES.monitor_function) == [
        ("lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": fn})
    ]
    assert _needs("backup", "ListRestoreJobs") == [("backup:ListRestoreJobs", "*", {})]


@pytest.mark.parametrize(("service", "operation"), [("dynamodb", "CreateGlobalTable"), ("s3", "GetObject")])
def test_an_unknown_call_is_an_error_not_a_guess(service: str, operation: str) -> None:
    with pytest.raises(iam_eval.UnknownCall):
        iam_eval.permissions_for_call(service, operation, {}, REGION, ACCOUNT)


def test_monitor_policy_lets_a_reprotected_table_be_restored_and_reprotected_again() -> None:
    restored = f"{TABLE_ARN}-restored-20250301T120000Z"
    for action in (
        "dynamodb:RestoreTableToPointInTime",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:ListTagsOfResource",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateTable",
        "dynamodb:TagResource",
    ):
        assert iam_eval.allows(MONITOR, action, restored), action
    assert iam_eval.allows(MONITOR, "backup:StartRestoreJob", f"{restored}/backup/01740000000000-abcdef12")
    assert not iam_eval.allows(MONITOR, "dynamodb:DeleteTable", restored)


def test_an_operation_is_authorized_as_its_iam_action_not_its_api_name() -> None:
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAMES.monitor_function}"
    assert _needs("lambda", "Invoke", FunctionName=NAMES.monitor_function) == [("lambda:InvokeFunction", fn, {})]
    assert _needs("lambda", "Invoke", FunctionName=f"{fn}:7") == [("lambda:InvokeFunction", fn, {})]


def test_partiql_statements_are_authorized_on_the_table_or_index_they_name() -> None:
    table = TABLE_ARN
    name = NAMES.table
    select = f'select * from "{name}"."by-status" where s = 1'  # noqa: S608 - a statement, never run
    assert _needs("dynamodb", "ExecuteStatement", Statement=select) == [
        ("dynamodb:PartiQLSelect", f"{table}/index/by-status", {})
    ]
    batch = [
        {"Statement": f"UPDATE {name} SET a = 1 WHERE pk = 'x'"},  # noqa: S608
        {"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'y'"},  # noqa: S608
    ]
    assert _needs("dynamodb", "BatchExecuteStatement", Statements=batch) == [
        ("dynamodb:PartiQLUpdate", table, {}),
        ("dynamodb:PartiQLDelete", table, {}),
    ]
    with pytest.raises(iam_eval.UnknownCall):  # a statement it cannot read is not guessed
        iam_eval.permissions_for_call("dynamodb", "ExecuteStatement", {"Statement": "EXISTS(...)"}, REGION, ACCOUNT)
