"""Benchmark: table equivalence vs one plain full Scan of the same table, on the embedded target.

For each size N (``--sizes 10000 100000``) this seeds two identical tables with ``batch_write_item`` (items
with S, N, B, BOOL, NULL, L, M, SS, NS, BS attributes; ``--shape simple``: the 3-attribute items of the
emulator research, figures suffixed ``_simple``), then measures in the same run:

* baseline: a plain full paginated boto3 Scan of one table (low-level client, paginator, no Limit);
* ``equivalence_<N>_items``: :func:`dr_infra.verify.equivalence.compare_tables` of the two tables;
* ``equivalence_oracle_<N>_items``: the table against the expected item stream (the oracle case);
* ``equivalence_peak_memory_<N>_items``: tracemalloc peak growth of compare_tables, against the peak of
  materialising the Scan into a list.

Prints one JSON line per figure: ``{"name", "value", "unit", "baseline", "ratio"}``; for times the ratio is
baseline / value (>= 0.9 is the goal), for memory baseline / value (higher is better; the goal is value <=
64 MB at 100 k). Run: ``.venv/bin/python bench/bench_equivalence.py`` (10 000 typed items) and
``.venv/bin/python bench/bench_equivalence.py --shape simple`` (100 000 items).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify.equivalence import compare_table_to, compare_tables

SHAPE = "typed"


def make_simple_item(i: int) -> dict[str, Any]:
    """The small item shape of shared/research/emulators.md section 2 (pk, n, s)."""
    return {"pk": {"S": f"item-{i:07d}"}, "n": {"N": str(i)}, "s": {"S": "payload-0123456789"}}


def make_item(i: int) -> dict[str, Any]:
    """One item in wire JSON (binary as base64 text), every DynamoDB type."""
    if SHAPE == "simple":
        return make_simple_item(i)
    return {
        "pk": {"S": f"item-{i:07d}"},
        "n": {"N": str(i)},
        "price": {"N": f"{i}.50"},
        "s": {"S": "payload-0123456789"},
        "b": {"B": base64.b64encode(i.to_bytes(4, "big")).decode()},
        "flag": {"BOOL": i % 2 == 0},
        "none": {"NULL": True},
        "tags": {"SS": ["red", "green", f"t{i % 7}"]},
        "nums": {"NS": ["1", "2.5", str(i % 11)]},
        "blobs": {"BS": [base64.b64encode(b"x").decode(), base64.b64encode(b"y").decode()]},
        "profile": {"M": {"name": {"S": f"n{i}"}, "list": {"L": [{"N": "1"}, {"S": "two"}]}}},
    }


def to_boto(av: Any) -> Any:
    """Wire JSON -> boto3 low-level form (binary as bytes)."""
    if isinstance(av, dict):
        out = {}
        for kind, value in av.items():
            if kind == "B":
                out[kind] = base64.b64decode(value)
            elif kind == "BS":
                out[kind] = [base64.b64decode(v) for v in value]
            else:
                out[kind] = to_boto(value)
        return out
    if isinstance(av, list):
        return [to_boto(v) for v in av]
    return av


def seed(client: Any, table: str, n: int) -> None:
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, n, 25):
        request = {table: [{"PutRequest": {"Item": to_boto(make_item(i))}} for i in range(start, min(n, start + 25))]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def plain_scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return (peak - base) / 1e6


def emit(name: str, value: float, unit: str, baseline: float) -> None:
    ratio = baseline / value if value else None
    print(
        json.dumps(
            {
                "name": name,
                "value": round(value, 3),
                "unit": unit,
                "baseline": round(baseline, 3),
                "ratio": round(ratio, 2) if ratio else None,
            }
        ),
        flush=True,
    )


def run(target: EmbeddedTarget, n: int, memory: bool) -> None:
    client = target.client("dynamodb")
    left, right = f"bench-eq-a-{n}", f"bench-eq-b-{n}"
    seed_time, _ = timed(lambda: (seed(client, left, n), seed(client, right, n)))
    print(json.dumps({"note": f"seeded 2 x {n} items in {seed_time:.1f} s"}), file=sys.stderr, flush=True)

    scan_time, count = timed(lambda: sum(1 for _ in plain_scan(client, left)))
    assert count == n, count
    compare_time, diff = timed(lambda: compare_tables(target, left, right, ["pk"]))
    assert diff.equal and diff.compared_expected == n, diff.summary()
    shape = "" if SHAPE == "typed" else f"_{SHAPE}"
    emit(f"equivalence_{n}_items{shape}", compare_time, "s", scan_time)
    oracle_time, diff = timed(lambda: compare_table_to(target, right, lambda: (make_item(i) for i in range(n)), ["pk"]))
    assert diff.equal, diff.summary()
    emit(f"equivalence_oracle_{n}_items{shape}", oracle_time, "s", scan_time)

    if memory:
        scan_mb = peak_mb(lambda: list(plain_scan(client, left)))
        compare_mb = peak_mb(lambda: compare_tables(target, left, right, ["pk"]))
        emit(f"equivalence_peak_memory_{n}_items{shape}", compare_mb, "MB", scan_mb)
    client.delete_table(TableName=left)
    client.delete_table(TableName=right)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="item counts (default: 10000 with --shape typed, 100000 with --shape simple; a paginated moto Scan "
        "of 100 000 typed items, the baseline, takes 15-20 minutes and its pages time out)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc figures")
    parser.add_argument(
        "--shape",
        choices=["typed", "simple"],
        default="typed",
        help="typed: 11 attributes of every DynamoDB type; simple: pk, n, s as in the emulator research",
    )
    args = parser.parse_args()
    global SHAPE
    SHAPE = args.shape
    sizes = args.sizes or ([100_000] if args.shape == "simple" else [10_000])
    target = EmbeddedTarget()
    target.start()
    try:
        for n in sizes:
            run(target, n, memory=not args.no_memory)
    finally:
        target.stop()


if __name__ == "__main__":
    main()
