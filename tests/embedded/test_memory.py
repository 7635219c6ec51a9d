"""The embedded target's memory follows what the tables hold, not how many writes and reads they have seen."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from botocore.exceptions import ClientError

from dr_infra.targets.embedded import EmbeddedTarget

BIG = "x" * 30_000
"""A 30 KB attribute: one leaked copy per write is 30 KB, far above the noise of the server's other threads."""


def _table(ddb: object, name: str, stream: bool = False) -> None:
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    ddb.create_table(  # type: ignore[attr-defined]
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    ddb.get_waiter("table_exists").wait(TableName=name)  # type: ignore[attr-defined]


def _traced_growth(action: object) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()  # type: ignore[operator]
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


STORE_FILES = ("*/moto/dynamodb/*", "*/targets/embedded/*")
"""Where the server's DynamoDB data is allocated (other tests' background threads allocate elsewhere)."""


def _stored_growth(action: object) -> int:
    """Bytes still allocated after ``action`` by moto's DynamoDB models and the embedded gap-fillers."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        action()  # type: ignore[operator]
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    filters = [tracemalloc.Filter(True, pattern) for pattern in STORE_FILES]
    diff = after.filter_traces(filters).compare_to(before.filter_traces(filters), "filename")
    return sum(stat.size_diff for stat in diff)


def test_overwritten_deleted_and_read_items_are_not_kept(embedded: EmbeddedTarget, unique: str) -> None:
    """200 overwrites, scans, updates and deletes of one 30 KB item: moto's tracking lists would keep about
    200 x 4 x 30 KB = 24 MB of dead items; what is left is the one live item, whatever the count."""
    ddb = embedded.client("dynamodb")
    name = f"memory-churn-{unique}"
    _table(ddb, name)

    def churn() -> None:
        for i in range(200):
            ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "big": {"S": BIG}, "n": {"N": str(i)}})
            ddb.scan(TableName=name)
            ddb.update_item(
                TableName=name,
                Key={"pk": {"S": "k"}},
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": str(-i)}},
            )
        ddb.delete_item(TableName=name, Key={"pk": {"S": "k"}})

    growth = _traced_growth(churn)
    assert growth < 3_000_000, f"{growth / 1e6:.1f} MB kept after the item was deleted"
    assert ddb.scan(TableName=name)["Items"] == []
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "n": {"N": "1"}})
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "k"}})["Item"] == {"pk": {"S": "k"}, "n": {"N": "1"}}
    ddb.delete_table(TableName=name)


def test_items_are_held_packed_and_read_back_whole(embedded: EmbeddedTarget, unique: str) -> None:
    """2 000 items of every DynamoDB type cost well under moto's 3.6 KB each, and read back exactly as written."""
    from dr_infra.drill.oracle import Oracle

    ddb = embedded.client("dynamodb")
    name = f"memory-packed-{unique}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name)
    oracle = Oracle(hash_key="LockId")
    items = [oracle.seed(i) for i in range(2000)]

    def seed() -> None:
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            ddb.batch_write_item(RequestItems={name: batch})

    growth = _stored_growth(seed)
    assert growth / len(items) < 1500, f"{growth / len(items):.0f} bytes an item"
    for index in (0, 777, 1999):
        key = {"LockId": items[index]["LockId"]}
        assert ddb.get_item(TableName=name, Key=key, ConsistentRead=True)["Item"] == items[index]
    scanned = [item for page in ddb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]]
    assert sorted(scanned, key=lambda item: item["LockId"]["S"]) == items
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] in (0, 2000)  # AWS refreshes it every 6 hours
    ddb.delete_table(TableName=name)


def test_an_update_that_fails_changes_nothing_and_one_that_succeeds_is_kept(
    embedded: EmbeddedTarget, unique: str
) -> None:
    """UpdateItem is all or nothing (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
    API_UpdateItem.html): a SET list that makes the item larger than 400 KB is refused and its first action is not
    kept either (moto edited the stored item in place and kept it)."""
    ddb = embedded.client("dynamodb")
    name = f"memory-update-{unique}"
    _table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as refused:
        ddb.update_item(
            TableName=name,
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET n = :n, big = :big",
            ExpressionAttributeValues={":n": {"N": "2"}, ":big": {"S": "x" * 410_000}},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "k"}})["Item"] == {"pk": {"S": "k"}, "n": {"N": "1"}}
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "3"}},
    )
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "k"}})["Item"] == {"pk": {"S": "k"}, "n": {"N": "3"}}
    ddb.delete_table(TableName=name)
