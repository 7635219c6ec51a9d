"""backup strategy: right recovery point, one restore per incident, clear failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from change_monitor.handler import process_event
from change_monitor.ledger import idempotency_token
from change_monitor.strategies.base import Runtime

from .support import ACCOUNT, LEDGER, REGION, T0, LogLines, load_event, settings_for, with_changes

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/drdrill-restore"
VAULT = "drdrill-vault"
CHANGE = datetime.fromtimestamp(T0, tz=UTC)
INCIDENT = "20240501T120000Z"
TOKEN = idempotency_token("orders", INCIDENT)
TARGET = f"orders-restored-{INCIDENT}"


def point(name: str, created: datetime, status: str = "COMPLETED", vault: str = VAULT) -> dict[str, Any]:
    return {
        "RecoveryPointArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:{name}",
        "CreationDate": created,
        "Status": status,
        "BackupVaultName": vault,
    }


GOOD = point("good", CHANGE - timedelta(hours=2))


@pytest.fixture
def backup(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("backup", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def runtime(ddb: Any, backup: tuple[Any, Stubber], make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(settings_for("backup"), dynamodb=ddb, backup=backup[0])


def expect_points(stubber: Stubber, *pages: list[dict[str, Any]]) -> None:
    for i, page in enumerate(pages):
        response: dict[str, Any] = {"RecoveryPoints": page}
        params: dict[str, Any] = {"ResourceArn": TABLE_ARN}
        if i + 1 < len(pages):
            response["NextToken"] = f"page{i + 1}"
        if i:
            params["NextToken"] = f"page{i}"
        stubber.add_response("list_recovery_points_by_resource", response, params)


def expect_in_flight(stubber: Stubber, pending: int = 0, running: int = 0) -> None:
    for status, count in (("PENDING", pending), ("RUNNING", running)):
        jobs = [{"RestoreJobId": f"{status}-{i}"} for i in range(count)]
        stubber.add_response(
            "list_restore_jobs",
            {"RestoreJobs": jobs},
            {"ByStatus": status, "ByResourceType": "DynamoDB"},
        )


def expect_start(stubber: Stubber, arn: object = GOOD["RecoveryPointArn"], job: str = "job-1") -> None:
    stubber.add_response(
        "start_restore_job",
        {"RestoreJobId": job},
        {
            "RecoveryPointArn": arn,
            "Metadata": {"targetTableName": TARGET},
            "IamRoleArn": ROLE,
            "IdempotencyToken": TOKEN,
            "ResourceType": "DynamoDB",
        },
    )


def ledger_item(ddb: Any) -> dict[str, Any]:
    item: dict[str, Any] = ddb.get_item(TableName=LEDGER, Key={"pk": {"S": "incident#orders"}})["Item"]
    return item


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_restores_from_the_newest_completed_point_strictly_before_the_change(
    runtime: Runtime, backup: tuple[Any, Stubber], ddb: Any, logs: LogLines
) -> None:
    _, stubber = backup
    expect_points(
        stubber,
        [
            point("after", CHANGE + timedelta(minutes=5)),
            point("same-second", CHANGE + timedelta(milliseconds=500)),
            point("exactly-at", CHANGE),
            point("partial", CHANGE - timedelta(minutes=10), status="PARTIAL"),
        ],
        [
            point("older", CHANGE - timedelta(hours=14)),
            GOOD,
            point("other-vault", CHANGE - timedelta(minutes=1), vault="someone-elses"),
        ],
    )
    expect_in_flight(stubber, pending=1, running=2)
    expect_start(stubber)

    response = process_event(load_event("remove.json"), None, runtime)

    assert failures(response) == []
    [line] = logs.read()
    assert line["decision"] == "restore_started"
    assert line["recoveryPointArn"] == GOOD["RecoveryPointArn"]
    assert line["restoreTime"] == "2024-05-01T10:00:00Z"
    assert line["restoreJobId"] == "job-1"
    assert line["restoredTable"] == TARGET
    assert line["incident"] == INCIDENT
    item = ledger_item(ddb)
    assert item["restore_job_id"] == {"S": "job-1"}
    assert item["token"] == {"S": TOKEN}
    assert item["expires_at"] == {"N": str(T0 + 3600)}


def test_redelivery_starts_nothing_new(runtime: Runtime, backup: tuple[Any, Stubber], logs: LogLines) -> None:
    _, stubber = backup
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    expect_start(stubber)
    process_event(load_event("remove.json"), None, runtime)
    logs.read()

    # Redelivered batch: no Backup call is stubbed, so any call would fail the test.
    response = process_event(load_event("remove.json"), None, runtime)

    [line] = logs.read()
    assert line["decision"] == "restore_already_started"
    assert line["restoreJobId"] == "job-1"
    assert line["recoveryPointArn"] == GOOD["RecoveryPointArn"]
    assert failures(response) == []


def test_after_a_failed_start_the_retry_reuses_the_same_token_and_target(
    runtime: Runtime, backup: tuple[Any, Stubber], ddb: Any, logs: LogLines
) -> None:
    _, stubber = backup
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    stubber.add_client_error("start_restore_job", "AccessDeniedException", "not authorized to pass role", 400)
    event = load_event("remove.json")

    response = process_event(event, None, runtime)

    [line] = logs.read()
    assert line["decision"] == "failed"
    assert line["error"] == "AccessDeniedException: not authorized to pass role"
    assert failures(response) == [event["Records"][0]["dynamodb"]["SequenceNumber"]]

    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    expect_start(stubber, job="job-7")  # same token and target name, checked by the stub

    response = process_event(event, None, runtime)

    [line] = logs.read()
    assert line["decision"] == "restore_already_started"
    assert line["restoreJobId"] == "job-7"
    assert failures(response) == []
    assert ledger_item(ddb)["restore_job_id"] == {"S": "job-7"}


def test_a_500_delete_burst_over_many_batches_starts_one_restore(
    runtime: Runtime, backup: tuple[Any, Stubber], logs: LogLines
) -> None:
    _, stubber = backup
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    expect_start(stubber)  # exactly one StartRestoreJob is stubbed
    batch = load_event("batch_100.json")["Records"]

    for n in range(5):
        records = [
            with_changes(
                r,
                SequenceNumber=str(int(r["dynamodb"]["SequenceNumber"]) + n * 100_000),
                ApproximateCreationDateTime=T0 + n * 20 + i // 10,
            )
            for i, r in enumerate(batch)
        ]
        assert failures(process_event({"Records": records}, None, runtime)) == []

    decisions = [line["decision"] for line in logs.read()]
    assert len(decisions) == 500
    assert decisions.count("restore_started") == 1
    assert decisions.count("restore_already_started") == 499


def test_no_recovery_point_before_the_change_fails_the_records(
    runtime: Runtime, backup: tuple[Any, Stubber], logs: LogLines
) -> None:
    _, stubber = backup
    expect_points(stubber, [point("after", CHANGE + timedelta(seconds=1))])
    event = load_event("remove.json")

    response = process_event(event, None, runtime)

    [line] = logs.read()
    assert line["decision"] == "no_recovery_point"
    assert line["level"] == "ERROR"
    assert line["reason"] == "no recovery point before 2024-05-01T12:00:00Z"
    assert failures(response) == [event["Records"][0]["dynamodb"]["SequenceNumber"]]


def test_at_the_concurrent_restore_limit_nothing_starts(
    ddb: Any, backup: tuple[Any, Stubber], make_runtime: Callable[..., Runtime], logs: LogLines
) -> None:
    client, stubber = backup
    runtime = make_runtime(settings_for("backup", DR_MAX_CONCURRENT_RESTORES="3"), dynamodb=ddb, backup=client)
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber, pending=1, running=2)

    response = process_event(load_event("remove.json"), None, runtime)

    [line] = logs.read()
    assert line["decision"] == "failed"
    assert "concurrent restore limit reached (3 in flight, limit 3)" in line["reason"]
    assert len(failures(response)) == 1


def test_a_change_after_the_window_opens_a_new_incident(
    runtime: Runtime, backup: tuple[Any, Stubber], logs: LogLines
) -> None:
    _, stubber = backup
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    expect_start(stubber)
    process_event(load_event("remove.json"), None, runtime)
    later = T0 + 3600
    second_incident = "20240501T130000Z"
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    stubber.add_response(
        "start_restore_job",
        {"RestoreJobId": "job-2"},
        {
            "RecoveryPointArn": GOOD["RecoveryPointArn"],
            "Metadata": {"targetTableName": f"orders-restored-{second_incident}"},
            "IamRoleArn": ROLE,
            "IdempotencyToken": idempotency_token("orders", second_incident),
            "ResourceType": "DynamoDB",
        },
    )
    record = with_changes(
        load_event("remove.json")["Records"][0],
        ApproximateCreationDateTime=later,
        SequenceNumber="4421584500000000017450449091",
    )

    process_event({"Records": [record]}, None, runtime)

    lines = logs.read()
    assert [line["decision"] for line in lines] == ["restore_started", "restore_started"]
    assert lines[1]["incident"] == second_incident
    assert lines[1]["restoreJobId"] == "job-2"


def test_a_change_within_the_window_joins_the_incident(
    runtime: Runtime, backup: tuple[Any, Stubber], logs: LogLines
) -> None:
    _, stubber = backup
    expect_points(stubber, [GOOD])
    expect_in_flight(stubber)
    expect_start(stubber, arn=ANY)
    process_event(load_event("remove.json"), None, runtime)
    record = with_changes(
        load_event("modify.json")["Records"][0],
        ApproximateCreationDateTime=T0 + 3599,
        SequenceNumber="4421584500000000017450449091",
    )

    process_event({"Records": [record]}, None, runtime)

    lines = logs.read()
    assert lines[1]["decision"] == "restore_already_started"
    assert lines[1]["incident"] == INCIDENT
