"""From a table write to the function's start, on the embedded target, with a warm worker process.

Prints JSON lines ``{"name", "value", "unit", "baseline", "ratio"}``: p50 and p95 of the time from just
before ``put_item`` to the first line of the handler (its own ``time.time()``, same host clock), with the
same run's ``put_item`` round trip at the same percentile as baseline. Goal: p95 <= 0.5 s.

Run: ``.venv/bin/python bench/bench_write_to_function.py [samples]``
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from dr_infra.stack import function_ready, protect
from dr_infra.targets.embedded import EmbeddedTarget

HANDLER = """
import os
import time


def handler(event, context):
    started = time.time()
    with open(os.environ["STARTS_FILE"], "a") as out:
        for record in event["Records"]:
            out.write(record["dynamodb"]["Keys"]["pk"]["S"] + " " + repr(started) + "\\n")
    return {}
"""


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _starts(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    result = {}
    for line in path.read_text().splitlines():
        key, _, ts = line.partition(" ")
        result[key] = float(ts)
    return result


def main(samples: int = 60) -> None:
    target = EmbeddedTarget()
    target.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            starts_file = Path(tmp) / "starts.txt"
            ddb, lam, iam = target.client("dynamodb"), target.client("lambda"), target.client("iam")
            stream_arn = ddb.create_table(
                TableName="bench",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )["TableDescription"]["LatestStreamArn"]
            role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            lam.create_function(
                FunctionName="bench",
                Runtime="python3.13",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": _zip()},
                Environment={"Variables": {"STARTS_FILE": str(starts_file)}},
            )
            ddb.get_waiter("table_exists").wait(TableName="bench", WaiterConfig={"Delay": 1})
            function_ready.wait_active(lam, "bench")
            uuid = lam.create_event_source_mapping(
                EventSourceArn=stream_arn, FunctionName="bench", StartingPosition="LATEST", BatchSize=1
            )["UUID"]
            protect.wait_mapping_state(lam, uuid, "Enabled")  # LATEST: records before Enabled are not delivered

            put_latency: list[float] = []
            to_start: list[float] = []
            for i in range(-3, samples):  # three warm-up writes start the worker process
                key = f"k{i}"
                before = time.time()
                ddb.put_item(TableName="bench", Item={"pk": {"S": key}})
                after = time.time()
                deadline = time.monotonic() + 10
                while key not in (seen := _starts(starts_file)):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the function never started for {key}")
                    time.sleep(0.002)
                if i >= 0:
                    put_latency.append(after - before)
                    to_start.append(seen[key] - before)
    finally:
        target.stop()

    for label, q in (("p50", 0.5), ("p95", 0.95)):
        value = _percentile(to_start, q)
        baseline = _percentile(put_latency, q)
        print(
            json.dumps(
                {
                    "name": f"write_to_function_start_{label}",
                    "value": round(value, 4),
                    "unit": "s",
                    "baseline": round(baseline, 4),
                    "baseline_name": f"put_item_latency_{label}",
                    "ratio": round(value / baseline, 2) if baseline else None,
                    "samples": len(to_start),
                    "mean": round(statistics.fmean(to_start), 4),
                }
            )
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
