"""Item-strategy repair latency: from a harmful DeleteItem to the item back as it was, on the embedded target.

The real path: a DR stack provisioned with ``StackSpec(strategy="item")``, seeded with
:func:`dr_infra.drill.inject.seed`, the change monitor attached to the stream (event source mapping at TRIM_HORIZON, the
asynchronous stream poller, the function running from its zip in a worker process). Then, one at a time,
``delete_item`` of a seed item and a ``GetItem`` (ConsistentRead) poll every 5 ms until the item equals its
before-image again (the monitor's repair marker removed). Latency = from just before ``delete_item`` to the
first poll that sees the repaired item. Baseline, same run: a plain ``put_item`` round trip.
Goal: p95 <= 1 s.

Run: ``.venv/bin/python bench/bench_repair.py [--deletes 30] [--items 200] [--quick]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _common import emit, note, percentile

from dr_infra.drill.inject import seed
from dr_infra.drill.items import key_of
from dr_infra.drill.oracle import Oracle
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import attach_monitor, provision, teardown
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify.equivalence import canonical

GOAL_S = 1.0
POLL_S = 0.005
TIMEOUT_S = 30.0


def wait_repaired(ddb: Any, table: str, key: dict[str, Any], want: dict[str, Any]) -> float:
    """Seconds (perf_counter) at which GetItem first returns ``want``."""
    wanted = canonical(want)
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        got = ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if got is not None and canonical(got) == wanted:
            return time.perf_counter()
        time.sleep(POLL_S)
    raise SystemExit(f"item {key} not repaired within {TIMEOUT_S} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deletes", type=int, default=30)
    parser.add_argument("--items", type=int, default=200, help="seed items in the table")
    parser.add_argument("--quick", action="store_true", help="10 deletes")
    args = parser.parse_args()
    deletes = 10 if args.quick else args.deletes
    spec = StackSpec(strategy="item")
    target = EmbeddedTarget()
    target.start()
    latencies: list[float] = []
    puts: list[float] = []
    try:
        stack = provision(target, StackNames(new_run_id(), 1, spec.logical_table), spec)
        try:
            ddb = target.client("dynamodb")
            table = stack.names.table
            oracle = Oracle(hash_key=spec.table.hash_key.name, key_type=spec.table.hash_key.type)
            seed(ddb, table, oracle, args.items)
            attach_monitor(target, stack)
            # warm-up: the first repair starts the function's worker process (not part of the figure)
            for index in (args.items - 1, args.items - 2):
                item = oracle.seed(index)
                key = key_of(item, oracle.key_attributes)
                ddb.delete_item(TableName=table, Key=key)
                wait_repaired(ddb, table, key, item)
            for n in range(deletes):
                item = oracle.seed(n)
                key = key_of(item, oracle.key_attributes)
                start = time.perf_counter()
                ddb.delete_item(TableName=table, Key=key)
                latencies.append(wait_repaired(ddb, table, key, item) - start)

                extra = {spec.table.hash_key.name: {"S": f"bench-put-{n:04d}"}, "kind": {"S": "bench"}}
                start = time.perf_counter()
                ddb.put_item(TableName=table, Item=extra)
                puts.append(time.perf_counter() - start)
                time.sleep(0.2)  # the INSERT above is also repaired (deleted) by the monitor: let it settle
            note(f"{deletes} deletes repaired")
        finally:
            failures = teardown(stack)
            if failures:
                note(f"teardown failures: {failures}")
    finally:
        target.stop()

    for label, q in (("p50", 0.5), ("p95", 0.95)):
        value, base = percentile(latencies, q), percentile(puts, q)
        emit(
            f"item_repair_latency_{label}",
            value,
            "s",
            base,
            f"put_item_round_trip_{label}",
            goal=f"<= {GOAL_S} s" if label == "p95" else None,
            goal_met=value <= GOAL_S if label == "p95" else None,
            samples=len(latencies),
            mean=round(statistics.fmean(latencies), 4),
            max=round(max(latencies), 4),
        )


if __name__ == "__main__":
    main()
