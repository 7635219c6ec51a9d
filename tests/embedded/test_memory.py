"""The embedded target's memory follows what the tables hold, not how many writes and reads they have seen."""

from __future__ import annotations

import gc
import tracemalloc

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
