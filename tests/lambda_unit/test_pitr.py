"""pitr strategy: floored restore time, the documented wait, idempotent target name."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import ANY, Stubber
from change_monitor.handler import process_event
from change_monitor.strategies.base import Runtime

from .support import REGION, TABLE, FakeContext, LogLines, load_event, settings_for, with_changes


def enable_pitr(ddb: Any) -> None:
    ddb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def restorable_second(ddb: Any) -> int:
    """Enable PITR and return a whole second inside the restorable window.

    Vanilla moto accepts any restore time, but drdrill's embedded gap-filler (installed process-wide once an
    embedded target has started in this test session) enforces AWS's window: after PITR was enabled and at
    least its 1 s lag before now. Real AWS would refuse a time before PITR was enabled too.
    """
    enabled = time.time()
    enable_pitr(ddb)
    advance_latest_restorable_time(ddb)
    second = int(enabled) + 1
    time.sleep(max(0.0, second + 1.2 - time.time()))
    return second


def advance_latest_restorable_time(ddb: Any, lag_s: float = 1.0) -> None:
    """Vanilla moto never moves LatestRestorableDateTime past the moment PITR was enabled; AWS keeps it about
    5 minutes behind now. This client-side hook lets it trail now by ``lag_s`` as AWS would (a no-op where the
    embedded gap-filler already does so)."""

    def hook(parsed: dict[str, Any], **_: Any) -> None:
        pitr = parsed.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
        latest = pitr.get("LatestRestorableDateTime")
        trailing = datetime.fromtimestamp(time.time() - lag_s, tz=UTC)
        if latest is not None and latest < trailing:
            pitr["LatestRestorableDateTime"] = trailing

    ddb.meta.events.register("after-call.dynamodb.DescribeContinuousBackups", hook)


def capture_restore_params(ddb: Any) -> list[dict[str, Any]]:
    """Record the parameters of every RestoreTableToPointInTime call."""
    calls: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    ddb.meta.events.register("provide-client-params.dynamodb.RestoreTableToPointInTime", hook)
    return calls


def remove_at(epoch: float) -> dict[str, Any]:
    record = with_changes(load_event("remove.json")["Records"][0], ApproximateCreationDateTime=epoch)
    return {"Records": [record]}


def test_restores_to_the_change_time_floored_to_the_second(
    ddb: Any, make_runtime: Callable[..., Runtime], logs: LogLines
) -> None:
    change = restorable_second(ddb) + 0.75  # sub-second stream time
    calls = capture_restore_params(ddb)
    floored = datetime.fromtimestamp(int(change), tz=UTC)
    runtime = make_runtime(settings_for("pitr"), dynamodb=ddb)

    response = process_event(remove_at(change), FakeContext(), runtime)

    assert response == {"batchItemFailures": []}
    incident = floored.strftime("%Y%m%dT%H%M%SZ")
    assert calls == [
        {
            "SourceTableName": TABLE,
            "TargetTableName": f"orders-restored-{incident}",
            "RestoreDateTime": floored,
        }
    ]
    [line] = logs.read()
    assert line["decision"] == "restore_started"
    assert line["restoreTime"] == floored.isoformat().replace("+00:00", "Z")
    assert line["restoredTable"] == f"orders-restored-{incident}"
    assert ddb.describe_table(TableName=f"orders-restored-{incident}")["Table"]["TableName"]


def test_redelivery_and_existing_target_are_idempotent(
    ddb: Any, make_runtime: Callable[..., Runtime], logs: LogLines
) -> None:
    change = restorable_second(ddb)
    calls = capture_restore_params(ddb)
    runtime = make_runtime(settings_for("pitr"), dynamodb=ddb)
    process_event(remove_at(change), FakeContext(), runtime)

    process_event(remove_at(change), FakeContext(), runtime)  # redelivery: ledger says started
    # A fresh ledger (e.g. a crash before the ledger update): AWS answers TableAlreadyExists.
    ddb.delete_item(TableName=settings_for("pitr").ledger_table, Key={"pk": {"S": "incident#orders"}})
    response = process_event(remove_at(change), FakeContext(), runtime)

    assert [line["decision"] for line in logs.read()] == [
        "restore_started",
        "restore_already_started",
        "restore_already_started",
    ]
    assert len(calls) == 2  # the redelivery made no call at all
    assert response == {"batchItemFailures": []}


def test_waits_for_latest_restorable_time_then_fails_for_redelivery(
    ddb: Any, make_runtime: Callable[..., Runtime], logs: LogLines
) -> None:
    enable_pitr(ddb)
    calls = capture_restore_params(ddb)
    context = FakeContext(remaining_ms=8_000)
    runtime = make_runtime(settings_for("pitr"), dynamodb=ddb, sleep=context.sleep)
    event = remove_at(time.time() + 600)  # moto's LatestRestorableDateTime is "now"

    response = process_event(event, context, runtime)

    assert context.sleeps == [1.0, 1.0, 1.0]  # stops while >= 5 s are left
    assert calls == []
    [line] = logs.read()
    assert line["decision"] == "failed"
    assert "LatestRestorableDateTime" in line["reason"]
    assert "retrying on redelivery" in line["reason"]
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]


def test_waits_until_the_restore_time_is_restorable_then_restores(
    make_runtime: Callable[..., Runtime], logs: LogLines, aws_env: None
) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    restore_time = datetime(2024, 5, 1, 12, tzinfo=UTC)

    def backups(latest: datetime) -> dict[str, Any]:
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {
                    "PointInTimeRecoveryStatus": "ENABLED",
                    "EarliestRestorableDateTime": datetime(2024, 4, 1, tzinfo=UTC),
                    "LatestRestorableDateTime": latest,
                },
            }
        }

    with Stubber(client) as stubber:
        stubber.add_response(
            "put_item",
            {},
            {
                "TableName": "drdrill-ledger",
                "Item": ANY,
                "ConditionExpression": ANY,
                "ExpressionAttributeValues": ANY,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )
        stubber.add_response("describe_continuous_backups", backups(datetime(2024, 5, 1, 11, 59, 58, tzinfo=UTC)))
        stubber.add_response("describe_continuous_backups", backups(datetime(2024, 5, 1, 11, 59, 59, tzinfo=UTC)))
        stubber.add_response("describe_continuous_backups", backups(restore_time))
        stubber.add_response(
            "restore_table_to_point_in_time",
            {},
            {
                "SourceTableName": TABLE,
                "TargetTableName": "orders-restored-20240501T120000Z",
                "RestoreDateTime": restore_time,
            },
        )
        stubber.add_response("update_item", {})
        context = FakeContext(remaining_ms=30_000)
        runtime = make_runtime(settings_for("pitr"), dynamodb=client, sleep=context.sleep)

        response = process_event(load_event("remove.json"), context, runtime)

        stubber.assert_no_pending_responses()
    assert context.sleeps == [1.0, 1.0]
    assert response == {"batchItemFailures": []}
    assert logs.read()[0]["decision"] == "restore_started"


def test_pitr_disabled_fails_with_the_reason(ddb: Any, make_runtime: Callable[..., Runtime], logs: LogLines) -> None:
    runtime = make_runtime(settings_for("pitr"), dynamodb=ddb)

    response = process_event(remove_at(time.time() - 60), FakeContext(), runtime)

    [line] = logs.read()
    assert line["decision"] == "failed"
    assert line["reason"].startswith("point-in-time recovery is not enabled on orders")
    assert len(response["batchItemFailures"]) == 1
