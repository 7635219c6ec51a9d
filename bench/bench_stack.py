"""Stack provision + teardown on the embedded target, against creating and deleting just the table.

Each run provisions the whole DR stack (:func:`dr_infra.stack.provision.provision`: two IAM roles, two
tables, PITR, vault, plan, selection, two log groups, two Lambda functions, an EventBridge rule), attaches the
change monitor (:func:`~dr_infra.stack.provision.attach_monitor`) and tears it all down
(:func:`~dr_infra.stack.provision.teardown`). Baseline, in the same process and server: raw boto3
``create_table`` (same key schema and stream) + ``table_exists`` waiter + ``delete_table``.
Goal: median <= 0.5 s.

Run: ``.venv/bin/python bench/bench_stack.py [--runs 20] [--quick]``
"""

from __future__ import annotations

import argparse
import time

from _common import emit, median, note, percentile

from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import attach_monitor, provision, teardown
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget

GOAL_S = 0.5


def raw_table(target: EmbeddedTarget, name: str, spec: StackSpec) -> None:
    ddb = target.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=spec.key_schema(),
        AttributeDefinitions=spec.attribute_definitions(),
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    ddb.delete_table(TableName=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 runs")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    spec = StackSpec()
    run_id = new_run_id()
    target = EmbeddedTarget()
    target.start()
    try:
        # warm-up (first boto3 clients, first Lambda package build) is not part of the figure
        stack = provision(target, StackNames(run_id, 0, "orders"), spec)
        attach_monitor(target, stack)
        teardown(stack)
        raw_table(target, "bench-warmup", spec)

        totals, provisions, teardowns, baseline = [], [], [], []
        for n in range(1, runs + 1):
            start = time.perf_counter()
            stack = provision(target, StackNames(run_id, n, "orders"), spec)
            attach_monitor(target, stack)
            mid = time.perf_counter()
            failures = teardown(stack)
            end = time.perf_counter()
            if failures:
                raise SystemExit(f"teardown left resources behind: {failures}")
            totals.append(end - start)
            provisions.append(mid - start)
            teardowns.append(end - mid)

            start = time.perf_counter()
            raw_table(target, f"bench-raw-{n}", spec)
            baseline.append(time.perf_counter() - start)
        note(f"{runs} stacks provisioned and torn down")
    finally:
        target.stop()

    value, base = median(totals), median(baseline)
    emit(
        "stack_provision_teardown_median",
        value,
        "s",
        base,
        "raw_create_delete_table_median",
        goal=f"<= {GOAL_S} s",
        goal_met=value <= GOAL_S,
        runs=runs,
        p95=round(percentile(totals, 0.95), 4),
        provision_median=round(median(provisions), 4),
        teardown_median=round(median(teardowns), 4),
    )


if __name__ == "__main__":
    main()
