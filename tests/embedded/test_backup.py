"""AWS Backup for DynamoDB on the embedded target, read back through plain boto3."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import (
    completed_backup,
    contents,
    create_role,
    create_table,
    finished_restore,
    put,
    restore_job,
    table_status,
    wait_active,
    wait_for,
)

from dr_infra.targets.embedded import EmbeddedTarget


@pytest.fixture
def setup(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    """A table with a, b, c (v=1), a vault and a backup role."""
    ddb, backup, iam = embedded.client("dynamodb"), embedded.client("backup"), embedded.client("iam")
    table = f"orders-{unique}"
    arn = create_table(ddb, table, stream=True, tags=True)
    for pk in "abc":
        put(ddb, table, pk, 1)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(iam, f"backup-role-{unique}")
    return {
        "ddb": ddb,
        "backup": backup,
        "table": table,
        "arn": arn,
        "vault": vault,
        "role": role,
        "u": unique,
    }


def test_backup_selection_create_get_list_delete(setup: dict[str, Any]) -> None:
    backup = setup["backup"]
    plan_id = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": f"plan-{setup['u']}",
            "Rules": [{"RuleName": "r", "TargetBackupVaultName": setup["vault"]}],
        }
    )["BackupPlanId"]
    created = backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": "tables", "IamRoleArn": setup["role"], "Resources": [setup["arn"]]},
    )
    selection_id = created["SelectionId"]
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"]["Resources"] == [setup["arn"]]
    assert got["BackupSelection"]["IamRoleArn"] == setup["role"]
    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (selection_id, "tables", setup["role"])
    ]
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as err:
        backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_backup_job_goes_created_running_completed_and_lists(setup: dict[str, Any], embedded: EmbeddedTarget) -> None:
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.01)  # backup job: 0.6 s
    backup = setup["backup"]
    job = backup.start_backup_job(BackupVaultName=setup["vault"], ResourceArn=setup["arn"], IamRoleArn=setup["role"])
    job_id = job["BackupJobId"]
    first = backup.describe_backup_job(BackupJobId=job_id)
    assert first["State"] in ("CREATED", "RUNNING")
    assert "CompletionDate" not in first
    running = wait_for(lambda: backup.describe_backup_job(BackupJobId=job_id), lambda j: j["State"] == "RUNNING")
    done = wait_for(lambda: backup.describe_backup_job(BackupJobId=job_id), lambda j: j["State"] == "COMPLETED")
    assert float(first["PercentDone"]) <= float(running["PercentDone"]) < float(done["PercentDone"]) == 100.0
    assert done["RecoveryPointArn"] == job["RecoveryPointArn"]
    assert done["ResourceType"] == "DynamoDB" and done["CompletionDate"] >= done["CreationDate"]

    by_resource = backup.list_backup_jobs(ByResourceArn=setup["arn"])["BackupJobs"]
    assert [j["BackupJobId"] for j in by_resource] == [job_id]
    assert job_id in [j["BackupJobId"] for j in backup.list_backup_jobs(ByState="COMPLETED")["BackupJobs"]]
    assert job_id not in [j["BackupJobId"] for j in backup.list_backup_jobs(ByState="RUNNING")["BackupJobs"]]
    assert [j["BackupJobId"] for j in backup.list_backup_jobs(ByBackupVaultName=setup["vault"])["BackupJobs"]] == [
        job_id
    ]


def test_recovery_point_listed_described_and_in_dynamodb_backups(setup: dict[str, Any]) -> None:
    backup, ddb = setup["backup"], setup["ddb"]
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    # an AWS Backup ARN, as accounts with advanced DynamoDB backup features (the default since 2021) get
    assert re.fullmatch(r"arn:aws:backup:us-east-1:123456789012:recovery-point:[0-9A-F-]{36}", rp), rp
    in_vault = backup.list_recovery_points_by_backup_vault(BackupVaultName=setup["vault"])["RecoveryPoints"]
    assert [(p["RecoveryPointArn"], p["Status"], p["ResourceArn"]) for p in in_vault] == [
        (rp, "COMPLETED", setup["arn"])
    ]
    by_resource = backup.list_recovery_points_by_resource(ResourceArn=setup["arn"])["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in by_resource] == [rp]
    described = backup.describe_recovery_point(BackupVaultName=setup["vault"], RecoveryPointArn=rp)
    assert described["ResourceType"] == "DynamoDB" and described["IamRoleArn"] == setup["role"]
    metadata = backup.get_recovery_point_restore_metadata(BackupVaultName=setup["vault"], RecoveryPointArn=rp)
    assert metadata["RestoreMetadata"]["targetTableName"] == setup["table"]
    dynamodb_backups = ddb.list_backups(TableName=setup["table"], BackupType="AWS_BACKUP")["BackupSummaries"]
    assert [b["BackupType"] for b in dynamodb_backups] == ["AWS_BACKUP"]
    assert dynamodb_backups[0]["BackupArn"].startswith(setup["arn"] + "/backup/")


def test_restore_job_yields_new_table_equal_to_table_at_backup_time(
    embedded: EmbeddedTarget, setup: dict[str, Any]
) -> None:
    backup, ddb, table = setup["backup"], setup["ddb"], setup["table"]
    assert embedded.control is not None
    # the job stays RUNNING (its table CREATING) for 3 s, so the next two calls surely see it on a busy machine
    embedded.control.set_fault("restore_job_duration", seconds=3)
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    put(ddb, table, "a", 2)
    ddb.delete_item(TableName=table, Key={"pk": {"S": "b"}})
    put(ddb, table, "d", 1)
    target = f"{table}-restored"
    job_id = backup.start_restore_job(
        RecoveryPointArn=rp, Metadata={"targetTableName": target}, IamRoleArn=setup["role"]
    )["RestoreJobId"]
    assert restore_job(backup, job_id)["Status"] in ("PENDING", "RUNNING")
    assert table_status(ddb, target) == "CREATING"
    job = finished_restore(backup, job_id)
    assert job["Status"] == "COMPLETED"
    assert job["PercentDone"] == "100.00%"
    assert job["CreatedResourceArn"].endswith(f":table/{target}")
    assert job["RecoveryPointArn"] == rp and job["ResourceType"] == "DynamoDB"
    assert job["IamRoleArn"] == setup["role"]
    assert job["CompletionDate"] >= job["CreationDate"] >= job["RecoveryPointCreationDate"]
    wait_active(ddb, target)
    assert contents(ddb, target) == {"a": 1, "b": 1, "c": 1}
    assert contents(ddb, table) == {"a": 2, "c": 1, "d": 1}


def test_restored_table_has_no_stream_pitr_ttl_or_tags(setup: dict[str, Any]) -> None:
    backup, ddb, table = setup["backup"], setup["ddb"], setup["table"]
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    target = f"{table}-bare"
    job_id = backup.start_restore_job(
        RecoveryPointArn=rp, Metadata={"targetTableName": target}, IamRoleArn=setup["role"]
    )["RestoreJobId"]
    finished_restore(backup, job_id)
    described = ddb.describe_table(TableName=target)["Table"]
    assert "StreamSpecification" not in described and "LatestStreamArn" not in described
    assert described["RestoreSummary"]["SourceBackupArn"] == rp
    assert described["RestoreSummary"]["RestoreInProgress"] is False
    pitr = ddb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    ttl = ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"
    assert ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"] == []


def test_restore_into_existing_table_fails_the_job(setup: dict[str, Any]) -> None:
    backup, ddb, table = setup["backup"], setup["ddb"], setup["table"]
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    put(ddb, table, "z", 9)
    job_id = backup.start_restore_job(
        RecoveryPointArn=rp, Metadata={"targetTableName": table}, IamRoleArn=setup["role"]
    )["RestoreJobId"]
    job = finished_restore(backup, job_id)
    assert job["Status"] == "FAILED"
    assert table in job["StatusMessage"] and "already exists" in job["StatusMessage"]
    assert "CreatedResourceArn" not in job
    assert contents(ddb, table)["z"] == 9  # the existing table is untouched


def test_idempotency_token_returns_same_job_and_starts_no_second_restore(setup: dict[str, Any]) -> None:
    backup, table = setup["backup"], setup["table"]
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    args = {
        "RecoveryPointArn": rp,
        "Metadata": {"targetTableName": f"{table}-once"},
        "IamRoleArn": setup["role"],
        "IdempotencyToken": f"token-{setup['u']}",
    }
    first = backup.start_restore_job(**args)["RestoreJobId"]
    second = backup.start_restore_job(**args)["RestoreJobId"]
    assert first == second
    finished_restore(backup, first)
    mine = [j for j in backup.list_restore_jobs()["RestoreJobs"] if j["RecoveryPointArn"] == rp]
    assert [j["RestoreJobId"] for j in mine] == [first]
    assert mine[0]["Status"] == "COMPLETED"  # not FAILED on "table already exists" by a second restore


def test_restore_job_needs_an_existing_iam_role(setup: dict[str, Any]) -> None:
    backup = setup["backup"]
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    with pytest.raises(ClientError) as err:
        backup.start_restore_job(
            RecoveryPointArn=rp,
            Metadata={"targetTableName": f"{setup['table']}-norole"},
            IamRoleArn=setup["role"] + "-missing",
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_list_restore_jobs_by_status(setup: dict[str, Any]) -> None:
    backup, table = setup["backup"], setup["table"]
    rp = completed_backup(backup, setup["vault"], setup["arn"], setup["role"])
    ok = backup.start_restore_job(
        RecoveryPointArn=rp, Metadata={"targetTableName": f"{table}-ok"}, IamRoleArn=setup["role"]
    )["RestoreJobId"]
    bad = backup.start_restore_job(RecoveryPointArn=rp, Metadata={"targetTableName": table}, IamRoleArn=setup["role"])[
        "RestoreJobId"
    ]
    finished_restore(backup, ok)
    finished_restore(backup, bad)
    completed = {j["RestoreJobId"] for j in backup.list_restore_jobs(ByStatus="COMPLETED")["RestoreJobs"]}
    failed = {j["RestoreJobId"] for j in backup.list_restore_jobs(ByStatus="FAILED")["RestoreJobs"]}
    assert ok in completed and ok not in failed
    assert bad in failed and bad not in completed


def test_vault_with_recovery_points_cannot_be_deleted_until_emptied(setup: dict[str, Any]) -> None:
    backup, ddb, vault = setup["backup"], setup["ddb"], setup["vault"]
    rp = completed_backup(backup, vault, setup["arn"], setup["role"])
    with pytest.raises(ClientError) as err:
        backup.delete_backup_vault(BackupVaultName=vault)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=rp)
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"] == []
    assert ddb.list_backups(TableName=setup["table"], BackupType="AWS_BACKUP")["BackupSummaries"] == []
    backup.delete_backup_vault(BackupVaultName=vault)
    assert vault not in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]


def test_unknown_restore_job_is_not_found(embedded: EmbeddedTarget) -> None:
    with pytest.raises(ClientError) as err:
        embedded.client("backup").describe_restore_job(RestoreJobId="00000000-0000-0000-0000-000000000000")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
