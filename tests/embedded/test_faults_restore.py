"""Fault switches on the restore path of the embedded target, read back through plain boto3."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from restore_helpers import (
    completed_backup,
    create_role,
    create_table,
    finished_restore,
    put,
    restore_job,
    table_status,
    wait_for,
)

from dr_infra.targets.base import RETRY_CONFIG
from dr_infra.targets.embedded import EmbeddedTarget


def _recovery_point(clients: Any, unique: str) -> tuple[str, str, str]:
    """(table name, recovery point ARN, role ARN) for a fresh table with one item, backed up."""
    ddb, backup, iam = clients("dynamodb"), clients("backup"), clients("iam")
    table = f"faults-{unique}"
    arn = create_table(ddb, table)
    put(ddb, table, "a", 1)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(iam, f"role-{unique}")
    return table, completed_backup(backup, vault, arn, role), role


@pytest.fixture
def restorable(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    table, rp, role = _recovery_point(embedded.client, unique)
    return {"table": table, "rp": rp, "role": role, "backup": embedded.client("backup")}


def test_restore_job_fails_fault_ends_job_failed_without_table(
    embedded: EmbeddedTarget, restorable: dict[str, Any]
) -> None:
    assert embedded.control is not None
    embedded.control.set_fault("restore_job_fails", message="KMS key disabled (drill)")
    backup = restorable["backup"]
    target = f"{restorable['table']}-failed"
    job_id = backup.start_restore_job(
        RecoveryPointArn=restorable["rp"], Metadata={"targetTableName": target}, IamRoleArn=restorable["role"]
    )["RestoreJobId"]
    job = finished_restore(backup, job_id)
    assert job["Status"] == "FAILED"
    assert job["StatusMessage"] == "KMS key disabled (drill)"
    assert "CreatedResourceArn" not in job
    assert target not in embedded.client("dynamodb").list_tables()["TableNames"]


def test_start_restore_denied_fault_raises_access_denied(embedded: EmbeddedTarget, restorable: dict[str, Any]) -> None:
    assert embedded.control is not None
    embedded.control.set_fault("start_restore_denied", count=1, message="not allowed (drill)")
    backup = restorable["backup"]
    args = {
        "RecoveryPointArn": restorable["rp"],
        "Metadata": {"targetTableName": f"{restorable['table']}-denied"},
        "IamRoleArn": restorable["role"],
    }
    with pytest.raises(ClientError) as err:
        backup.start_restore_job(**args)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert err.value.response["Error"]["Message"] == "not allowed (drill)"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert backup.start_restore_job(**args)["RestoreJobId"]  # count=1: the next call goes through


def test_restore_job_duration_fault_keeps_job_running_with_percent_rising(
    embedded: EmbeddedTarget, restorable: dict[str, Any]
) -> None:
    assert embedded.control is not None
    embedded.control.set_fault("restore_job_duration", seconds=0.8)
    backup, ddb = restorable["backup"], embedded.client("dynamodb")
    target = f"{restorable['table']}-slow"
    job_id = backup.start_restore_job(
        RecoveryPointArn=restorable["rp"], Metadata={"targetTableName": target}, IamRoleArn=restorable["role"]
    )["RestoreJobId"]
    first = wait_for(lambda: restore_job(backup, job_id), lambda j: j["Status"] == "RUNNING")
    assert table_status(ddb, target) == "CREATING"
    second = wait_for(
        lambda: restore_job(backup, job_id),
        lambda j: float(j["PercentDone"].rstrip("%")) > float(first["PercentDone"].rstrip("%")),
    )
    assert second["Status"] == "RUNNING" and "CompletionDate" not in second
    done = finished_restore(backup, job_id)
    assert done["Status"] == "COMPLETED"
    assert (done["CompletionDate"] - done["CreationDate"]).total_seconds() == pytest.approx(0.8, abs=0.01)
    assert table_status(ddb, target) == "ACTIVE"


def test_at_most_50_restores_in_flight_per_account(embedded: EmbeddedTarget, unique: str) -> None:
    """Runs in an account of its own (STS AssumeRole into it) so its in-flight jobs slow no other test."""
    assert embedded.control is not None
    account = f"{random.randrange(10**11, 10**12)}"
    sts = embedded.client("sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/drill", RoleSessionName="limit")["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=embedded.region,
    )

    def clients(service: str, config: Config = RETRY_CONFIG) -> Any:
        return session.client(service, endpoint_url=embedded.endpoint_url, config=config)

    assert clients("sts").get_caller_identity()["Account"] == account
    table, rp, role = _recovery_point(clients, unique)
    backup = clients("backup")
    embedded.control.set_fault("restore_job_duration", seconds=30)
    embedded.control.set_fault("restore_job_fails", message="held in flight by the limit test")  # no tables made
    for n in range(50):
        backup.start_restore_job(RecoveryPointArn=rp, Metadata={"targetTableName": f"{table}-{n}"}, IamRoleArn=role)
    # botocore's standard mode counts LimitExceededException as throttling and would retry it: ask once
    once = clients("backup", Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        once.start_restore_job(RecoveryPointArn=rp, Metadata={"targetTableName": f"{table}-50"}, IamRoleArn=role)
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    in_flight = (
        backup.list_restore_jobs(ByStatus="RUNNING")["RestoreJobs"]
        + backup.list_restore_jobs(ByStatus="PENDING")["RestoreJobs"]
    )
    assert len(in_flight) == 50
    # point-in-time restores share the quota (DynamoDB counts both kinds of restore)
    pitr_table = f"{table}-pitr"
    create_table(clients("dynamodb"), pitr_table)
    clients("dynamodb").update_continuous_backups(
        TableName=pitr_table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    once_ddb = clients("dynamodb", Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        once_ddb.restore_table_to_point_in_time(
            SourceTableName=pitr_table, TargetTableName=f"{pitr_table}-x", UseLatestRestorableTime=True
        )
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    assert f"{pitr_table}-x" not in clients("dynamodb").list_tables()["TableNames"]
    # the default account is not affected
    default = embedded.client("backup")
    assert len(default.list_restore_jobs(ByStatus="RUNNING")["RestoreJobs"]) < 50


@pytest.mark.parametrize(
    ("operation", "count"),
    [("DescribeTable", 2), ("DescribeRestoreJob", 1), ("StartRestoreJob", 1)],  # few: botocore backs off
)
def test_throttle_fault_is_retried_transparently_and_counted(
    embedded: EmbeddedTarget, restorable: dict[str, Any], operation: str, count: int
) -> None:
    assert embedded.control is not None
    backup = restorable["backup"]
    job_id = backup.start_restore_job(
        RecoveryPointArn=restorable["rp"],
        Metadata={"targetTableName": f"{restorable['table']}-t"},
        IamRoleArn=restorable["role"],
    )["RestoreJobId"]
    embedded.control.set_fault("throttle", count=count, operation=operation)
    calls = {
        "DescribeTable": lambda: embedded.client("dynamodb").describe_table(TableName=restorable["table"]),
        "DescribeRestoreJob": lambda: backup.describe_restore_job(RestoreJobId=job_id),
        "StartRestoreJob": lambda: backup.start_restore_job(
            RecoveryPointArn=restorable["rp"],
            Metadata={"targetTableName": f"{restorable['table']}-t2"},
            IamRoleArn=restorable["role"],
        ),
    }
    response = calls[operation]()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RetryAttempts"] == count
    info = embedded.control.info()
    assert info is not None
    assert info["throttled"] == {operation: count}
    assert "throttle" not in info["faults"]  # both activations used up


def test_throttle_fault_seen_as_throttling_exception_without_retries(embedded: EmbeddedTarget, unique: str) -> None:
    assert embedded.control is not None
    table = f"throttle-{unique}"
    create_table(embedded.client("dynamodb"), table)
    embedded.control.set_fault("throttle", count=1, operation="DescribeTable")
    no_retries = embedded.clients.session.client(
        "dynamodb",
        endpoint_url=embedded.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as err:
        no_retries.describe_table(TableName=table)
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert no_retries.describe_table(TableName=table)["Table"]["TableName"] == table
