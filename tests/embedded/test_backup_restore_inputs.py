"""Backup and restore requests AWS refuses are refused, and restores carry AWS's data semantics (plain boto3)."""

from __future__ import annotations

import time
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
    wait_active,
    wait_for,
)

from dr_infra.targets.embedded import EmbeddedTarget


@pytest.fixture
def s(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    ddb, backup, iam = embedded.client("dynamodb"), embedded.client("backup"), embedded.client("iam")
    table = f"inputs-{unique}"
    arn = create_table(ddb, table)
    wait_active(ddb, table)
    put(ddb, table, "a", 1)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(iam, f"inputs-role-{unique}")
    return {"ddb": ddb, "backup": backup, "table": table, "arn": arn, "vault": vault, "role": role, "u": unique}


def _code(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    return str(error["Code"]), str(error["Message"])


def _tables(ddb: Any) -> set[str]:
    return {name for page in ddb.get_paginator("list_tables").paginate() for name in page["TableNames"]}


# --- StartRestoreJob metadata -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"targetTableName": "bad name!*"}, "targetTableName"),
        ({"targetTableName": "ab"}, "3 to 255"),
        ({"targetTableName": "ok-{u}", "encryptionType": "BOGUS"}, "encryptionType"),
        ({"targetTableName": "ok-{u}", "encryptionType": "KMS"}, "kmsMasterKeyArn"),
        ({"targetTableName": "ok-{u}", "deletionProtection": "maybe"}, "deletionProtection"),
        ({"targetTableName": "ok-{u}", "TargetTableName": "other-{u}"}, "twice"),
        ({}, "targetTableName"),
    ],
)
def test_restore_metadata_aws_refuses_is_refused_and_creates_nothing(
    s: dict[str, Any], metadata: dict[str, str], words: str
) -> None:
    point = completed_backup(s["backup"], s["vault"], s["arn"], s["role"])
    metadata = {k: v.format(u=s["u"]) for k, v in metadata.items()}
    code, message = _code(
        lambda: s["backup"].start_restore_job(RecoveryPointArn=point, Metadata=metadata, IamRoleArn=s["role"])
    )
    assert code == "InvalidParameterValueException"
    assert words in message
    assert not {t for t in _tables(s["ddb"]) if s["u"] in t and t != s["table"]}
    assert [j for j in s["backup"].list_restore_jobs()["RestoreJobs"] if j["RecoveryPointArn"] == point] == []


def test_restore_metadata_keys_are_not_case_sensitive(s: dict[str, Any]) -> None:
    point = completed_backup(s["backup"], s["vault"], s["arn"], s["role"])
    target = f"{s['table']}-restored"
    job_id = s["backup"].start_restore_job(
        RecoveryPointArn=point,
        Metadata={"TargetTableName": target, "EncryptionType": "Default"},
        IamRoleArn=s["role"],
    )["RestoreJobId"]
    assert finished_restore(s["backup"], job_id)["Status"] == "COMPLETED"
    wait_active(s["ddb"], target)
    assert contents(s["ddb"], target) == {"a": 1}


# --- StartBackupJob -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"IamRoleArn": "not-a-role"}, "IamRoleArn"),
        ({"IamRoleArn": "arn:aws:iam::123456789012:role/no-such-role"}, "does not exist"),
        ({"StartWindowMinutes": 30}, "StartWindowMinutes"),
        ({"CompleteWindowMinutes": 52_560_001}, "CompleteWindowMinutes"),
        ({"Lifecycle": {"MoveToColdStorageAfterDays": 10, "DeleteAfterDays": 20}}, "90 days"),
    ],
)
def test_a_backup_job_aws_refuses_is_refused(s: dict[str, Any], changes: dict[str, Any], words: str) -> None:
    request = {"BackupVaultName": s["vault"], "ResourceArn": s["arn"], "IamRoleArn": s["role"], **changes}
    code, message = _code(lambda: s["backup"].start_backup_job(**request))
    assert code == "InvalidParameterValueException"
    assert words in message
    assert s["backup"].list_backup_jobs(ByResourceArn=s["arn"])["BackupJobs"] == []


def test_a_backup_job_within_the_limits_runs(s: dict[str, Any]) -> None:
    job = s["backup"].start_backup_job(
        BackupVaultName=s["vault"],
        ResourceArn=s["arn"],
        IamRoleArn=s["role"],
        StartWindowMinutes=60,
        CompleteWindowMinutes=120,
        Lifecycle={"MoveToColdStorageAfterDays": 10, "DeleteAfterDays": 100},
    )
    done = wait_for(
        lambda: s["backup"].describe_backup_job(BackupJobId=job["BackupJobId"]), lambda j: j["State"] == "COMPLETED"
    )
    assert done["RecoveryPointArn"] == job["RecoveryPointArn"]


