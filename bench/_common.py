"""Shared by the bench scripts: one JSON line per figure, percentiles, an embedded target.

Every figure line is ``{"name", "value", "unit", "baseline", "baseline_name", "ratio", "ratio_is",
"goal", "goal_met", ...}``; the baseline is always measured in the same run (same process where it can be).
``ratio`` is ``baseline / value`` for durations (1.0 = as fast as the baseline, 2.0 = twice as fast).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # runnable as `.venv/bin/python bench/X.py` from a fresh clone
    sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def emit(
    name: str,
    value: float,
    unit: str,
    baseline: float | None,
    baseline_name: str,
    goal: str | None = None,
    goal_met: bool | None = None,
    ratio: float | None = None,
    ratio_is: str = "baseline / value",
    **extra: Any,
) -> dict[str, Any]:
    """Print (and return) one figure as a JSON line."""
    if ratio is None and baseline is not None and value:
        ratio = baseline / value
    line = {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": round(baseline, 4) if baseline is not None else None,
        "baseline_name": baseline_name,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "ratio_is": ratio_is,
        "goal": goal,
        "goal_met": goal_met,
        **extra,
        "host": f"{platform.python_implementation()} {platform.python_version()}, {_cpus()} cpu",
    }
    print(json.dumps(line), flush=True)
    return line


def note(text: str) -> None:
    """Progress for humans, on stderr (stdout stays JSON lines only)."""
    print(json.dumps({"note": text}), file=sys.stderr, flush=True)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
