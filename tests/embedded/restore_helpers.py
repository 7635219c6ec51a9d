"""Plain-boto3 helpers shared by the restore-path tests of the embedded target."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def wait_for(probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 5.0) -> T:
    """Poll ``probe`` every 20 ms until ``done(value)``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s; last value: {value!r}")
        time.sleep(0.02)


def create_table(ddb: Any, name: str, stream: bool = False, tags: bool = False) -> str:
    """A PAY_PER_REQUEST table keyed by ``pk`` (string); returns its ARN."""
    kwargs: dict[str, Any] = {}
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if tags:
        kwargs["Tags"] = [{"Key": "team", "Value": "drdrill"}]
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **kwargs,
    )
    wait_active(ddb, name)  # CreateTable answers CREATING; writes before ACTIVE are refused, as on AWS
    return str(table["TableDescription"]["TableArn"])


def put(ddb: Any, table: str, pk: str, version: int) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"N": str(version)}})


def contents(ddb: Any, table: str) -> dict[str, int]:
    """``{pk: v}`` of every item (consistent scan)."""
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["pk"]["S"]: int(item["v"]["N"]) for item in items}


def create_role(iam: Any, name: str) -> str:
    """A role AWS Backup can assume and back up / restore DynamoDB tables with (AWS's managed service-role policies)."""
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_POLICY)["Role"]["Arn"])
    for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")
    return arn


def table_status(ddb: Any, table: str) -> str:
    return str(ddb.describe_table(TableName=table)["Table"]["TableStatus"])


def wait_active(ddb: Any, table: str) -> None:
    wait_for(lambda: table_status(ddb, table), lambda s: s == "ACTIVE")


def completed_backup(backup: Any, vault: str, table_arn: str, role_arn: str) -> str:
    """Run an on-demand backup job to completion; returns the recovery point ARN."""
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn, IamRoleArn=role_arn)
    wait_for(
        lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"],
        lambda state: state == "COMPLETED",
    )
    return str(job["RecoveryPointArn"])


def restore_job(backup: Any, job_id: str) -> dict[str, Any]:
    return dict(backup.describe_restore_job(RestoreJobId=job_id))


def finished_restore(backup: Any, job_id: str, timeout: float = 5.0) -> dict[str, Any]:
    return wait_for(lambda: restore_job(backup, job_id), lambda job: job["Status"] in ("COMPLETED", "FAILED"), timeout)
