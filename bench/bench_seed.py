"""Seeding N items with :func:`dr_infra.drill.inject.seed` against a raw BatchWriteItem loop, same process.

Both write the same items (``Oracle.seed(i)``: every DynamoDB type, generated inside the timed loop for both)
into identical fresh tables (stream NEW_AND_OLD_IMAGES, like a drill's table) on one embedded target. The
baseline is the plain loop from the DynamoDB docs: 25 ``PutRequest`` per ``batch_write_item``, re-sending
``UnprocessedItems`` until none are left, one thread. ``seed`` adds tenacity's retry wrapper, the oracle
bookkeeping and its thread pool. Figure: items/s of ``seed`` and ratio = seed throughput / raw throughput.
Goal: ratio >= 0.9.

Run: ``.venv/bin/python bench/bench_seed.py [--items 100000] [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from _common import emit, note

from dr_infra.drill.inject import BATCH, seed
from dr_infra.drill.oracle import Oracle
from dr_infra.targets.embedded import EmbeddedTarget

GOAL_RATIO = 0.9


def create(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def raw_seed(client: Any, table: str, oracle: Oracle, count: int) -> None:
    for start in range(0, count, BATCH):
        request: dict[str, Any] = {
            table: [{"PutRequest": {"Item": oracle.seed(i)}} for i in range(start, min(count, start + BATCH))]
        }
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def timed(fn: Any) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10 000 items")
    args = parser.parse_args()
    count = 10_000 if args.quick else args.items
    target = EmbeddedTarget()
    target.start()
    try:
        client = target.client("dynamodb")
        ddb_count = 0
        for name in ("bench-raw", "bench-seed"):
            create(client, name)
        raw_s = timed(lambda: raw_seed(client, "bench-raw", Oracle(hash_key="LockId"), count))
        note(f"raw BatchWriteItem: {count} items in {raw_s:.1f} s")
        client.delete_table(TableName="bench-raw")
        seed_s = timed(lambda: seed(client, "bench-seed", Oracle(hash_key="LockId"), count))
        note(f"dr_infra.drill.inject.seed: {count} items in {seed_s:.1f} s")
        ddb_count = client.describe_table(TableName="bench-seed")["Table"]["ItemCount"]
    finally:
        target.stop()
    if ddb_count != count:
        raise SystemExit(f"seed wrote {ddb_count} items, expected {count}")
    value, base = count / seed_s, count / raw_s
    emit(
        f"seed_{count}_items_throughput",
        value,
        "items/s",
        base,
        "raw_batch_write_item_loop_throughput",
        ratio=value / base,
        ratio_is="value / baseline (throughput)",
        goal=f"ratio >= {GOAL_RATIO}",
        goal_met=value / base >= GOAL_RATIO,
        seed_s=round(seed_s, 3),
        raw_s=round(raw_s, 3),
        items=count,
    )


if __name__ == "__main__":
    main()
