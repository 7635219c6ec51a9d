"""Spare Lambda worker processes, started ahead of need so a function's cold start does not wait for one.

Why: every execution environment is a new ``python -S -s lambda_worker.py`` process (:mod:`lambda_process`),
and starting one and importing the AWS SDK it provides takes about a second of this machine's time (0.3 s of
CPU, more under load), which a drill paid on its critical path at each function's first invocation
("monitor invoked -> restore started"): drdrill's own overhead, not a latency AWS has or the target models
(a function's Init is timed by the worker, and the ``aws-scaled`` profile adds AWS's documented start on top,
:mod:`lambda_runtime`). A spare is that process, started in the background with no function yet, with
``boto3`` and ``botocore`` imported (from the runtime's folder, as the function itself would import them); the
next new execution environment takes it and sends it the function (``{"t": "assign", "env", "cwd"}``), and a
replacement starts at once. The function then sees what a freshly started worker shows it: its environment
variables, its package first on ``sys.path``, the same folders after it; a package that ships a module a
spare has already imported (its own ``boto3``, ``urllib3``, ...) makes the spare re-execute itself as a fresh
worker, so the function's copy wins as on AWS (:func:`lambda_worker._assigned`).

``DRDRILL_LAMBDA_SPARES`` (default 2, 0 turns spares off) sets how many wait; they end with the last embedded
server of the process, or when it exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from dr_infra.targets.embedded import lambda_python_runtime

ENV = "DRDRILL_LAMBDA_SPARES"
DEFAULT_SPARES = 2
WORKER_SCRIPT = str(Path(__file__).resolve().parent / "lambda_worker.py")

_lock = threading.Lock()
_spares: list[subprocess.Popen[bytes]] = []
_starting = 0
_enabled = False


def wanted() -> int:
    """How many spares to keep (``DRDRILL_LAMBDA_SPARES``; a value that is not a whole number counts as 0)."""
    try:
        return max(0, int(os.environ.get(ENV, DEFAULT_SPARES)))
    except ValueError:
        return 0


def _spawn(cwd: str) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
    }
    return subprocess.Popen(
        [sys.executable, "-S", "-s", WORKER_SCRIPT, "--spare", lambda_python_runtime.packages_folder()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
        close_fds=True,
    )


def fill(cwd: str) -> None:
    """Start spares (in a background thread) until :func:`wanted` are waiting or starting."""
    global _starting
    with _lock:
        if not _enabled:
            return
        missing = wanted() - len(_spares) - _starting
        if missing <= 0:
            return
        _starting += missing

    def start() -> None:
        global _starting
        for _ in range(missing):
            try:
                spare = _spawn(cwd)
            except OSError:
                spare = None
            with _lock:
                _starting -= 1
                if spare is not None and _enabled:
                    _spares.append(spare)
                    spare = None
            if spare is not None:
                _kill(spare)

    threading.Thread(target=start, name="lambda-spares", daemon=True).start()


def take(env: dict[str, str], cwd: str) -> subprocess.Popen[bytes] | None:
    """A spare turned into the execution environment of the function with ``env`` in ``cwd`` (``None``: none
    is waiting; the caller starts a fresh worker)."""
    while True:
        with _lock:
            spare = _spares.pop(0) if _spares else None
        if spare is None:
            return None
        if spare.poll() is not None:
            _kill(spare)
            continue
        try:
            assert spare.stdin is not None
            spare.stdin.write((json.dumps({"t": "assign", "env": env, "cwd": cwd}) + "\n").encode())
            spare.stdin.flush()
        except (OSError, ValueError):
            _kill(spare)
            continue
        return spare


def enable() -> None:
    """Spares may be kept from now on (an embedded server is running in this process)."""
    global _enabled
    with _lock:
        _enabled = True


def stop() -> None:
    """End every spare and keep none until :func:`enable` (the last server stopped, or the process exits)."""
    global _enabled
    with _lock:
        _enabled = False
        spares, _spares[:] = list(_spares), []
    for spare in spares:
        _kill(spare)


def pids() -> list[int]:
    """PIDs of the waiting spares (tests, diagnostics)."""
    with _lock:
        return [spare.pid for spare in _spares if spare.poll() is None]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
