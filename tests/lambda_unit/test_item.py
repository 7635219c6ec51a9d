"""item strategy: exact before-image, newer writes kept, own writes never loop."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
import pytest
from change_monitor.handler import process_event
from change_monitor.records import to_client_image
from change_monitor.strategies.base import Runtime
from change_monitor.strategies.item import MARKER

from .support import REGION, STREAM_ARN, TABLE, LogLines, load_event, settings_for, with_changes

KEY = {"pk": {"S": "customer#0001"}, "sk": {"S": "order#0001"}}
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@pytest.fixture
def runtime(ddb: Any, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(settings_for("item"), dynamodb=ddb)


def image(name: str, which: str) -> dict[str, Any]:
    value: dict[str, Any] = load_event(name)["Records"][0]["dynamodb"][which]
    return value


def current(ddb: Any) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True).get("Item")
    return item


def count_writes(ddb: Any) -> list[str]:
    calls: list[str] = []
    for op in WRITES:
        ddb.meta.events.register(f"provide-client-params.dynamodb.{op}", lambda params, op=op, **_: calls.append(op))
    return calls


def test_remove_is_reverted_to_the_exact_before_image(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    response = process_event(load_event("remove.json"), None, runtime)

    assert response == {"batchItemFailures": []}
    assert current(ddb) == to_client_image(image("remove.json", "OldImage"))  # no marker left
    [line] = logs.read()
    assert line["decision"] == "repaired"


def test_modify_is_reverted_to_the_exact_before_image(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    ddb.put_item(TableName=TABLE, Item=to_client_image(image("modify.json", "NewImage")))

    process_event(load_event("modify.json"), None, runtime)

    assert current(ddb) == to_client_image(image("modify.json", "OldImage"))
    assert logs.read()[0]["decision"] == "repaired"


def test_insert_is_reverted_by_deleting_the_item(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    ddb.put_item(TableName=TABLE, Item=to_client_image(image("insert.json", "NewImage")))

    process_event(load_event("insert.json"), None, runtime)

    assert current(ddb) is None
    assert logs.read()[0]["decision"] == "repaired"


def test_several_changes_of_one_key_revert_to_before_the_first_in_sequence_order(
    ddb: Any, runtime: Runtime, logs: LogLines
) -> None:
    original = image("modify.json", "OldImage")
    middle = image("modify.json", "NewImage")
    modify = with_changes(load_event("modify.json")["Records"][0], SequenceNumber="99")
    remove = with_changes(load_event("remove.json")["Records"][0], SequenceNumber="100", OldImage=middle)
    # Delivered out of order, and "100" < "99" as strings: order must be numeric.
    process_event({"Records": [remove, modify]}, None, runtime)

    assert current(ddb) == to_client_image(original)
    lines = logs.read()
    assert [line["decision"] for line in lines] == ["repaired", "repaired"]
    assert lines[0]["reason"] == "covered by the repair for sequence number 99"


def test_a_newer_write_is_not_overwritten(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    newer = copy.deepcopy(image("modify.json", "NewImage"))
    newer["status"] = {"S": "REFUNDED"}  # a legitimate write after the batch's last change
    ddb.put_item(TableName=TABLE, Item=to_client_image(newer))

    response = process_event(load_event("modify.json"), None, runtime)

    assert current(ddb) == to_client_image(newer)
    [line] = logs.read()
    assert line["decision"] == "repair_skipped_newer_write"
    assert response == {"batchItemFailures": []}  # not a failure


@pytest.mark.parametrize("event", ["modify.json", "insert.json"])
def test_a_newer_write_that_only_adds_attributes_is_not_overwritten(
    ddb: Any, runtime: Runtime, logs: LogLines, event: str
) -> None:
    """Every attribute still equals the last NewImage, so only the added one tells the write is newer."""
    newer = copy.deepcopy(image(event, "NewImage"))
    newer["note"] = {"S": "added by a legitimate later write"}
    ddb.put_item(TableName=TABLE, Item=to_client_image(newer))

    response = process_event(load_event(event), None, runtime)

    assert current(ddb) == to_client_image(newer)
    [line] = logs.read()
    assert line["decision"] == "repair_skipped_newer_write"
    assert "note" in line["reason"]
    assert response == {"batchItemFailures": []}


def test_a_recreated_item_is_not_overwritten_after_a_remove(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    recreated = {**KEY, "status": {"S": "NEW"}}
    ddb.put_item(TableName=TABLE, Item=recreated)

    process_event(load_event("remove.json"), None, runtime)

    assert current(ddb) == recreated
    assert logs.read()[0]["decision"] == "repair_skipped_newer_write"


def test_ttl_deletion_is_not_repaired(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    process_event(load_event("ttl_delete.json"), None, runtime)

    assert current(ddb) is None
    assert logs.read()[0]["reason"] == "TTL deletion"


def stream_event(ddb: Any) -> dict[str, Any]:
    """Everything the table's stream holds, shaped as the Lambda event would be."""
    # botocore >= 1.4x derives an account-based endpoint (<account>.ddb.<region>...) from a
    # stream ARN, which moto routes to DynamoDB ("Not yet implemented"): pin the classic one.
    streams = boto3.client(
        "dynamodbstreams",
        region_name=REGION,
        endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
    )
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    out: list[dict[str, Any]] = []
    for original in records:
        record: dict[str, Any] = dict(original)
        ddb_part: dict[str, Any] = dict(record["dynamodb"])
        created = ddb_part["ApproximateCreationDateTime"]
        if isinstance(created, datetime):
            ddb_part["ApproximateCreationDateTime"] = int(created.timestamp())
        record["dynamodb"] = ddb_part
        record["eventSourceARN"] = STREAM_ARN
        out.append(record)
    return {"Records": out}


