"""SIGINT / SIGTERM mid-scenario: teardown, an "interrupted" report, exit 130, nothing left behind.
SIGKILL: nothing can run, so `drdrill janitor` finds and removes the leftovers by tag.

The drill runs on the localstack target against a `drdrill serve` subprocess, so what is left behind is
listed on the endpoint itself afterwards.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from dr_infra.stack.names import new_run_id

from .conftest import DRDRILL, _stop, clean_env, client, leftovers, start_serve

SLOW_RESTORE = """Feature: a slow restore
  Scenario: a restore job that takes a while
    Given a DR-protected table "orders" with 5 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And restore jobs take 8 seconds
    When 1 item is deleted
    Then a restore job completes within 120 seconds
"""


def _sigint_as_in_a_terminal() -> None:
    """A shell starts background jobs with SIGINT ignored, and Python keeps it so; a drill started at a terminal
    has SIGINT at its default, which is what Ctrl-C reaches. The test must not depend on how it was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_slow_drill(endpoint: str, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    feature = tmp_path / "slow" / "slow_restore.feature"
    feature.parent.mkdir(parents=True)
    feature.write_text(SLOW_RESTORE, encoding="utf-8")
    run_id = new_run_id()
    process = subprocess.Popen(
        [
            DRDRILL,
            "run",
            str(feature),
            "--target",
            "localstack",
            "--report-dir",
            str(tmp_path / "report"),
            "-q",
        ],
        cwd=tmp_path,
        env=clean_env(endpoint, DRDRILL_RUN_ID=run_id),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_as_in_a_terminal,
    )
    return process, f"drdrill-{run_id}"


def _restore_jobs(endpoint: str, prefix: str) -> list[dict[str, Any]]:
    jobs = client(endpoint, "backup").list_restore_jobs()["RestoreJobs"]
    return [j for j in jobs if f"table/{prefix}-" in str(j.get("SourceResourceArn", ""))]


def _wait_for_restore_in_flight(endpoint: str, process: subprocess.Popen[str], prefix: str) -> None:
    """The stack exists and the (8 s) restore job the monitor started is running."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the drill ended early: {process.stderr.read() if process.stderr else ''}"
        if any(j["Status"] in {"PENDING", "RUNNING"} for j in _restore_jobs(endpoint, prefix)):
            return
        time.sleep(0.5)
    pytest.fail("no restore job started within 120 s")


def _wait_for_restores_to_end(endpoint: str, prefix: str) -> None:
    """A restore job cannot be cancelled (on AWS neither): whatever it creates when it ends must not stay."""
    deadline = time.monotonic() + 120
    while any(j["Status"] in {"CREATED", "PENDING", "RUNNING"} for j in _restore_jobs(endpoint, prefix)):
        assert time.monotonic() < deadline, "the interrupted restore job never ended"
        time.sleep(1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_scenario_tears_down_reports_interrupted_and_exits_130(
    serve_endpoint: str, tmp_path: Path, signum: signal.Signals
) -> None:
    process, prefix = _start_slow_drill(serve_endpoint, tmp_path)
    try:
        _wait_for_restore_in_flight(serve_endpoint, process, prefix)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        _stop(process)
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    # drdrill's own line, not pytest's "!!! KeyboardInterrupt !!!" banner with a source line
    assert "drdrill: interrupted" in stderr
    assert "KeyboardInterrupt" not in stdout + stderr and "full-trace" not in stdout + stderr, stdout[-2000:]
    journal = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert journal["status"] == "interrupted"
    [scenario] = journal["scenarios"]
    assert scenario["status"] == "interrupted"
    assert scenario["name"] == "a restore job that takes a while"
    assert scenario["cleanup"]["failed"] == []
    assert leftovers(serve_endpoint, prefix) == {}
    _wait_for_restores_to_end(serve_endpoint, prefix)
    assert leftovers(serve_endpoint, prefix) == {}


def test_after_sigkill_the_janitor_removes_the_leftovers(tmp_path: Path) -> None:
    server, endpoint = start_serve()  # its own endpoint: the janitor sweeps every drdrill run on it
    try:
        process, prefix = _start_slow_drill(endpoint, tmp_path)
        try:
            _wait_for_restore_in_flight(endpoint, process, prefix)
            process.kill()
            process.wait(timeout=30)
        finally:
            _stop(process)
        left = leftovers(endpoint, prefix)
        assert {"tables", "roles", "functions", "vaults", "plans", "log_groups"} <= set(left), left
        done = subprocess.run(
            [DRDRILL, "janitor", "--target", "localstack", "--older-than", "0s", "--yes"],
            cwd=tmp_path, env=clean_env(endpoint), capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "FAILED" not in done.stdout
        assert leftovers(endpoint, prefix) == {}, done.stdout
        _wait_for_restores_to_end(endpoint, prefix)
        assert leftovers(endpoint, prefix) == {}
    finally:
        _stop(server)
