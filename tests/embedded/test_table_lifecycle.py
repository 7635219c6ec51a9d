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


@pytest.fixture
def wall_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call the returned function to set this process's wall clock (``time.time``) back by ``seconds``, as an NTP
    step on a busy VM does; the embedded server runs in this process and reads the same clock."""
    import time

    real = time.time

    def step(seconds: float) -> None:
        monkeypatch.setattr(time, "time", lambda: real() - seconds)

    return step


def test_an_active_table_never_refuses_writes_again_when_the_wall_clock_steps_back(
    embedded: EmbeddedTarget, unique: str, slow: None, wall_clock_steps_back: Any
) -> None:
    """DescribeTable must never answer ACTIVE while data-plane calls are still refused (AWS: a table is ACTIVE
    once, and reads and writes are then accepted). Seen once under aws-scaled: the readiness was judged on the
    wall clock, which can step back between the DescribeTable that answered ACTIVE and the next write."""
    ddb = embedded.client("dynamodb")
    name = f"life-clock-{unique}"
    ddb.create_table(TableName=name, **KEY)
    assert table_status(ddb, name) == "CREATING"
    assert _code(lambda: ddb.put_item(TableName=name, Item=ITEM)) == "ResourceNotFoundException"  # still refused
    wait_active(ddb, name)
    wall_clock_steps_back(2.0)  # more than the table's 1 s of CREATING
    assert table_status(ddb, name) == "ACTIVE"
    ddb.put_item(TableName=name, Item=ITEM)
    assert ddb.get_item(TableName=name, Key=ITEM, ConsistentRead=True)["Item"] == ITEM


def test_a_restored_table_stays_active_when_the_wall_clock_steps_back(
    embedded: EmbeddedTarget, unique: str, wall_clock_steps_back: Any
) -> None:
    ddb = embedded.client("dynamodb")
    name = f"life-pitr-{unique}"
    ddb.create_table(TableName=name, **KEY)
    wait_active(ddb, name)
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.put_item(TableName=name, Item=ITEM)
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.001)  # the restore runs 1.2 s
    target = f"{name}-restored"
    ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True)
    assert table_status(ddb, target) == "CREATING"
    assert _code(lambda: ddb.scan(TableName=target)) == "ResourceNotFoundException"
    wait_active(ddb, target)
    wall_clock_steps_back(3.0)
    assert table_status(ddb, target) == "ACTIVE"
    ddb.scan(TableName=target, ConsistentRead=True)  # not refused
    ddb.put_item(TableName=target, Item={"pk": {"S": "after"}})
