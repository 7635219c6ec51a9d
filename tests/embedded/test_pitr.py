"""Point-in-time recovery on the embedded target travels in time, read back through plain boto3."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import contents, create_table, put, table_status, wait_active, wait_for

from dr_infra.targets.embedded import EmbeddedTarget

GAP = 0.03  # seconds between writes and the chosen restore time (client times have millisecond precision)


def _enable_pitr(ddb: Any, table: str) -> dict[str, Any]:
    result = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return dict(result["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"])


def _pitr(ddb: Any, table: str) -> dict[str, Any]:
    description = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    return dict(description["PointInTimeRecoveryDescription"])


def _moment() -> dt.datetime:
    time.sleep(GAP)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(GAP)
    return moment


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


@pytest.fixture
def ddb(embedded: EmbeddedTarget) -> Any:
    assert embedded.control is not None
    embedded.control.update_settings(pitr_lag_seconds=0)
    return embedded.client("dynamodb")


@pytest.mark.parametrize("stream", [False, True], ids=["no-stream", "stream"])
def test_restore_to_point_in_time_reproduces_table_at_t(ddb: Any, unique: str, stream: bool) -> None:
    table = f"pitr-{unique}"
    create_table(ddb, table, stream=stream)
    _enable_pitr(ddb, table)
    for pk in "abc":
        put(ddb, table, pk, 1)
    t = _moment()
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "b"}})
    put(ddb, table, "d", 1)
    _moment()
    target = f"{table}-at-t"
    restored = ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=target, RestoreDateTime=t)
    description = restored["TableDescription"]
    assert description["TableStatus"] == "CREATING"
    assert description["RestoreSummary"]["RestoreInProgress"] is True
    wait_active(ddb, target)
    assert contents(ddb, target) == {"a": 1, "b": 1, "c": 1}
    assert contents(ddb, table) == {"a": 2, "c": 1, "d": 1}


def test_batch_and_transaction_writes_are_in_the_history(ddb: Any, unique: str) -> None:
    table = f"pitr-batch-{unique}"
    create_table(ddb, table)
    _enable_pitr(ddb, table)
    ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": k}, "v": {"N": "1"}}}} for k in "xyz"]}
    )
    t1 = _moment()
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "x"}, "v": {"N": "5"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "y"}}}},
        ]
    )
    t2 = _moment()
    with pytest.raises(ClientError):  # cancelled: its put of "q" must not enter the history
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "q"}, "v": {"N": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "z"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    _moment()
    ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=f"{table}-1", RestoreDateTime=t1)
    ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=f"{table}-2", RestoreDateTime=t2)
    ddb.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=f"{table}-3", UseLatestRestorableTime=True
    )
    for n in (1, 2, 3):
        wait_active(ddb, f"{table}-{n}")  # a restored table refuses reads until ACTIVE
    assert contents(ddb, f"{table}-1") == {"x": 1, "y": 1, "z": 1}
    assert contents(ddb, f"{table}-2") == {"x": 5, "z": 1}
    assert contents(ddb, f"{table}-3") == {"x": 5, "z": 1} == contents(ddb, table)


def test_use_latest_restorable_time(ddb: Any, unique: str) -> None:
    table = f"pitr-latest-{unique}"
    arn = create_table(ddb, table)
    _enable_pitr(ddb, table)
    put(ddb, table, "a", 1)
    put(ddb, table, "a", 3)
    _moment()
    target = f"{table}-latest"
    restored = ddb.restore_table_to_point_in_time(
        SourceTableArn=arn, TargetTableName=target, UseLatestRestorableTime=True
    )
    assert restored["TableDescription"]["RestoreSummary"]["SourceTableArn"] == arn
    wait_active(ddb, target)
    assert contents(ddb, target) == {"a": 3}


def test_restore_needs_pitr_enabled(ddb: Any, unique: str) -> None:
    table = f"pitr-off-{unique}"
    create_table(ddb, table)
    put(ddb, table, "a", 1)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=f"{table}-x", UseLatestRestorableTime=True
        )
    assert _code(err) == "PointInTimeRecoveryUnavailableException"
    _enable_pitr(ddb, table)
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=f"{table}-y", UseLatestRestorableTime=True
        )
    assert _code(err) == "PointInTimeRecoveryUnavailableException"
    assert table_status(ddb, table) == "ACTIVE"
    assert f"{table}-x" not in ddb.list_tables()["TableNames"]


def test_restore_time_outside_the_window_is_rejected(embedded: EmbeddedTarget, unique: str) -> None:
    assert embedded.control is not None
    embedded.control.update_settings(pitr_lag_seconds=5)
    ddb = embedded.client("dynamodb")
    table = f"pitr-window-{unique}"
    create_table(ddb, table)
    before_enable = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    _enable_pitr(ddb, table)
    put(ddb, table, "a", 1)
    for when in (dt.datetime(1990, 1, 1, tzinfo=dt.UTC), before_enable, dt.datetime.now(dt.UTC)):
        with pytest.raises(ClientError) as err:  # the last one is after LatestRestorableDateTime (now - 5 s)
            ddb.restore_table_to_point_in_time(
                SourceTableName=table, TargetTableName=f"{table}-x", RestoreDateTime=when
            )
        assert _code(err) == "InvalidRestoreTimeException"
    assert f"{table}-x" not in ddb.list_tables()["TableNames"]


def test_restore_onto_existing_table_is_rejected(ddb: Any, unique: str) -> None:
    table = f"pitr-exists-{unique}"
    create_table(ddb, table)
    create_table(ddb, f"{table}-taken")
    _enable_pitr(ddb, table)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=f"{table}-taken", UseLatestRestorableTime=True
        )
    assert _code(err) == "TableAlreadyExistsException"


def test_describe_continuous_backups_window(embedded: EmbeddedTarget, unique: str) -> None:
    assert embedded.control is not None
    embedded.control.update_settings(pitr_lag_seconds=0.2)
    ddb = embedded.client("dynamodb")
    table = f"pitr-describe-{unique}"
    create_table(ddb, table)
    assert _pitr(ddb, table)["PointInTimeRecoveryStatus"] == "DISABLED"
    before = dt.datetime.now(dt.UTC)
    enabled = _enable_pitr(ddb, table)
    after = dt.datetime.now(dt.UTC)
    earliest = enabled["EarliestRestorableDateTime"]
    assert before - dt.timedelta(milliseconds=2) <= earliest <= after + dt.timedelta(milliseconds=2)
    assert enabled["RecoveryPeriodInDays"] == 35
    assert enabled["LatestRestorableDateTime"] == earliest  # never before Earliest
    time.sleep(0.4)
    later = _pitr(ddb, table)
    assert later["EarliestRestorableDateTime"] == earliest
    now = dt.datetime.now(dt.UTC)
    lag = now - later["LatestRestorableDateTime"]
    assert dt.timedelta(milliseconds=190) <= lag <= dt.timedelta(milliseconds=400)


def test_pitr_restored_table_has_no_stream_pitr_ttl_or_tags(ddb: Any, unique: str) -> None:
    table = f"pitr-bare-{unique}"
    create_table(ddb, table, stream=True, tags=True)
    _enable_pitr(ddb, table)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    put(ddb, table, "a", 1)
    _moment()
    target = f"{table}-restored"
    ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=target, UseLatestRestorableTime=True)
    wait_active(ddb, target)
    described = ddb.describe_table(TableName=target)["Table"]
    assert "StreamSpecification" not in described and "LatestStreamArn" not in described
    assert described["RestoreSummary"]["RestoreInProgress"] is False
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert _pitr(ddb, target)["PointInTimeRecoveryStatus"] == "DISABLED"
    assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    assert ddb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"] == []
    assert contents(ddb, target) == {"a": 1}


def test_history_memory_is_bounded_by_the_recovery_period() -> None:
    """Changes older than RecoveryPeriodInDays are folded into the snapshot (drdrill's own structure)."""
    from dr_infra.targets.embedded.history import SECONDS_PER_DAY, Change, TableHistory, pack, unpack

    def key(pk: str) -> tuple[str, str]:
        return ("S", pk)

    def item(pk: str, v: int) -> dict[str, Any]:
        return {"pk": {"S": pk}, "v": {"N": str(v)}}

    hist = TableHistory(enabled_at=0.0, recovery_days=1, base_at=0.0, base={})
    hist.record(Change(10.0, key("a"), pack(item("a", 1))))
    hist.record(Change(20.0, key("b"), pack(item("b", 1))))
    hist.record(Change(SECONDS_PER_DAY + 15.0, key("a"), None))  # a and the first change fall out of the window
    assert len(hist.changes) == 2 and {k: unpack(v) for k, v in hist.base.items()} == {key("a"): item("a", 1)}
    assert hist.earliest(SECONDS_PER_DAY + 15.0) == 15.0
    assert hist.state_at(20.0) == [item("a", 1), item("b", 1)]
    assert hist.state_at(SECONDS_PER_DAY + 15.0) == [item("b", 1)]


def test_point_in_time_restores_in_flight_count_against_the_account_quota(
    embedded: EmbeddedTarget, unique: str
) -> None:
    """49 restores in flight leave room for one more; the 51st restore of any kind is refused."""
    from dr_infra.targets.embedded import backup as embedded_backup

    assert embedded.control is not None
    embedded.control.update_settings(pitr_lag_seconds=0, latency_profile="aws-scaled", scale=0.002)  # 2.4 s restores
    ddb = embedded.client("dynamodb")
    table = f"pitr-quota-{unique}"
    create_table(ddb, table)
    _enable_pitr(ddb, table)
    in_flight = embedded_backup.restores_in_flight  # the embedded server runs in this process
    account = ddb.describe_table(TableName=table)["Table"]["TableArn"].split(":")[4]
    before = in_flight(account, time.time())
    ddb.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=f"{table}-1", UseLatestRestorableTime=True
    )
    assert in_flight(account, time.time()) == before + 1
    assert table_status(ddb, f"{table}-1") == "CREATING"
    with pytest.raises(ClientError) as in_use:  # a table being restored cannot be deleted, as on AWS
        ddb.delete_table(TableName=f"{table}-1")
    assert in_use.value.response["Error"]["Code"] == "ResourceInUseException"
    assert in_flight(account, time.time()) == before + 1
    wait_for(lambda: table_status(ddb, f"{table}-1"), lambda status: status == "ACTIVE", timeout=10)
    assert in_flight(account, time.time()) == before


