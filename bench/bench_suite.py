"""Whole default test suite wall time: ``python -m pytest -q`` once, then ``python -m pytest -q -n 2`` once.

Both run in subprocesses from the repository root with the current interpreter (the README's venv), with
``DRDRILL_*``/``AWS_*`` variables removed so no test reaches a real account. The serial run is the baseline
of the ``-n 2`` figure (ratio = serial / parallel = the speed-up). Goal: <= 60 s on 2 cores.
``--quick`` times ``tests/unit features/posture`` instead of the whole suite (a smoke run of this script).

Run: ``.venv/bin/python bench/bench_suite.py [--quick] [--only serial|parallel]``
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, emit, note

GOAL_S = 60.0
QUICK_PATHS = ["tests/unit", "features/posture"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_suite(extra: list[str], paths: list[str], log: Path | None) -> tuple[float, dict[str, int], int, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    argv = [sys.executable, "-m", "pytest", "-q", "--durations=15", *extra, *paths]
    note("running " + " ".join(argv[1:]))
    cpu0, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu0  # CPU seconds of pytest and every process it waited for
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", summary)}
    note(f"{elapsed:.1f} s, exit {done.returncode}: {summary}")
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        note(f"output (with the 15 slowest tests) in {log}")
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed, counts, done.returncode, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {' '.join(QUICK_PATHS)}")
    parser.add_argument("--workers", default="2", help="the -n of the parallel run (default 2)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep both runs' pytest output here")
    args = parser.parse_args()
    paths = QUICK_PATHS if args.quick else []
    scope = "quick" if args.quick else "whole"

    logs = args.log_dir
    serial_s, serial_counts, serial_rc, serial_cpu = run_suite([], paths, logs / "serial.txt" if logs else None)
    parallel_s, parallel_counts, parallel_rc, parallel_cpu = run_suite(
        ["-n", args.workers], paths, logs / "parallel.txt" if logs else None
    )

    emit(
        f"suite_{scope}_serial_wall",
        serial_s,
        "s",
        None,
        "none (the serial run is the baseline of the parallel figure)",
        goal=f"<= {GOAL_S} s",
        goal_met=serial_s <= GOAL_S,
        exit_code=serial_rc,
        cpu_s=round(serial_cpu, 1),
        outcomes=serial_counts,
    )
    emit(
        f"suite_{scope}_n{args.workers}_wall",
        parallel_s,
        "s",
        serial_s,
        f"suite_{scope}_serial_wall",
        ratio_is="baseline / value (speed-up over the serial run)",
        goal=f"<= {GOAL_S} s",
        goal_met=parallel_s <= GOAL_S,
        exit_code=parallel_rc,
        cpu_s=round(parallel_cpu, 1),
        outcomes=parallel_counts,
    )


if __name__ == "__main__":
    main()
