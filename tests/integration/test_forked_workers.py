"""``drdrill run -n N`` starts its workers from one fork server, gives the same verdicts, and leaves nothing behind.

The fork server's own behaviour (streams, exit codes, signals, kills) is tests/unit/test_prefork.py; this is the
whole run: the server's socket appears while the workers run and is gone with every process it forked after.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import DRDRILL, REPO

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, bool, dict]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    merged = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    merged.update({"TMPDIR": str(temp), **(env or {})})
    report = tmp_path / "report"
    argv = [str(DRDRILL), "run", str(REPO / "features" / "posture"), "-q", "-n", "3", "--report-dir", str(report)]
    proc = subprocess.Popen([*argv, *extra], cwd=tmp_path, env=merged, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen_socket = False
    while proc.poll() is None:
        seen_socket = seen_socket or any(temp.glob("drdrill-fork-*/s"))
        time.sleep(0.05)
    _, err = proc.communicate(timeout=300)
    assert b"Traceback" not in err, err.decode()[-3000:]
    assert not list(temp.glob("drdrill-fork-*")), "the fork server's folder was left behind"
    return proc.returncode, seen_socket, json.loads((report / "report.json").read_text(encoding="utf-8"))


def _leftover_workers(tmp_path: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(tmp_path) in cmdline and "dr_infra.prefork" in cmdline:
                found.append(cmdline)
    return found


def test_workers_are_forked_and_the_run_is_met_with_nothing_left(tmp_path: Path) -> None:
    code, seen_socket, report = _run(tmp_path)
    assert code == 0 and report["status"] == "met"
    assert {s["status"] for s in report["scenarios"]} == {"passed"} and report["target"]["workers"] == 3
    assert seen_socket, "no fork server socket appeared while the workers ran"
    assert _leftover_workers(tmp_path) == []


def test_drdrill_fork_workers_0_starts_plain_workers(tmp_path: Path) -> None:
    code, seen_socket, report = _run(tmp_path, env={"DRDRILL_FORK_WORKERS": "0"})
    assert code == 0 and report["status"] == "met"
    assert not seen_socket