# --- AWS Backup's ARNs and managed backups ------------------------------------------------------------------


def test_a_managed_backup_is_deleted_only_from_its_vault(s: dict[str, Any]) -> None:
    backup, ddb = s["backup"], s["ddb"]
    point = completed_backup(backup, s["vault"], s["arn"], s["role"])
    assert point.startswith("arn:aws:backup:us-east-1:123456789012:recovery-point:")
    (managed,) = ddb.list_backups(TableName=s["table"], BackupType="AWS_BACKUP")["BackupSummaries"]
    assert managed["BackupType"] == "AWS_BACKUP"
    code, message = _code(lambda: ddb.delete_backup(BackupArn=managed["BackupArn"]))
    assert code == "ValidationException"
    assert "DeleteRecoveryPoint" in message
    assert backup.describe_recovery_point(BackupVaultName=s["vault"], RecoveryPointArn=point)["Status"] == "COMPLETED"
    target = f"{s['table']}-after"
    job = backup.start_restore_job(RecoveryPointArn=point, Metadata={"targetTableName": target}, IamRoleArn=s["role"])
    assert finished_restore(backup, job["RestoreJobId"])["Status"] == "COMPLETED"  # still restorable
    backup.delete_recovery_point(BackupVaultName=s["vault"], RecoveryPointArn=point)
    assert ddb.list_backups(TableName=s["table"], BackupType="AWS_BACKUP")["BackupSummaries"] == []


def test_a_plain_dynamodb_backup_is_still_deletable(s: dict[str, Any]) -> None:
    ddb = s["ddb"]
    arn = ddb.create_backup(TableName=s["table"], BackupName="mine")["BackupDetails"]["BackupArn"]
    assert ddb.delete_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"] == "DELETED"


