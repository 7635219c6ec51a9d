"""The garbage collector's thresholds for a process that hosts the embedded target (moto's large, long-lived heap).

Why: moto's backends, botocore's service models and AWS's 1,582 managed policies make a heap of millions of
objects that live as long as the server, and CPython 3.11's defaults (700, 10, 10) run a young collection every
700 net allocations and, every hundred of those, a full one over that whole heap: measured on the shipped
``deletion`` and ``bulk_deletion`` features (2026-12-01 23:59 UTC, 2 shared cores), 8.7 s of a 28 s CPU run was garbage
collection, 7.3 s of it in 12 full collections. Larger thresholds keep the cycle collector for what it is for
(cycles among short-lived objects; reference counting frees the rest at once) and cost a little memory held a
little longer: 3.7 s of collection for the same run. This is the process's own tuning, not a model of AWS,
and nothing a drill measures depends on it. ``DRDRILL_GC_THRESHOLD=700,10,10`` restores Python's defaults
(what ``bench/bench_local.py`` compares against); ``off`` leaves the thresholds alone.
"""

from __future__ import annotations

import gc
import os

ENV = "DRDRILL_GC_THRESHOLD"
THRESHOLDS = (50_000, 20, 100)

_done = False


def tune() -> None:
    """Set the thresholds once per process (the first embedded server it starts)."""
    global _done
    if _done:
        return
    _done = True
    setting = os.environ.get(ENV, "").strip()
    if setting == "off":
        return
    try:
        values = tuple(int(part) for part in setting.split(",")) if setting else THRESHOLDS
    except ValueError:
        values = THRESHOLDS
    if len(values) == 3 and all(v >= 0 for v in values):
        gc.set_threshold(*values)