def test_aws_scaled_profile_scales_the_pitr_lag(embedded: EmbeddedTarget, unique: str) -> None:
    """AWS's ~5-minute LatestRestorableDateTime lag times the profile's scale (0.01 -> 3 s)."""
    assert embedded.control is not None
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.01)
    ddb = embedded.client("dynamodb")
    table = f"pitr-scaled-{unique}"
    create_table(ddb, table)
    _enable_pitr(ddb, table)
    time.sleep(3.3)
    lag = dt.datetime.now(dt.UTC) - _pitr(ddb, table)["LatestRestorableDateTime"]
    assert dt.timedelta(seconds=2.9) <= lag <= dt.timedelta(seconds=3.3)


def test_deleted_table_is_restored_by_arn_to_a_point_in_time(ddb: Any, unique: str) -> None:
    """A table deleted with PITR on is restorable by SourceTableArn within [Earliest, deletion time]."""
    table = f"pitr-gone-{unique}"
    arn = create_table(ddb, table)
    _enable_pitr(ddb, table)
    put(ddb, table, "a", 1)
    put(ddb, table, "b", 1)
    t = _moment()
    put(ddb, table, "a", 2)
    ddb.delete_item(TableName=table, Key={"pk": {"S": "b"}})
    put(ddb, table, "c", 1)
    _moment()
    ddb.delete_table(TableName=table)
    deleted_after = _moment()
    restored = ddb.restore_table_to_point_in_time(
        SourceTableArn=arn, TargetTableName=f"{table}-at-t", RestoreDateTime=t
    )["TableDescription"]
    assert restored["RestoreSummary"]["SourceTableArn"] == arn
    assert restored["TableStatus"] == "CREATING"
    latest = ddb.restore_table_to_point_in_time(
        SourceTableArn=arn, TargetTableName=f"{table}-latest", UseLatestRestorableTime=True
    )["TableDescription"]
    assert latest["RestoreSummary"]["RestoreDateTime"] < deleted_after
    wait_active(ddb, f"{table}-at-t")
    wait_active(ddb, f"{table}-latest")
    wait_active(ddb, f"{table}-at-t")
    wait_active(ddb, f"{table}-latest")
    assert contents(ddb, f"{table}-at-t") == {"a": 1, "b": 1}
    assert contents(ddb, f"{table}-latest") == {"a": 2, "c": 1}  # the state at deletion
    assert ddb.describe_table(TableName=f"{table}-at-t")["Table"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"}
    ]
    assert table not in ddb.list_tables()["TableNames"]


