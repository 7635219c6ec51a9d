"""Ctrl-C pressed in bursts (0.05 s apart) at every phase of a drill: exit 130, an interrupted report that says
where it is, and nothing left on the target, however fast the keys are pressed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dr_infra.stack.names import new_run_id

from .conftest import DRDRILL, _stop, clean_env, client, leftovers
from .test_interruption import (
    _restore_jobs,
    _sigint_as_in_a_terminal,
    _start_slow_drill,
    _wait_for_restore_in_flight,
    _wait_for_restores_to_end,
)

BURST = 3
GAP_S = 0.05


def _burst(process: subprocess.Popen[str]) -> None:
    for _ in range(BURST):
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        time.sleep(GAP_S)


def _wait_until(check: Callable[[], bool], process: subprocess.Popen[str], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the drill ended before {what}"
        if check():
            return
        time.sleep(0.02)
    pytest.fail(f"never saw {what}")


def _provisioning(endpoint: str, process: subprocess.Popen[str], prefix: str) -> None:
    """The first resource of the stack exists: provisioning is under way."""
    iam = client(endpoint, "iam")
    _wait_until(
        lambda: any(r["RoleName"].startswith(prefix) for r in iam.list_roles()["Roles"]), process, "the first role"
    )


def _restoring(endpoint: str, process: subprocess.Popen[str], prefix: str) -> None:
    _wait_for_restore_in_flight(endpoint, process, prefix)


def _tearing_down(endpoint: str, process: subprocess.Popen[str], prefix: str) -> None:
    """A first Ctrl-C starts the teardown; the burst comes while it runs."""
    _wait_for_restore_in_flight(endpoint, process, prefix)
    process.send_signal(signal.SIGINT)
    time.sleep(0.15)


@pytest.mark.parametrize(
    "phase", [_provisioning, _restoring, _tearing_down], ids=["provisioning", "restoring", "teardown"]
)
def test_sigint_bursts_leave_nothing_behind(serve_endpoint: str, tmp_path: Path, phase: Callable[..., None]) -> None:
    process, prefix = _start_slow_drill(serve_endpoint, tmp_path)
    try:
        phase(serve_endpoint, process, prefix)
        _burst(process)
        _, stderr = process.communicate(timeout=180)
    finally:
        _stop(process)
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    report = tmp_path / "report"
    assert f"report written to {report}/" in stderr, stderr[-2000:]
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert journal["status"] == "interrupted"
    assert journal["leaks"] == []
    assert [s["status"] for s in journal["scenarios"]] == ["interrupted"]
    assert journal["scenarios"][0]["cleanup"]["failed"] == []
    assert leftovers(serve_endpoint, prefix) == {}
    if _restore_jobs(serve_endpoint, prefix):
        _wait_for_restores_to_end(serve_endpoint, prefix)
        assert leftovers(serve_endpoint, prefix) == {}


TWO_SLOW_RESTORES = """Feature: two slow restores
  Scenario: a first restore job that takes a while
    Given a DR-protected table "orders" with 5 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And restore jobs take 8 seconds
    When 1 item is deleted
    Then a restore job completes within 120 seconds

  Scenario: a second restore job that takes a while
    Given a DR-protected table "orders" with 5 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And restore jobs take 8 seconds
    When 1 item is deleted
    Then a restore job completes within 120 seconds
"""


def test_sigint_burst_with_two_workers_exits_130_with_a_merged_report(serve_endpoint: str, tmp_path: Path) -> None:
    """Ctrl-C at a terminal reaches the whole process group (drdrill and its xdist workers) at once."""
    feature = tmp_path / "slow" / "two.feature"
    feature.parent.mkdir(parents=True)
    feature.write_text(TWO_SLOW_RESTORES, encoding="utf-8")
    run_id = new_run_id()
    process = subprocess.Popen(
        [DRDRILL, "run", str(feature), "-n", "2", "--target", "localstack", "--report-dir", str(tmp_path / "report")],
        cwd=tmp_path,
        env=clean_env(serve_endpoint, DRDRILL_RUN_ID=run_id),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
        preexec_fn=_sigint_as_in_a_terminal,
    )
    prefix = f"drdrill-{run_id}"
    try:
        _wait_for_restore_in_flight(serve_endpoint, process, prefix)
        for _ in range(BURST):
            os.killpg(process.pid, signal.SIGINT)
            time.sleep(GAP_S)
        _, stderr = process.communicate(timeout=240)
    finally:
        _stop(process)
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    assert f"report written to {tmp_path / 'report'}/" in stderr, stderr[-2000:]
    journal = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert journal["status"] == "interrupted"
    assert sorted(s["status"] for s in journal["scenarios"]) == ["interrupted", "interrupted"]
    assert all(s["cleanup"]["failed"] == [] for s in journal["scenarios"])
    assert leftovers(serve_endpoint, prefix) == {}
    _wait_for_restores_to_end(serve_endpoint, prefix)
    assert leftovers(serve_endpoint, prefix) == {}
