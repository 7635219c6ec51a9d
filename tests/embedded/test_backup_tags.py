"""Recovery point tags on the embedded target, as AWS keeps them (boto3 only).

StartBackupJob's ``RecoveryPointTags`` and a plan rule's ``RecoveryPointTags`` are put on the recovery point
(https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html,
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html); ListTags returns them and
refuses a recovery point that does not exist (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListTags.html).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import create_role, create_table, wait_for

from dr_infra.targets.embedded import EmbeddedTarget

HOUR = 3600.0
TAGS = {"drdrill:run-id": "20250301t120000-abcd", "drdrill:managed": "true"}


@pytest.fixture
def world(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    ddb, backup, iam = embedded.client("dynamodb"), embedded.client("backup"), embedded.client("iam")
    arn = create_table(ddb, f"tags-{unique}")
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    return {"backup": backup, "arn": arn, "vault": vault, "role": create_role(iam, f"tags-role-{unique}"),
            "scope": f"plan-{unique}"}  # fmt: skip


def _backup(w: dict[str, Any], **extra: Any) -> str:
    job = w["backup"].start_backup_job(BackupVaultName=w["vault"], ResourceArn=w["arn"], IamRoleArn=w["role"], **extra)
    return str(job["RecoveryPointArn"])


def test_start_backup_job_puts_its_recovery_point_tags_on_the_recovery_point(world: dict[str, Any]) -> None:
    tagged, untagged = _backup(world, RecoveryPointTags=TAGS), _backup(world)
    assert world["backup"].list_tags(ResourceArn=tagged)["Tags"] == TAGS
    assert world["backup"].list_tags(ResourceArn=untagged)["Tags"] == {}


def test_list_tags_of_a_recovery_point_that_does_not_exist_is_resource_not_found(world: dict[str, Any]) -> None:
    missing = f"arn:aws:backup:us-east-1:123456789012:recovery-point:{str(uuid.uuid4()).upper()}"
    with pytest.raises(ClientError) as refused:
        world["backup"].list_tags(ResourceArn=missing)
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_deleted_recovery_point_loses_its_tags(world: dict[str, Any]) -> None:
    point = _backup(world, RecoveryPointTags=TAGS)
    backup = world["backup"]
    wait_for(lambda: backup.describe_recovery_point(BackupVaultName=world["vault"], RecoveryPointArn=point)["Status"],
             lambda status: status == "COMPLETED")  # fmt: skip
    backup.delete_recovery_point(BackupVaultName=world["vault"], RecoveryPointArn=point)
    with pytest.raises(ClientError) as gone:
        backup.list_tags(ResourceArn=point)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("tags", "problem"),
    [({"aws:owner": "x"}, "reserved"), ({"k" * 129: "v"}, "1 to 128"), ({"k": "v" * 257}, "0 to 256")],
)
def test_bad_recovery_point_tags_are_refused_before_any_job(world: dict[str, Any], tags: Any, problem: str) -> None:
    before = world["backup"].list_backup_jobs(ByResourceArn=world["arn"])["BackupJobs"]
    with pytest.raises(ClientError) as refused:
        _backup(world, RecoveryPointTags=tags)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert problem in refused.value.response["Error"]["Message"]
    assert world["backup"].list_backup_jobs(ByResourceArn=world["arn"])["BackupJobs"] == before


def test_a_plan_rules_recovery_point_tags_are_on_every_recovery_point_it_makes(
    embedded: EmbeddedTarget, world: dict[str, Any]
) -> None:
    assert embedded.control is not None
    backup = world["backup"]
    rule = {"RuleName": "r", "TargetBackupVaultName": world["vault"], "ScheduleExpression": "cron(0 0/12 * * ? *)"}
    with pytest.raises(ClientError) as refused:
        backup.create_backup_plan(BackupPlan={"BackupPlanName": world["scope"], "Rules": [
            {**rule, "RecoveryPointTags": {"aws:x": "y"}}]})  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    plan_id = backup.create_backup_plan(
        BackupPlan={"BackupPlanName": world["scope"], "Rules": [{**rule, "RecoveryPointTags": TAGS}]}
    )["BackupPlanId"]
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": "t", "IamRoleArn": world["role"], "Resources": [world["arn"]]},
    )
    embedded.control.advance_plan_clock(24 * HOUR, scope=world["scope"])
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=world["vault"])["RecoveryPoints"]
    made = [p["RecoveryPointArn"] for p in points if (p.get("CreatedBy") or {}).get("BackupPlanId") == plan_id]
    assert len(made) == 2, points
    assert [backup.list_tags(ResourceArn=arn)["Tags"] for arn in made] == [TAGS, TAGS]