def test_deleted_table_window_ends_at_the_deletion(ddb: Any, unique: str) -> None:
    table = f"pitr-gone-window-{unique}"
    arn = create_table(ddb, table)
    before_enable = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    _enable_pitr(ddb, table)
    put(ddb, table, "a", 1)
    _moment()
    ddb.delete_table(TableName=table)
    after_delete = _moment()
    for when in (before_enable, after_delete):
        with pytest.raises(ClientError) as err:
            ddb.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName=f"{table}-x", RestoreDateTime=when)
        assert _code(err) == "InvalidRestoreTimeException"
        assert "LatestRestorableDateTime" in err.value.response["Error"]["Message"]
    assert f"{table}-x" not in ddb.list_tables()["TableNames"]


def test_deleted_table_is_not_found_by_name_or_without_pitr(ddb: Any, unique: str) -> None:
    table = f"pitr-gone-name-{unique}"
    create_table(ddb, table)
    _enable_pitr(ddb, table)
    put(ddb, table, "a", 1)
    ddb.delete_table(TableName=table)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=f"{table}-x", UseLatestRestorableTime=True
        )
    assert _code(err) == "TableNotFoundException"
    plain = f"pitr-gone-plain-{unique}"
    plain_arn = create_table(ddb, plain)
    ddb.delete_table(TableName=plain)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableArn=plain_arn, TargetTableName=f"{plain}-x", UseLatestRestorableTime=True
        )
    assert _code(err) == "TableNotFoundException"


