"""The monitor role restores only this run's backups, enforced by the embedded target (boto3, role credentials).

drdrill's monitor policy grants ``backup:StartRestoreJob`` on AWS Backup recovery points only with
``aws:ResourceTag/drdrill:run-id`` = the run id, and on DynamoDB backups only of the stack's tables
(:func:`dr_infra.stack.iam_policies.monitor_role_policy`). The embedded target supplies a recovery point's
tags as ``aws:ResourceTag/`` keys, a missing tag failing ``StringEquals``, as AWS does
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html). The calls here are
signed with AssumeRole credentials of a role holding exactly the monitor's policy.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr_infra.stack import iam_policies
from dr_infra.stack.names import TAG_RUN_ID, StackNames, new_run_id
from dr_infra.targets.embedded import EmbeddedTarget

from .conftest import Clients, Principals, denied

ACCOUNT, REGION = "123456789012", "us-east-1"


def _wait_completed(backup: Any, vault: str, point: str) -> None:
    for _ in range(400):
        if backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)["Status"] == "COMPLETED":
            return
        time.sleep(0.05)
    raise AssertionError(f"{point} never completed")


@pytest.fixture
def drill(embedded: EmbeddedTarget, principals: Principals) -> Iterator[dict[str, Any]]:
    """A drill's table, vault and backup role, a production table, and the monitor role's clients."""
    names = StackNames(new_run_id(), 1, "orders")
    admin_ddb, admin_backup, iam = embedded.client("dynamodb"), embedded.client("backup"), embedded.client("iam")
    production = f"prod-{uuid.uuid4().hex[:8]}"
    tables = (names.table, production)
    for table in tables:
        admin_ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        admin_ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
        admin_ddb.put_item(TableName=table, Item={"pk": {"S": "secret" if table == production else "drill"}})
    admin_backup.create_backup_vault(BackupVaultName=names.vault)
    backup_role = iam.create_role(
        RoleName=names.backup_role,
        AssumeRolePolicyDocument=json.dumps(iam_policies.trust_policy(iam_policies.BACKUP_SERVICE)),
    )["Role"]["Arn"]
    principals.roles.append(names.backup_role)
    for managed in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
        iam.attach_role_policy(RoleName=names.backup_role, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{managed}")
    monitor_role = principals.role(
        "lambda.amazonaws.com",
        inline=json.dumps(iam_policies.monitor_role_policy(names, REGION, ACCOUNT)),
        account_may_assume=True,  # so the test can sign as the role, as the function's worker does
    )
    monitor, _ = principals.session_of(monitor_role)

    def point(table: str, tags: dict[str, str] | None = None) -> str:
        extra = {"RecoveryPointTags": tags} if tags is not None else {}
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
        job = admin_backup.start_backup_job(
            BackupVaultName=names.vault, ResourceArn=arn, IamRoleArn=backup_role, **extra
        )
        assert job["RecoveryPointArn"], job
        _wait_completed(admin_backup, names.vault, job["RecoveryPointArn"])
        return str(job["RecoveryPointArn"])

    made: dict[str, Any] = {"names": names, "production": production, "monitor": monitor, "role": backup_role,
                            "point": point, "admin_backup": admin_backup}  # fmt: skip
    try:
        yield made
    finally:
        for listed in admin_backup.list_recovery_points_by_backup_vault(BackupVaultName=names.vault)["RecoveryPoints"]:
            admin_backup.delete_recovery_point(BackupVaultName=names.vault, RecoveryPointArn=listed["RecoveryPointArn"])
        admin_backup.delete_backup_vault(BackupVaultName=names.vault)
        for table in admin_ddb.list_tables()["TableNames"]:
            if table in tables or table.startswith(f"{names.table}-restored-"):
                admin_ddb.get_waiter("table_exists").wait(
                    TableName=table, WaiterConfig={"Delay": 0.05, "MaxAttempts": 400}
                )
                admin_ddb.delete_table(TableName=table)


def _start(monitor: Clients, point: str, target: str, role: str) -> str:
    return str(
        monitor("backup").start_restore_job(
            RecoveryPointArn=point, Metadata={"targetTableName": target}, IamRoleArn=role, ResourceType="DynamoDB"
        )["RestoreJobId"]
    )


def test_the_monitor_restores_a_recovery_point_tagged_with_its_run_id(drill: dict[str, Any]) -> None:
    names = drill["names"]
    point = drill["point"](names.table, names.tags())
    described = drill["monitor"]("backup").describe_recovery_point(BackupVaultName=names.vault, RecoveryPointArn=point)
    assert described["ResourceArn"].endswith(f":table/{names.table}")
    job = _start(drill["monitor"], point, f"{names.table}-restored-ok", drill["role"])
    assert drill["monitor"]("backup").describe_restore_job(RestoreJobId=job)["RecoveryPointArn"] == point


@pytest.mark.parametrize(
    ("case", "table_is_drills", "tags"),
    [
        ("production table's recovery point", False, {"team": "payments"}),
        ("production table's untagged recovery point", False, None),
        ("drill table's untagged recovery point", True, None),
        ("drill table's recovery point of another run", True, {TAG_RUN_ID: "20250101t000000-ffff"}),
        ("drill table's point tagged managed only", True, {"drdrill:managed": "true"}),
    ],
)
def test_the_monitor_is_denied_any_other_recovery_point(
    drill: dict[str, Any], case: str, table_is_drills: bool, tags: dict[str, str] | None
) -> None:
    names = drill["names"]
    point = drill["point"](names.table if table_is_drills else drill["production"], tags)
    with pytest.raises(ClientError) as refused:
        _start(drill["monitor"], point, f"{names.table}-restored-stolen", drill["role"])
    message = denied(refused, 403)
    assert f"backup:StartRestoreJob on resource: {point} because no identity-based policy allows" in message, case
    assert "drdrill:" not in message.split("allows")[-1], "decided as AWS would, not left undecidable"
    with pytest.raises(ClientError) as described:
        drill["monitor"]("backup").describe_recovery_point(BackupVaultName=names.vault, RecoveryPointArn=point)
    denied(described, 403)
    restores = drill["admin_backup"].list_restore_jobs()["RestoreJobs"]
    assert all(job["RecoveryPointArn"] != point for job in restores), "no restore started"


def test_dynamodb_backups_are_scoped_by_the_table_name(drill: dict[str, Any]) -> None:
    names = drill["names"]
    ours = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{names.table}/backup/01740000000000-abcdef12"
    theirs = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{drill['production']}/backup/01740000000000-abcdef12"
    with pytest.raises(ClientError) as refused:
        _start(drill["monitor"], theirs, f"{names.table}-restored-x", drill["role"])
    denied(refused, 403)
    with pytest.raises(ClientError) as authorized:  # allowed by IAM; the embedded target holds no such point
        _start(drill["monitor"], ours, f"{names.table}-restored-x", drill["role"])
    assert authorized.value.response["Error"]["Code"] == "ResourceNotFoundException"
