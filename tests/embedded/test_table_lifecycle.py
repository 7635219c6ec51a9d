"""New and restored tables are CREATING before ACTIVE and refuse what AWS refuses meanwhile (plain boto3)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import completed_backup, create_role, finished_restore, table_status, wait_active

from dr_infra.targets.embedded import EmbeddedTarget

KEY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
ITEM = {"pk": {"S": "a"}}


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"])


@pytest.fixture
def slow(embedded: EmbeddedTarget) -> None:
    """Tables take 1 s to create (aws-scaled, scale 0.05 of an assumed 20 s), so CREATING is seen for sure."""
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.05)


def test_create_table_answers_creating_with_a_table_id_then_becomes_active(
    embedded: EmbeddedTarget, unique: str
) -> None:
    ddb = embedded.client("dynamodb")
    name = f"life-{unique}"
    created = ddb.create_table(TableName=name, **KEY)["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    assert re.fullmatch(r"[0-9a-f-]{36}", created["TableId"])
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100})
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["TableId"] == created["TableId"]  # stable
    ddb.put_item(TableName=name, Item=ITEM)
    assert ddb.get_item(TableName=name, Key=ITEM, ConsistentRead=True)["Item"] == ITEM


@pytest.mark.usefixtures("slow")
def test_a_creating_table_refuses_reads_writes_and_changes(embedded: EmbeddedTarget, unique: str) -> None:
    ddb = embedded.client("dynamodb")
    name = f"life-{unique}"
    ddb.create_table(TableName=name, **KEY)
    assert table_status(ddb, name) == "CREATING"
    assert _code(lambda: ddb.put_item(TableName=name, Item=ITEM)) == "ResourceNotFoundException"
    assert _code(lambda: ddb.get_item(TableName=name, Key=ITEM)) == "ResourceNotFoundException"
    assert _code(lambda: ddb.scan(TableName=name)) == "ResourceNotFoundException"
    batch = {name: [{"PutRequest": {"Item": ITEM}}]}
    assert _code(lambda: ddb.batch_write_item(RequestItems=batch)) == "ResourceNotFoundException"
    put = [{"Put": {"TableName": name, "Item": ITEM}}]
    assert _code(lambda: ddb.transact_write_items(TransactItems=put)) == "ResourceNotFoundException"
    assert _code(lambda: ddb.delete_table(TableName=name)) == "ResourceInUseException"
    spec = {"PointInTimeRecoveryEnabled": True}
    assert (
        _code(lambda: ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=spec))
        == "ContinuousBackupsUnavailableException"
    )
    wait_active(ddb, name)
    ddb.put_item(TableName=name, Item=ITEM)
    assert ddb.scan(TableName=name, ConsistentRead=True)["Count"] == 1  # the refused writes left nothing
    ddb.delete_table(TableName=name)


def test_a_table_being_restored_refuses_reads_until_active(embedded: EmbeddedTarget, unique: str) -> None:
    ddb, backup = embedded.client("dynamodb"), embedded.client("backup")
    name = f"life-{unique}"
    arn = ddb.create_table(TableName=name, **KEY)["TableDescription"]["TableArn"]
    wait_active(ddb, name)
    ddb.put_item(TableName=name, Item=ITEM)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(embedded.client("iam"), f"life-role-{unique}")
    point = completed_backup(backup, vault, arn, role)
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.001)  # the restore runs 1.2 s
    target = f"{name}-restored"
    job = backup.start_restore_job(RecoveryPointArn=point, Metadata={"targetTableName": target}, IamRoleArn=role)
    assert table_status(ddb, target) == "CREATING"
    assert _code(lambda: ddb.scan(TableName=target)) == "ResourceNotFoundException"
    assert finished_restore(backup, job["RestoreJobId"])["Status"] == "COMPLETED"
    wait_active(ddb, target)
    assert ddb.scan(TableName=target, ConsistentRead=True)["Items"] == [ITEM]