def test_a_table_recreated_under_the_name_wins_over_its_deleted_history(ddb: Any, unique: str) -> None:
    table = f"pitr-gone-again-{unique}"
    arn = create_table(ddb, table)
    _enable_pitr(ddb, table)
    put(ddb, table, "old", 1)
    _moment()
    ddb.delete_table(TableName=table)
    assert create_table(ddb, table) == arn  # same name, same ARN
    _enable_pitr(ddb, table)
    put(ddb, table, "new", 1)
    _moment()
    ddb.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName=f"{table}-x", UseLatestRestorableTime=True)
    wait_active(ddb, f"{table}-x")
    wait_active(ddb, f"{table}-x")
    assert contents(ddb, f"{table}-x") == {"new": 1}


def test_a_deleted_history_is_forgotten_after_the_recovery_period(ddb: Any, unique: str) -> None:
    from dr_infra.targets.embedded import history  # the embedded server runs in this process

    table = f"pitr-gone-expiry-{unique}"
    arn = create_table(ddb, table)
    ddb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 1},
    )
    put(ddb, table, "a", 1)
    ddb.delete_table(TableName=table)
    gone = history.deleted(arn)
    assert gone is not None
    assert history.deleted(arn, at=gone.deleted_at + history.SECONDS_PER_DAY - 1) is not None
    assert history.deleted(arn, at=gone.deleted_at + history.SECONDS_PER_DAY + 1) is None
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableArn=arn, TargetTableName=f"{table}-x", UseLatestRestorableTime=True
        )
    assert _code(err) == "TableNotFoundException"
