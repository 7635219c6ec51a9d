"""AWS Backup operations moto has no route for answer in AWS's JSON shape: implemented, or "not modelled"
(black box, plain boto3)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from restore_helpers import completed_backup, create_role, create_table, finished_restore, put

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.target import fake_session


@pytest.fixture
def backup(embedded: EmbeddedTarget) -> Any:
    """One attempt, so a refusal is seen as it is served."""
    return fake_session(embedded.region).client(
        "backup", endpoint_url=embedded.endpoint_url, config=Config(retries={"total_max_attempts": 1})
    )


@pytest.fixture
def protected(embedded: EmbeddedTarget, backup: Any, unique: str) -> dict[str, Any]:
    """A table with two completed recovery points in a vault."""
    ddb = embedded.client("dynamodb")
    table = f"protected-{unique}"
    arn = create_table(ddb, table)
    put(ddb, table, "a", 1)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(embedded.client("iam"), f"protected-role-{unique}")
    points = [completed_backup(backup, vault, arn, role) for _ in range(2)]
    return {"table": table, "arn": arn, "vault": vault, "role": role, "points": points, "u": unique}


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return {
        "code": response["Error"]["Code"],
        "message": response["Error"]["Message"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def _all_results(backup: Any) -> list[dict[str, Any]]:
    return [r for page in backup.get_paginator("list_protected_resources").paginate() for r in page["Results"]]


def test_list_protected_resources_lists_a_backed_up_table_with_its_newest_point(
    backup: Any, protected: dict[str, Any]
) -> None:
    mine = [r for r in _all_results(backup) if r["ResourceArn"] == protected["arn"]]
    assert len(mine) == 1
    assert mine[0]["ResourceType"] == "DynamoDB"
    assert mine[0]["ResourceName"] == protected["table"]
    assert mine[0]["LastRecoveryPointArn"] == protected["points"][-1]
    assert mine[0]["LastBackupVaultArn"].endswith(f":backup-vault:{protected['vault']}")
    by_vault = backup.list_protected_resources_by_backup_vault(BackupVaultName=protected["vault"])["Results"]
    assert [r["ResourceArn"] for r in by_vault] == [protected["arn"]]


def test_a_table_never_backed_up_is_not_protected(embedded: EmbeddedTarget, backup: Any, unique: str) -> None:
    arn = create_table(embedded.client("dynamodb"), f"unprotected-{unique}")
    assert arn not in [r["ResourceArn"] for r in _all_results(backup)]
    error = _error(lambda: backup.describe_protected_resource(ResourceArn=arn))
    assert (error["code"], error["status"]) == ("ResourceNotFoundException", 400)
    missing = _error(lambda: backup.list_protected_resources_by_backup_vault(BackupVaultName=f"none-{unique}"))
    assert missing["code"] == "ResourceNotFoundException"
    assert _error(lambda: backup.list_protected_resources(MaxResults=1001))["code"] == "InvalidParameterValueException"


def test_describe_protected_resource_shows_the_latest_restore(backup: Any, protected: dict[str, Any]) -> None:
    before = backup.describe_protected_resource(ResourceArn=protected["arn"])
    assert before["LastRecoveryPointArn"] == protected["points"][-1]
    assert "LatestRestoreJobCreationDate" not in before
    job = backup.start_restore_job(
        RecoveryPointArn=protected["points"][0],
        Metadata={"targetTableName": f"{protected['table']}-restored"},
        IamRoleArn=protected["role"],
    )["RestoreJobId"]
    assert finished_restore(backup, job)["Status"] == "COMPLETED"
    after = backup.describe_protected_resource(ResourceArn=protected["arn"])
    restore = backup.describe_restore_job(RestoreJobId=job)
    assert after["LatestRestoreJobCreationDate"] == restore["CreationDate"]
    assert after["LatestRestoreRecoveryPointCreationDate"] == restore["RecoveryPointCreationDate"]
    assert after["LatestRestoreExecutionTimeMinutes"] >= 1


def test_list_copy_jobs_is_empty_without_copy_actions_and_not_modelled_with_them(
    backup: Any, protected: dict[str, Any]
) -> None:
    assert backup.list_copy_jobs()["CopyJobs"] == []
    other = f"copies-{protected['u']}"
    backup.create_backup_vault(BackupVaultName=other)
    other_arn = backup.describe_backup_vault(BackupVaultName=other)["BackupVaultArn"]
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": f"copying-{protected['u']}",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": protected["vault"],
                    "CopyActions": [{"DestinationBackupVaultArn": other_arn}],
                }
            ],
        }
    )["BackupPlanId"]
    try:
        error = _error(lambda: backup.list_copy_jobs())
        assert (error["code"], error["status"]) == ("UnknownOperationException", 400)
        assert "not modelled" in error["message"] and "CopyActions" in error["message"]
    finally:
        backup.delete_backup_plan(BackupPlanId=plan)
    assert backup.list_copy_jobs()["CopyJobs"] == []


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        (
            "start_copy_job",
            {
                "RecoveryPointArn": "arn:aws:backup:us-east-1:123456789012:recovery-point:x",
                "SourceBackupVaultName": "v",
                "DestinationBackupVaultArn": "arn:aws:backup:us-east-1:123456789012:backup-vault:w",
                "IamRoleArn": "arn:aws:iam::123456789012:role/r",
            },
        ),
        ("list_backup_job_summaries", {}),
        ("describe_region_settings", {}),
        ("get_backup_vault_access_policy", {"BackupVaultName": "v"}),
        ("list_restore_testing_plans", {}),
    ],
)
def test_an_operation_without_a_moto_route_is_not_modelled_in_awss_shape(
    backup: Any, operation: str, kwargs: dict[str, Any]
) -> None:
    """moto answers these with an HTML 404; the embedded target with AWS's JSON error naming the operation."""
    error = _error(lambda: getattr(backup, operation)(**kwargs))
    assert error["status"] == 400
    assert error["code"] == "UnknownOperationException"
    assert "is not modelled by drdrill's embedded target" in error["message"]
    assert "<html" not in error["message"].lower()


def test_the_routed_operations_still_answer(backup: Any, protected: dict[str, Any]) -> None:
    """The last-resort route does not shadow the operations moto and the gap-fillers serve."""
    assert protected["vault"] in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]
    points = backup.list_recovery_points_by_resource(ResourceArn=protected["arn"])["RecoveryPoints"]
    assert sorted(p["RecoveryPointArn"] for p in points) == sorted(protected["points"])
    assert backup.list_report_plans()["ReportPlans"] == []