@pytest.mark.parametrize("name", ["insert.json", "modify.json", "remove.json"])
def test_own_repair_writes_are_ignored_and_cause_no_further_writes(
    ddb: Any, runtime: Runtime, logs: LogLines, name: str
) -> None:
    if name != "remove.json":
        ddb.put_item(TableName=TABLE, Item=to_client_image(image(name, "NewImage")))
    ddb.update_table(
        TableName=TABLE,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    process_event(load_event(name), None, runtime)
    repaired = current(ddb)
    own = stream_event(ddb)
    assert len(own["Records"]) == 2  # the two steps of the repair
    assert all(
        MARKER in (r["dynamodb"].get("NewImage") or {}) or MARKER in (r["dynamodb"].get("OldImage") or {})
        for r in own["Records"]
    )
    logs.read()
    writes = count_writes(ddb)

    response = process_event(own, None, runtime)

    assert writes == []
    assert current(ddb) == repaired
    assert len(stream_event(ddb)["Records"]) == 2  # nothing new on the stream: no loop
    lines = logs.read()
    assert [(line["decision"], line["reason"]) for line in lines] == [("ignored", "own repair write")] * 2
    assert response == {"batchItemFailures": []}


def test_an_interrupted_repair_is_finished_from_the_stream(ddb: Any, runtime: Runtime, logs: LogLines) -> None:
    before = image("remove.json", "OldImage")
    token = "restore/4421584500000000017450439091"
    marked = {**before, MARKER: {"S": token}}
    ddb.put_item(TableName=TABLE, Item=to_client_image(marked))  # step 1 done, then a crash
    own_put = with_changes(
        load_event("insert.json")["Records"][0],
        NewImage=marked,
        SequenceNumber="4421584500000000017450439191",
    )

    process_event({"Records": [own_put]}, None, runtime)

    assert current(ddb) == to_client_image(before)
    assert logs.read()[0]["reason"] == "own repair write"


def test_the_real_entry_point_builds_its_own_clients(ddb: Any, monkeypatch: pytest.MonkeyPatch, logs: LogLines) -> None:
    from change_monitor import handler

    monkeypatch.setenv("DR_STRATEGY", "item")

    response = handler.lambda_handler(load_event("remove.json"), None)

    assert response == {"batchItemFailures": []}
    assert current(ddb) == to_client_image(image("remove.json", "OldImage"))
    assert logs.read()[0]["decision"] == "repaired"
