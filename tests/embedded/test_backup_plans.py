"""AWS Backup plans and selections are validated as AWS validates them (black box, plain boto3)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from restore_helpers import create_role

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.target import fake_session


@pytest.fixture
def env(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    # one attempt: botocore retries LimitExceededException as a throttle, which would only slow the refusals down
    backup = fake_session(embedded.region).client(
        "backup", endpoint_url=embedded.endpoint_url, config=Config(retries={"total_max_attempts": 1})
    )
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(embedded.client("iam"), f"plan-role-{unique}")
    return {"backup": backup, "vault": vault, "u": unique, "role": role}


def _plan(env: dict[str, Any], name: str = "", **rule: Any) -> dict[str, Any]:
    return {
        "BackupPlanName": name or f"plan-{env['u']}",
        "Rules": [{"RuleName": "every-12-hours", "TargetBackupVaultName": env["vault"], **rule}],
    }


def _refused(call: Any, code: str = "InvalidParameterValueException") -> str:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == code, err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(err.value.response["Error"]["Message"])


SEED_RULE: dict[str, Any] = {
    "ScheduleExpression": "cron(0 */12 * * ? *)",
    "Lifecycle": {"DeleteAfterDays": 35},
    "EnableContinuousBackup": True,
}


def test_the_seed_plan_is_accepted_and_read_back(env: dict[str, Any]) -> None:
    backup = env["backup"]
    created = backup.create_backup_plan(BackupPlan=_plan(env, **SEED_RULE, StartWindowMinutes=60))
    rule = backup.get_backup_plan(BackupPlanId=created["BackupPlanId"])["BackupPlan"]["Rules"][0]
    assert rule["ScheduleExpression"] == "cron(0 */12 * * ? *)"
    assert rule["StartWindowMinutes"] == 60
    assert rule["CompletionWindowMinutes"] == 10080  # AWS's default


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"ScheduleExpression": "every 12 hours please"}, "ScheduleExpression"),
        ({"ScheduleExpression": "cron(0 12 * * * *)"}, "day-of-week"),  # one of the day fields must be ?
        ({"ScheduleExpression": "cron(*/10 * * * ? *)"}, "60 minutes"),  # more often than hourly
        ({"StartWindowMinutes": 59}, "StartWindowMinutes"),
        ({"CompletionWindowMinutes": 52_560_001}, "CompletionWindowMinutes"),
        ({"Lifecycle": {"MoveToColdStorageAfterDays": 10, "DeleteAfterDays": 99}}, "90 days"),
        ({"Lifecycle": {"DeleteAfterDays": 36_501}}, "DeleteAfterDays"),
        ({"EnableContinuousBackup": True, "Lifecycle": {"DeleteAfterDays": 36}}, "35 days"),
        (
            {"EnableContinuousBackup": True, "Lifecycle": {"MoveToColdStorageAfterDays": 1, "DeleteAfterDays": 91}},
            "MoveToColdStorageAfterDays is unavailable",
        ),
    ],
)
def test_a_rule_aws_refuses_is_refused(env: dict[str, Any], rule: dict[str, Any], words: str) -> None:
    message = _refused(lambda: env["backup"].create_backup_plan(BackupPlan=_plan(env, **rule)))
    assert message.startswith("Error in rule every-12-hours : ")
    assert words in message
    names = [p["BackupPlanName"] for p in env["backup"].list_backup_plans()["BackupPlansList"]]
    assert f"plan-{env['u']}" not in names  # nothing was stored


def test_the_cold_storage_boundary_is_exactly_90_days(env: dict[str, Any]) -> None:
    lifecycle = {"MoveToColdStorageAfterDays": 10, "DeleteAfterDays": 100}
    assert env["backup"].create_backup_plan(BackupPlan=_plan(env, Lifecycle=lifecycle))["BackupPlanId"]


def test_the_target_vault_must_exist(env: dict[str, Any]) -> None:
    plan = _plan(env)
    plan["Rules"][0]["TargetBackupVaultName"] = f"missing-{env['u']}"
    assert "does not exist" in _refused(lambda: env["backup"].create_backup_plan(BackupPlan=plan))


def test_a_deleted_plan_frees_its_name_and_a_live_one_does_not(env: dict[str, Any]) -> None:
    backup = env["backup"]
    first = backup.create_backup_plan(BackupPlan=_plan(env))["BackupPlanId"]
    _refused(lambda: backup.create_backup_plan(BackupPlan=_plan(env)), "AlreadyExistsException")
    backup.delete_backup_plan(BackupPlanId=first)
    second = backup.create_backup_plan(BackupPlan=_plan(env))["BackupPlanId"]
    assert second != first


def test_a_plan_with_selections_cannot_be_deleted(env: dict[str, Any]) -> None:
    backup = env["backup"]
    plan_id = backup.create_backup_plan(BackupPlan=_plan(env))["BackupPlanId"]
    selection = backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection={"SelectionName": "s", "IamRoleArn": env["role"], "Resources": ["*"]}
    )["SelectionId"]
    message = _refused(lambda: backup.delete_backup_plan(BackupPlanId=plan_id), "InvalidRequestException")
    assert "selections must be deleted" in message
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection)
    assert backup.delete_backup_plan(BackupPlanId=plan_id)["DeletionDate"]


def test_update_backup_plan_validates_and_replaces_the_rules(env: dict[str, Any]) -> None:
    backup = env["backup"]
    created = backup.create_backup_plan(BackupPlan=_plan(env))
    plan_id = created["BackupPlanId"]
    _refused(lambda: backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=_plan(env, StartWindowMinutes=5)))
    assert backup.get_backup_plan(BackupPlanId=plan_id)["VersionId"] == created["VersionId"]  # unchanged
    updated = backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=_plan(env, **SEED_RULE))
    assert updated["VersionId"] != created["VersionId"]
    rule = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][0]
    assert rule["ScheduleExpression"] == "cron(0 */12 * * ? *)"
    _refused(lambda: backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=_plan(env, name="renamed")))
    _refused(
        lambda: backup.update_backup_plan(BackupPlanId="no-such-plan", BackupPlan=_plan(env)),
        "ResourceNotFoundException",
    )


def _selection(env: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"SelectionName": "tables", "IamRoleArn": env["role"], "Resources": ["*"], **changes}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"IamRoleArn": "not-an-arn"}, "InvalidParameterValueException"),
        ({"IamRoleArn": "arn:aws:iam::123456789012:user/alice"}, "InvalidParameterValueException"),
        ({"SelectionName": "bad name!"}, "InvalidParameterValueException"),
        ({"Resources": ["orders-table"]}, "InvalidParameterValueException"),
        (
            {"Resources": [f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}" for i in range(501)]},
            "LimitExceededException",
        ),
        (
            {"Resources": [f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}-*" for i in range(31)]},
            "LimitExceededException",
        ),
    ],
)
def test_a_selection_aws_refuses_is_refused(env: dict[str, Any], changes: dict[str, Any], code: str) -> None:
    backup = env["backup"]
    plan_id = backup.create_backup_plan(BackupPlan=_plan(env))["BackupPlanId"]
    _refused(
        lambda: backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=_selection(env, **changes)), code
    )
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []


def test_a_selection_at_the_limits_is_accepted(env: dict[str, Any]) -> None:
    backup = env["backup"]
    plan_id = backup.create_backup_plan(BackupPlan=_plan(env))["BackupPlanId"]
    arns = [f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}" for i in range(500)]
    wild = [f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}-*" for i in range(30)]
    backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=_selection(env, Resources=arns + wild))
    assert len(backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]) == 1


def test_a_selection_whose_role_aws_backup_cannot_assume_is_refused(
    embedded: EmbeddedTarget, env: dict[str, Any]
) -> None:
    """AWS: InvalidParameterValueException "IAM Role <arn> cannot be assumed by AWS Backup" for a missing role or
    one that does not trust backup.amazonaws.com; a role that does is accepted."""
    backup, iam = env["backup"], embedded.client("iam")
    plan_id = backup.create_backup_plan(BackupPlan=_plan(env))["BackupPlanId"]
    missing = env["role"] + "-missing"
    bad = _selection(env, IamRoleArn=missing)
    message = _refused(lambda: backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=bad))
    assert message == f"IAM Role {missing} cannot be assumed by AWS Backup"
    lambda_trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},'
        ' "Action": "sts:AssumeRole"}]}'
    )
    untrusting = iam.create_role(RoleName=f"lambda-only-{env['u']}", AssumeRolePolicyDocument=lambda_trust)["Role"]
    assert "cannot be assumed by AWS Backup" in _refused(
        lambda: backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=_selection(env, IamRoleArn=untrusting["Arn"])
        )
    )
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    created = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=_selection(env))
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=created["SelectionId"])
    assert got["BackupSelection"]["IamRoleArn"] == env["role"]
