"""AWS Backup acts as the job's IAM role: trust, permissions and iam:PassRole, each failing and succeeding."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr_infra.targets.embedded import EmbeddedTarget

from .conftest import Principals, denied, policy

FOR_BACKUP = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
FOR_RESTORES = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
ACCOUNT = "123456789012"


def _vault(embedded: EmbeddedTarget) -> str:
    name = f"lp-vault-{uuid.uuid4().hex[:8]}"
    embedded.client("backup").create_backup_vault(BackupVaultName=name)
    return name


def _finished(embedded: EmbeddedTarget, describe: Any, key: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = describe(**{key: job_id})
        state = job.get("State") or job.get("Status")
        if state in ("COMPLETED", "FAILED", "ABORTED") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _backup(embedded: EmbeddedTarget, vault: str, table: str, role: str) -> dict[str, Any]:
    backup = embedded.client("backup")
    arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}"
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn, IamRoleArn=role)["BackupJobId"]
    return _finished(embedded, backup.describe_backup_job, "BackupJobId", job)


def test_a_backup_job_fails_unless_its_role_trusts_backup_and_allows_the_backup(
    embedded: EmbeddedTarget, principals: Principals, table: str
) -> None:
    vault = _vault(embedded)
    lambda_role = principals.role("lambda.amazonaws.com", managed=(FOR_BACKUP,))
    job = _backup(embedded, vault, table, lambda_role)
    assert job["State"] == "FAILED"
    assert job["StatusMessage"] == f"The provided role {lambda_role} cannot be assumed by AWS Backup."
    assert "RecoveryPointArn" not in job

    bare = principals.role("backup.amazonaws.com")
    job = _backup(embedded, vault, table, bare)
    name = bare.split("/")[-1]
    assert job["State"] == "FAILED"
    assert job["StatusMessage"].startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/AWSBackup-{name} is not authorized to perform: "
        "dynamodb:DescribeTable on resource: "
    )

    job = _backup(embedded, vault, table, principals.role("backup.amazonaws.com", managed=(FOR_BACKUP,)))
    assert job["State"] == "COMPLETED" and job["RecoveryPointArn"]


def _point(embedded: EmbeddedTarget, principals: Principals, table: str) -> str:
    job = _backup(embedded, _vault(embedded), table, principals.role("backup.amazonaws.com", managed=(FOR_BACKUP,)))
    assert job["State"] == "COMPLETED", job
    return str(job["RecoveryPointArn"])


def _restore(clients: Any, point: str, target: str, role: str) -> str:
    return str(
        clients("backup").start_restore_job(
            RecoveryPointArn=point, Metadata={"targetTableName": target}, IamRoleArn=role, ResourceType="DynamoDB"
        )["RestoreJobId"]
    )


def test_a_restore_job_fails_unless_its_role_trusts_backup_and_may_write_the_target(
    embedded: EmbeddedTarget, principals: Principals, table: str
) -> None:
    point = _point(embedded, principals, table)
    backup = embedded.client("backup")
    ddb = embedded.client("dynamodb")

    with pytest.raises(ClientError) as missing:
        _restore(embedded.client, point, f"{table}-r0", f"arn:aws:iam::{ACCOUNT}:role/does-not-exist")
    assert missing.value.response["Error"]["Code"] == "InvalidParameterValueException"

    lambda_only = principals.role("lambda.amazonaws.com")
    job = _finished(
        embedded,
        backup.describe_restore_job,
        "RestoreJobId",
        _restore(embedded.client, point, f"{table}-r1", lambda_only),
    )
    assert job["Status"] == "FAILED"
    assert job["StatusMessage"] == f"The provided role {lambda_only} cannot be assumed by AWS Backup."
    assert f"{table}-r1" not in ddb.list_tables()["TableNames"]

    read_only = principals.role(
        "backup.amazonaws.com", policy({"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": "*"})
    )
    job = _finished(
        embedded,
        backup.describe_restore_job,
        "RestoreJobId",
        _restore(embedded.client, point, f"{table}-r2", read_only),
    )
    assert job["Status"] == "FAILED"
    assert "is not authorized to perform: dynamodb:RestoreTableFromAwsBackup" in job["StatusMessage"]

    restorer = principals.role("backup.amazonaws.com", managed=(FOR_RESTORES,))
    job = _finished(
        embedded, backup.describe_restore_job, "RestoreJobId", _restore(embedded.client, point, f"{table}-r3", restorer)
    )
    assert job["Status"] == "COMPLETED", job
    ddb.delete_table(TableName=f"{table}-r3")


def test_starting_a_restore_needs_pass_role_on_the_restore_role(
    embedded: EmbeddedTarget, principals: Principals, table: str
) -> None:
    point = _point(embedded, principals, table)
    restorer = principals.role("backup.amazonaws.com", managed=(FOR_RESTORES,))
    start = {"Effect": "Allow", "Action": "backup:StartRestoreJob", "Resource": "*"}
    without = principals.user(policy(start))
    with pytest.raises(ClientError) as refused:
        _restore(without, point, f"{table}-p1", restorer)
    assert f"iam:PassRole on resource: {restorer}" in denied(refused, 403)

    pass_role = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": restorer,
        "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
    }
    allowed = principals.user(policy(start, pass_role))
    job_id = _restore(allowed, point, f"{table}-p2", restorer)
    job = _finished(embedded, embedded.client("backup").describe_restore_job, "RestoreJobId", job_id)
    assert job["Status"] == "COMPLETED", job
    embedded.client("dynamodb").delete_table(TableName=f"{table}-p2")
