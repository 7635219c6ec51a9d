"""The console script leaves without the interpreter's teardown, and loses nothing by it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _entry(tmp_path: Path, prelude: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``drdrill ARGV`` through the console script's own function, after ``prelude``."""
    code = (
        "import atexit, sys, threading, time\n"
        f"{prelude}\n"
        "from dr_infra.app import cli\n"
        f"sys.argv = ['drdrill', *{list(argv)!r}]\n"
        "cli.entry()\n"
        "raise SystemExit('entry() returned')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_exit_code_and_the_exit_handlers_survive(tmp_path: Path) -> None:
    done = _entry(tmp_path, "atexit.register(lambda: print('exit handler ran', flush=True))", "plan", "--bogus")
    assert done.returncode == 2, done.stderr
    assert "exit handler ran" in done.stdout
    assert "entry() returned" not in done.stderr


def test_piped_output_is_flushed_whole(tmp_path: Path) -> None:
    done = _entry(tmp_path, "", "plan", "--target", "embedded", "--format", "json", str(ROOT / "features"))
    assert done.returncode == 0, done.stderr[-2000:]
    plan = json.loads(done.stdout)  # the whole document reached the pipe before the process left
    assert plan["resources"] and "duration_estimate_s" in plan and len(done.stdout) > 16_384


def test_a_running_non_daemon_thread_is_waited_for_as_a_normal_exit_would(tmp_path: Path) -> None:
    marker = tmp_path / "thread-finished"
    prelude = (
        "def _late():\n"
        "    time.sleep(0.5)\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "threading.Thread(target=_late).start()"
    )
    done = _entry(tmp_path, prelude, "plan", "--bogus")
    assert done.returncode == 2
    assert marker.exists()