def test_the_source_table_cannot_be_deleted_while_it_is_backed_up(s: dict[str, Any], embedded: EmbeddedTarget) -> None:
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.02)  # the backup job runs 1.2 s
    backup, ddb = s["backup"], s["ddb"]
    job = backup.start_backup_job(BackupVaultName=s["vault"], ResourceArn=s["arn"], IamRoleArn=s["role"])
    code, message = _code(lambda: ddb.delete_table(TableName=s["table"]))
    assert code == "ResourceInUseException"
    assert job["BackupJobId"] in message
    assert s["table"] in _tables(ddb)
    wait_for(lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"], lambda st: st == "COMPLETED")
    ddb.delete_table(TableName=s["table"])
    assert s["table"] not in _tables(ddb)


def test_a_backup_restore_is_dated_at_the_backup_not_the_job(s: dict[str, Any]) -> None:
    backup, ddb = s["backup"], s["ddb"]
    point = completed_backup(backup, s["vault"], s["arn"], s["role"])
    created = backup.describe_recovery_point(BackupVaultName=s["vault"], RecoveryPointArn=point)["CreationDate"]
    time.sleep(1.1)  # the restore starts well after the backup
    target = f"{s['table']}-dated"
    job_id = backup.start_restore_job(
        RecoveryPointArn=point, Metadata={"targetTableName": target}, IamRoleArn=s["role"]
    )["RestoreJobId"]
    job = finished_restore(backup, job_id)
    summary = ddb.describe_table(TableName=target)["Table"]["RestoreSummary"]
    assert summary["SourceBackupArn"] == point
    assert abs((summary["RestoreDateTime"] - created).total_seconds()) < 0.01
    assert (job["CreationDate"] - summary["RestoreDateTime"]).total_seconds() > 1.0


# --- DynamoDB: UpdateContinuousBackups, RestoreTableToPointInTime, table names --------------------------------


def test_recovery_period_is_1_to_35_days(s: dict[str, Any]) -> None:
    ddb = s["ddb"]
    code, message = _code(
        lambda: ddb.update_continuous_backups(
            TableName=s["table"],
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36},
        )
    )
    assert code == "ValidationException" and "less than or equal to 35" in message
    assert (
        ddb.describe_continuous_backups(TableName=s["table"])["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        == "DISABLED"
    )
    described = ddb.update_continuous_backups(
        TableName=s["table"],
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert described["RecoveryPeriodInDays"] == 35


def test_point_in_time_restore_errors_are_the_models(s: dict[str, Any]) -> None:
    ddb, table = s["ddb"], s["table"]
    restore = ddb.restore_table_to_point_in_time
    code, _ = _code(lambda: restore(SourceTableName=table, TargetTableName=f"{table}-x", UseLatestRestorableTime=True))
    assert code == "PointInTimeRecoveryUnavailableException"
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    missing = f"missing-{s['u']}"
    code, message = _code(
        lambda: restore(SourceTableName=missing, TargetTableName=f"{table}-x", UseLatestRestorableTime=True)
    )
    assert code == "TableNotFoundException" and missing in message
    model_codes = ddb.meta.service_model.operation_model("RestoreTableToPointInTime").error_shapes
    assert code in [shape.name for shape in model_codes]
    code, _ = _code(lambda: restore(SourceTableName=table, TargetTableName=table, UseLatestRestorableTime=True))
    assert code == "TableAlreadyExistsException"
    code, _ = _code(lambda: restore(SourceTableName=table, TargetTableName="bad name!*", UseLatestRestorableTime=True))
    assert code == "ValidationException"
    code, _ = _code(
        lambda: restore(SourceTableName=table, TargetTableName=f"{table}-x", RestoreDateTime=time.time() + 3600)
    )
    assert code == "InvalidRestoreTimeException"
    assert "bad name!*" not in _tables(ddb) and f"{table}-x" not in _tables(ddb)
    time.sleep(1.1)  # past the embedded PITR lag
    restored = restore(SourceTableName=table, TargetTableName=f"{table}-x", UseLatestRestorableTime=True)
    assert restored["TableDescription"]["TableStatus"] == "CREATING"


def test_create_table_refuses_a_name_dynamodb_refuses(s: dict[str, Any]) -> None:
    code, message = _code(lambda: create_table(s["ddb"], "bad name!*"))
    assert code == "ValidationException" and "regular expression" in message
    assert "bad name!*" not in _tables(s["ddb"])


def test_deletion_protection_is_inferred_and_restored_as_asked(s: dict[str, Any]) -> None:
    backup, ddb = s["backup"], s["ddb"]
    point = completed_backup(backup, s["vault"], s["arn"], s["role"])
    inferred = backup.get_recovery_point_restore_metadata(BackupVaultName=s["vault"], RecoveryPointArn=point)
    assert inferred["RestoreMetadata"]["deletionProtection"] == "false"
    assert inferred["RestoreMetadata"]["targetTableName"] == s["table"]
    target = f"{s['table']}-protected"
    job = backup.start_restore_job(
        RecoveryPointArn=point,
        Metadata={"targetTableName": target, "deletionProtection": "true"},
        IamRoleArn=s["role"],
    )
    assert finished_restore(backup, job["RestoreJobId"])["Status"] == "COMPLETED"
    wait_active(ddb, target)
    assert ddb.describe_table(TableName=target)["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError):
        ddb.delete_table(TableName=target)
    ddb.update_table(TableName=target, DeletionProtectionEnabled=False)
    wait_active(ddb, target)
    ddb.delete_table(TableName=target)
    assert target not in _tables(ddb)


def test_list_backups_shows_user_backups_unless_another_type_is_asked(s: dict[str, Any]) -> None:
    ddb = s["ddb"]
    completed_backup(s["backup"], s["vault"], s["arn"], s["role"])
    mine = ddb.create_backup(TableName=s["table"], BackupName="mine")["BackupDetails"]["BackupArn"]

    def listed(**kwargs: str) -> list[str]:
        return sorted(b["BackupType"] for b in ddb.list_backups(TableName=s["table"], **kwargs)["BackupSummaries"])

    assert listed() == ["USER"]  # the default: only on-demand backups you made
    assert listed(BackupType="AWS_BACKUP") == ["AWS_BACKUP"]
    assert listed(BackupType="ALL") == ["AWS_BACKUP", "USER"]
    assert listed(BackupType="SYSTEM") == []
    code, _ = _code(lambda: ddb.list_backups(TableName=s["table"], BackupType="BOGUS"))
    assert code == "ValidationException"
    ddb.delete_backup(BackupArn=mine)


def test_deleting_a_pitr_table_leaves_a_system_backup_that_restores(
    s: dict[str, Any], embedded: EmbeddedTarget
) -> None:
    ddb, table = s["ddb"], s["table"]
    plain = f"plain-{s['u']}"
    create_table(ddb, plain)
    ddb.delete_table(TableName=plain)  # PITR off: nothing kept
    assert ddb.list_backups(TableName=plain, BackupType="SYSTEM")["BackupSummaries"] == []
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.delete_table(TableName=table)
    (system,) = ddb.list_backups(TableName=table, BackupType="SYSTEM")["BackupSummaries"]
    assert system["BackupName"] == f"{table}$DeletedTableBackup"
    assert ddb.list_backups(TableName=table)["BackupSummaries"] == []  # not a USER backup
    ddb.restore_table_from_backup(TargetTableName=f"{table}-back", BackupArn=system["BackupArn"])
    wait_active(ddb, f"{table}-back")
    assert contents(ddb, f"{table}-back") == {"a": 1}
    ddb.delete_backup(BackupArn=system["BackupArn"])
