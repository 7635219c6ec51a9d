"""The README's main command, ``drdrill run`` (shipped features, embedded target), with and without drdrill's own
overhead cuts, in the same invocation: where the time goes and what the cuts save.

Runs, one after another, from the repository root, ``DRDRILL_*``/``AWS_*`` removed and ``PYTHONDONTWRITEBYTECODE``
unset (a fresh clone caches bytecode; this machine's shell sets it, which recompiles every module each run):

1. warm-up: ``drdrill run -q features/posture`` (bytecode written, not timed);
2. baseline: ``drdrill run -q`` with ``DRDRILL_LAMBDA_SPARES=0`` (every function's cold start waits for its worker
   process to start and import the SDK) and ``DRDRILL_GC_THRESHOLD=700,10,10`` (Python's own collector thresholds
   over the embedded target's large heap);
3. current: ``drdrill run -q`` as shipped.

Prints for each: wall, CPU seconds of the whole process tree, the verdict per scenario (must be equal), and from
the current run's journal: the slowest scenarios, the steps that take the time, the RTO phases (median), and the
share spent in the fixed waits AWS's semantics impose (the quiet second before a change: PITR's one-second
granularity). The figure: baseline wall / current wall (the speed-up of the cuts); goal <= 60 s.

Run: ``.venv/bin/python bench/bench_local.py [--quick] [--keep DIR] [PATHS...]``
(``--quick``: ``features/deletion features/bulk_deletion``)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO, emit, note

GOAL_S = 60.0
QUICK_PATHS = ["features/deletion", "features/bulk_deletion"]
DRDRILL = Path(sys.executable).with_name("drdrill")
BASELINE_ENV = {"DRDRILL_LAMBDA_SPARES": "0", "DRDRILL_GC_THRESHOLD": "700,10,10"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _run(paths: list[str], report: Path, extra_env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra_env)
    argv = [str(DRDRILL), "run", *paths, "-q", "--report-dir", str(report)]
    note(f"running {' '.join(argv[1:])} {' '.join(f'{k}={v}' for k, v in extra_env.items())} (load {_load()})")
    cpu0, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    note(f"{wall:.1f} s wall, {cpu:.1f} CPU-s, exit {done.returncode} (load {_load()})")
    if done.returncode not in (0, 1):
        raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
    return wall, cpu, json.loads((report / "report.json").read_text(encoding="utf-8"))


def _verdicts(journal: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in journal["scenarios"]}


def _where_the_time_goes(journal: dict[str, Any]) -> None:
    scenarios = journal["scenarios"]
    total = sum(s["duration_s"] or 0 for s in scenarios)
    note(f"{len(scenarios)} scenarios, {total:.1f} s in scenarios, journal {journal.get('duration_s')} s")
    for s in sorted(scenarios, key=lambda s: -(s["duration_s"] or 0))[:5]:
        note(f"  slowest: {s['duration_s']:.1f} s  {s['feature']}: {s['name']}")
    steps: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    outside = 0.0
    for s in scenarios:
        outside += (s["duration_s"] or 0) - sum(x["duration_s"] or 0 for x in s["steps"])
        for x in s["steps"]:
            key = re.sub(r"\d+", "N", x["text"])
            steps[key] += x["duration_s"] or 0
            counts[key] += 1
    for key, seconds in steps.most_common(8):
        note(f"  step: {seconds:6.1f} s over {counts[key]:2d}  {key}")
    note(f"  outside the steps (set-up, teardown of each stack): {outside:.1f} s")
    phases: dict[str, list[float]] = collections.defaultdict(list)
    for s in scenarios:
        for phase in (s.get("rto") or {}).get("phases") or []:
            phases[phase["name"]].append(phase["duration_s"])
    for name, values in phases.items():
        middle = statistics.median(values)
        note(f"  RTO phase: median {middle:.2f} s, sum {sum(values):5.1f} s over {len(values)}: {name}")
    changes = sum(counts[k] for k in counts if re.match(r"^(N items? (is|are) |the item |the table is deleted)", k))
    note(f"  fixed waits AWS's semantics impose: {changes} changes x up to 1.05 s quiet second (PITR granularity)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="feature paths (default: the shipped features)")
    parser.add_argument("--quick", action="store_true", help=f"only {' '.join(QUICK_PATHS)}")
    parser.add_argument("--keep", type=Path, default=None, help="keep the reports here")
    parser.add_argument("--current-first", action="store_true", help="run the current command before the baseline")
    args = parser.parse_args()
    paths = args.paths or (QUICK_PATHS if args.quick else [])
    where = args.keep or Path(tempfile.mkdtemp(prefix="drdrill-bench-local-"))
    _run(["features/posture"], where / "warm-up", {})
    if args.current_first:  # the machine's load drifts: run both orders to see how much
        wall, cpu, current = _run(paths, where / "current", {})
        base_wall, base_cpu, base = _run(paths, where / "baseline", BASELINE_ENV)
    else:
        base_wall, base_cpu, base = _run(paths, where / "baseline", BASELINE_ENV)
        wall, cpu, current = _run(paths, where / "current", {})
    same = sum(1 for k, v in _verdicts(base).items() if _verdicts(current).get(k) == v)
    _where_the_time_goes(current)
    scope = " ".join(paths) or "default features/"
    emit(
        f"drdrill run (serial, {scope}), with drdrill's overhead cuts",
        round(wall, 1),
        "s",
        round(base_wall, 1),
        "same command without them (no spare Lambda workers, Python's GC thresholds)",
        goal=f"<= {GOAL_S:g} s",
        goal_met=wall <= GOAL_S,
        cpu_s=round(cpu, 1),
        baseline_cpu_s=round(base_cpu, 1),
        same_verdicts=f"{same} of {len(_verdicts(base))}",
        load_average_end=_load(),
        order="current first" if args.current_first else "baseline first",
    )


if __name__ == "__main__":
    main()
