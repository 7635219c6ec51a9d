"""Peak memory per item of a drill's data path: seed N items into a drill table (stream and point-in-time recovery
on, as a drill's), delete half of them in bulk, read the table back as the equivalence check does, all on one
embedded target in a fresh process per size.

Figure: (peak RSS - RSS before seeding) / N, in KB per item, minus the items' own size (their DynamoDB JSON, the
least any copy costs). Baseline, same process: the RSS growth of holding the same N items once as Python dicts
(``baseline_kb_per_item``). Goal (issue 12): at most 5 KB per item over the items' own size at 20 000 and 100 000
items. Where the memory goes is printed per stage (seeded / after the bulk delete / after the read back).

Speed (``--speed N``, a separate fresh process so the scan's transient copies stay out of the memory figure): the
seconds to seed N items and to read them back with a full paginated Scan (boto3's paginator), the operations the
compact stores of :mod:`dr_infra.targets.embedded` must not slow down. No baseline in the same run: compare two
runs, before and after a change (BENCHMARKS.md).

Run: ``.venv/bin/python bench/bench_memory.py [--items 20000 100000] [--speed 20000]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import emit, note

GOAL_KB = 5.0


def _rss_kb() -> float:
    with Path("/proc/self/status").open(encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    return 0.0


def _peak_kb() -> float:
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _drill_table() -> tuple[Any, Any]:
    """(started embedded target, its DynamoDB client) with the table ``bench-memory``: stream + PITR on."""
    from dr_infra.targets.embedded import EmbeddedTarget

    target = EmbeddedTarget()
    target.start()
    ddb = target.client("dynamodb")
    ddb.create_table(
        TableName="bench-memory",
        KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.get_waiter("table_exists").wait(TableName="bench-memory")
    ddb.update_continuous_backups(
        TableName="bench-memory", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return target, ddb


def speed(count: int) -> dict[str, float]:
    """In this process: seconds to seed ``count`` items, then to Scan them all back page by page."""
    from dr_infra.drill import inject
    from dr_infra.drill.oracle import Oracle

    target, ddb = _drill_table()
    oracle = Oracle(hash_key="LockId")
    started = time.perf_counter()
    inject.seed(ddb, "bench-memory", oracle, count)
    seeded = time.perf_counter()
    scanned = sum(page["Count"] for page in ddb.get_paginator("scan").paginate(TableName="bench-memory"))
    done = time.perf_counter()
    target.stop()
    return {"items": count, "scanned": scanned, "seed_s": seeded - started, "scan_s": done - seeded}


def measure(count: int) -> dict[str, float]:
    """In this process: the stages of one drill's data path at ``count`` items."""
    from dr_infra.drill import inject
    from dr_infra.drill.oracle import Oracle
    from dr_infra.verify.table_reader import read_items

    target, ddb = _drill_table()
    oracle = Oracle(hash_key="LockId")
    sample = min(count, 1000)
    own = sum(len(json.dumps(oracle.seed(i), default=str)) for i in range(sample)) / sample / 1024
    before = _rss_kb()
    inject.seed(ddb, "bench-memory", oracle, count)
    seeded = _rss_kb()
    inject.delete_items(ddb, "bench-memory", oracle, oracle.live_keys(limit=count // 2, keys_only=True))
    deleted = _rss_kb()
    read_back = sum(1 for _ in read_items(target, "bench-memory"))
    after = _rss_kb()
    peak = _peak_kb()
    target.stop()
    baseline_before = _rss_kb()
    held = [oracle.seed(i) for i in range(count)]
    baseline = (_rss_kb() - baseline_before) / count
    del held
    return {
        "items": count,
        "read_back": read_back,
        "own_kb_per_item": own,
        "peak_kb_per_item": (peak - before) / count,
        "seeded_kb_per_item": (seeded - before) / count,
        "after_delete_kb_per_item": (deleted - before) / count,
        "after_read_kb_per_item": (after - before) / count,
        "baseline_kb_per_item": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--speed", type=int, nargs="*", default=[], help="also time seed + Scan at these sizes")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--speed-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    if args.speed_child:
        print(json.dumps(speed(args.speed_child)))
        return
    for count in args.speed:
        note(f"timing seed + scan of {count:,} items in a fresh process")
        done = subprocess.run(
            [sys.executable, __file__, "--speed-child", str(count)], capture_output=True, text=True, check=True
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        emit(
            f"seed + paginated Scan, {count:,} items",
            figures["seed_s"] + figures["scan_s"],
            "s",
            None,
            "compare with a run before the change (BENCHMARKS.md)",
            **{k: round(v, 3) for k, v in figures.items()},
        )
    for count in args.items:
        note(f"measuring {count:,} items in a fresh process")
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(count)], capture_output=True, text=True, check=True
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        over = figures["peak_kb_per_item"] - figures["own_kb_per_item"]
        emit(
            f"peak RSS per item over its own size, {count:,} items",
            over,
            "KB/item",
            figures["baseline_kb_per_item"],
            "the same items held once as Python dicts",
            goal=f"<= {GOAL_KB} KB/item",
            goal_met=over <= GOAL_KB,
            ratio_is="value / baseline",
            ratio=over / figures["baseline_kb_per_item"] if figures["baseline_kb_per_item"] else None,
            **{k: round(v, 3) for k, v in figures.items()},
        )


if __name__ == "__main__":
    main()
