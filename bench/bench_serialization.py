"""DynamoDB items written as JSON: the embedded target's ``attribute_values_json`` against moto's own serializer.

The same BatchGetItem reply (``--items`` of drdrill's seeded items: twelve attributes with nested maps, lists and
sets, as the drills read them back) serialized ``--runs`` times by moto's ``JSONSerializer`` for DynamoDB's
BatchGetItem, once as the embedded server does (the shortcut) and once through moto's own model walk (reached as
the shortcut itself defers to it: an attribute picker carrying a response transformer). Both outputs are
checked equal first. Prints CPU milliseconds per reply and the speed-up (goal: none; it is what one poll of the
in-place repair probe, or one GetRecords of the stream poller, costs the server).

Run: ``.venv/bin/python bench/bench_serialization.py [--items 100] [--runs 40] [--quick]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _common import emit, note
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model

from dr_infra.drill.oracle import Oracle
from dr_infra.targets.embedded import patches


def _serializer(shortcut: bool) -> Any:
    model = get_service_model("dynamodb")
    transformers: dict[str, Any] = {} if shortcut else {"no.such.key.path": lambda value: value}
    cls = get_serializer_class("dynamodb", model.protocol)
    return cls(
        operation_model=model.operation_model("BatchGetItem"),
        value_picker=XFormedAttributePicker(response_transformers=transformers),
    )


def _cpu_ms(result: dict[str, Any], shortcut: bool, runs: int) -> tuple[float, str]:
    body = ""
    start = time.process_time()
    for _ in range(runs):
        body = str(_serializer(shortcut).serialize(result)["body"])
    return (time.process_time() - start) / runs * 1000, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs
    patches.install_all()
    oracle = Oracle(hash_key="LockId")
    result = {"Responses": {"orders": [oracle.seed(i) for i in range(args.items)]}, "UnprocessedKeys": {}}
    moto_ms, moto_body = _cpu_ms(result, False, runs)
    fast_ms, fast_body = _cpu_ms(result, True, runs)
    if fast_body != moto_body:
        raise SystemExit("the shortcut's output differs from moto's: not a benchmark, a bug")
    note(f"{args.items} items x {runs} replies: moto {moto_ms:.1f} ms, shortcut {fast_ms:.1f} ms per reply")
    emit("batch_get_item_reply_serialization", fast_ms, "cpu-ms", moto_ms, "moto_model_walk_cpu_ms",
         ratio=moto_ms / fast_ms, ratio_is="baseline / value (speed-up)", items=args.items, runs=runs,
         same_output=True)  # fmt: skip


if __name__ == "__main__":
    main()
