"""``drdrill run -n 2`` against a serial ``drdrill run`` of the same features, in the same run.

Both runs are subprocesses of ``python -m dr_infra.app.cli run -q`` from the repository root (default: the
shipped ``features/``), each writing its own report. Prints the speed-up (ratio = serial wall / parallel
wall; goal >= 1.6 on 2 cores) and whether both runs gave the same verdict per scenario.

Run: ``.venv/bin/python bench/bench_parallel.py [--workers 2] [--quick] [PATHS...]``
(``--quick``: ``features/posture features/deletion``)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, emit, note

GOAL_SPEEDUP = 1.6
QUICK_PATHS = ["features/posture", "features/deletion"]


def drill(paths: list[str], report: Path, extra: list[str]) -> tuple[float, int, dict[str, str]]:
    """Wall time, exit code and verdict per scenario (failures are noted on stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    argv = [sys.executable, "-m", "dr_infra.app.cli", "run", *paths, "-q", "--report-dir", str(report), *extra]
    note("running drdrill " + " ".join(argv[3:]))
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    note(f"{elapsed:.1f} s, exit {done.returncode}")
    journal = report / "report.json"
    if not journal.is_file():
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"no report written to {report}")
    data = json.loads(journal.read_text(encoding="utf-8"))
    for scenario in data["scenarios"]:
        if scenario["status"] not in ("passed", "skipped"):
            note(f"{scenario['status']}: {scenario['id']}: {scenario.get('failure')}")
    return elapsed, done.returncode, {s["id"]: s["status"] for s in data["scenarios"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--workers", default="2")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    paths = args.paths or (QUICK_PATHS if args.quick else [])
    with tempfile.TemporaryDirectory(prefix="drdrill-bench-") as tmp:
        serial_s, serial_rc, serial = drill(paths, Path(tmp) / "serial", ["-n", "0"])  # no -n: drdrill picks its own
        parallel_s, parallel_rc, parallel = drill(paths, Path(tmp) / "parallel", ["-n", args.workers])
    same = serial == parallel
    speedup = serial_s / parallel_s
    emit(
        f"drdrill_run_n{args.workers}_wall",
        parallel_s,
        "s",
        serial_s,
        "drdrill_run_serial_wall",
        ratio_is="baseline / value (speed-up)",
        goal=f"speed-up >= {GOAL_SPEEDUP}",
        goal_met=speedup >= GOAL_SPEEDUP,
        scenarios=len(parallel),
        same_verdicts=same,
        exit_codes=[serial_rc, parallel_rc],
        features=" ".join(paths) or "features/ (default)",
    )
    if not same:
        differing = {
            k: (serial.get(k), parallel.get(k)) for k in set(serial) | set(parallel) if serial.get(k) != parallel.get(k)
        }
        note(f"verdicts differ: {differing}")


if __name__ == "__main__":
    main()
