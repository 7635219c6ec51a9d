"""The monitor restores only this run's recovery points: the tag condition, and how the tag context is built.

AWS: ``backup:StartRestoreJob`` acts on ``recoveryPoint``, whose condition keys are ``aws:ResourceTag/${TagKey}``
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html); a tag the resource
does not carry is missing from the request context, so ``StringEquals`` on it is false.
"""

from __future__ import annotations

from pathlib import Path

from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.definition import BackupDefinition, StackDefinition
from dr_infra.stack.iam_policies import monitor_role_policy
from dr_infra.stack.names import StackNames
from dr_infra.stack.provision import Stack
from dr_infra.stack.spec import StackSpec
from dr_infra.stack.user_stack import plan_document
from dr_infra.targets.iam_evaluator import Decision, NamedPolicy, evaluate
from dr_infra.verify import iam_eval

REGION, ACCOUNT = "us-east-1", "123456789012"
NAMES = StackNames("20250301t120000-abcd", 1, "orders")
MONITOR = [monitor_role_policy(NAMES, REGION, ACCOUNT)]
POINT = f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:1EB3B5E7"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMES.table}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.backup_role}"


def _start(tags: dict[str, dict[str, str]], point: str = POINT) -> list[iam_eval.Permission]:
    params = {"RecoveryPointArn": point, "IamRoleArn": ROLE, "Metadata": {"targetTableName": "x"}}
    return iam_eval.permissions_for_call("backup", "StartRestoreJob", params, REGION, ACCOUNT, tags.get)


def test_a_recovery_point_tagged_with_the_run_id_may_be_restored() -> None:
    needed = _start({POINT: {"drdrill:run-id": NAMES.run_id, "drdrill:managed": "true"}})
    assert needed[0].context == (
        ("aws:ResourceTag/drdrill:managed", "true"),
        ("aws:ResourceTag/drdrill:run-id", NAMES.run_id),
    )
    assert all(p.allowed_by(MONITOR) for p in needed)


def test_another_runs_an_untagged_or_an_unknown_recovery_point_is_denied_not_undecided() -> None:
    for tags in ({POINT: {"drdrill:run-id": "20250301t120000-ffff"}}, {POINT: {}}, {POINT: {"team": "prod"}}):
        restore = _start(tags)[0]
        assert not restore.allowed_by(MONITOR), tags
        result = evaluate(
            [NamedPolicy("m", MONITOR[0])], restore.action, restore.resource, dict(restore.context), restore.complete
        )
        assert result.decision is Decision.IMPLICIT_DENY, result.explain()


def test_without_the_tags_the_condition_cannot_be_decided_and_nothing_is_allowed() -> None:
    restore = iam_eval.permissions_for_call(
        "backup", "StartRestoreJob", {"RecoveryPointArn": POINT, "IamRoleArn": ROLE}, REGION, ACCOUNT
    )[0]
    assert restore.complete == ()
    result = evaluate([NamedPolicy("m", MONITOR[0])], restore.action, restore.resource, dict(restore.context))
    assert result.decision is Decision.UNDECIDABLE
    assert "aws:ResourceTag/drdrill:run-id" in result.explain()


def test_dynamodb_backups_carry_no_tags_and_are_scoped_by_table_name() -> None:
    ours = f"{TABLE_ARN}/backup/01740000000000-abcdef12"
    production = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/backup/01740000000000-abcdef12"
    restored = f"{TABLE_ARN}-restored-20250301T120500Z/backup/01740000000000-abcdef12"
    looked_up: list[str] = []

    def tags(arn: str) -> dict[str, str]:
        looked_up.append(arn)
        return {"drdrill:run-id": NAMES.run_id}

    for arn, allowed in ((ours, True), (restored, True), (production, False)):
        params = {"RecoveryPointArn": arn, "IamRoleArn": ROLE}
        restore = iam_eval.permissions_for_call("backup", "StartRestoreJob", params, REGION, ACCOUNT, tags)[0]
        assert restore.context == () and restore.complete == ("aws:ResourceTag/",)
        assert restore.allowed_by(MONITOR) is allowed, arn
    assert looked_up == []  # a DynamoDB backup's tags are never asked for: it has none


def test_describe_recovery_point_is_scoped_the_same_way() -> None:
    for run_id, allowed in ((NAMES.run_id, True), ("other", False)):
        params = {"RecoveryPointArn": POINT, "BackupVaultName": NAMES.vault}
        (describe,) = iam_eval.permissions_for_call(
            "backup", "DescribeRecoveryPoint", params, REGION, ACCOUNT, {POINT: {"drdrill:run-id": run_id}}.get
        )
        assert describe.allowed_by(MONITOR) is allowed


def test_other_calls_get_no_resource_tag_context() -> None:
    (describe,) = iam_eval.permissions_for_call(
        "dynamodb", "DescribeTable", {"TableName": NAMES.table}, REGION, ACCOUNT, lambda arn: {"k": "v"}
    )
    assert describe.context == () and describe.complete == ()


def test_a_negated_condition_on_a_missing_tag_holds_when_the_tags_are_known() -> None:
    deny_prod = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "backup:StartRestoreJob", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "backup:StartRestoreJob",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:ResourceTag/env": "drill"}},
            },
        ],
    }
    assert not _start({POINT: {}})[0].allowed_by([deny_prod])  # no env tag: StringNotEquals holds, Deny wins
    assert _start({POINT: {"env": "drill"}})[0].allowed_by([deny_prod])


def test_every_rule_of_the_stacks_plan_tags_its_recovery_points_with_the_run() -> None:
    default = plan_document(Stack(NAMES, StackSpec(), REGION, ACCOUNT, Cleanups()))
    assert [r["RecoveryPointTags"] for r in default["Rules"]] == [NAMES.tags()]
    users = {
        "BackupPlanName": "theirs",
        "Rules": [
            {"RuleName": "daily", "TargetBackupVaultName": "v", "RecoveryPointTags": {"team": "payments"}},
            {"RuleName": "hourly", "TargetBackupVaultName": "v", "RecoveryPointTags": {"drdrill:run-id": "forged"}},
        ],
    }
    backup = BackupDefinition(users, {"SelectionName": "s", "IamRoleArn": "r"}, Path("p.json"), Path("s.json"))
    spec = StackSpec(definition=StackDefinition(Path("stack.toml"), backup=backup))
    theirs = plan_document(Stack(NAMES, spec, REGION, ACCOUNT, Cleanups()))
    assert [r["RecoveryPointTags"] for r in theirs["Rules"]] == [
        {"team": "payments", **NAMES.tags()},
        NAMES.tags(),  # the run's id wins over whatever the user's file says
    ]
