"""Workers forked from the fork server behave as new interpreters to whoever starts them (dr_infra.prefork).

What a caller relies on: the worker gets the launcher's arguments, environment, working directory and standard
streams; the launcher ends as its worker ended (exit code, or the same signal); a signal sent to the launcher
reaches the worker; killing the launcher kills its worker; a closed server forks no more, lets its workers
finish, then ends with nothing left.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dr_infra.prefork import ForkServer


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    started = ForkServer.spawn(["json", "tests.unit.test_prefork"])
    assert started is not None and started.ready()
    yield started
    started.close()


def _launch(server: ForkServer, code: str, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*shlex.split(server.python), "-u", "-c", code, *args], **kwargs)  # type: ignore[call-overload]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_refused(path: str, timeout_s: float = 15.0) -> None:
    """Until the server refuses a new connection (it has seen its input close)."""
    deadline = time.monotonic() + timeout_s
    while True:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            probe.connect(path)
        except OSError:
            return
        finally:
            probe.close()
        assert time.monotonic() < deadline, "the server still accepts after its input closed"
        time.sleep(0.02)


def _wait_gone(pid: int, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_a_worker_gets_the_launchers_arguments_environment_folder_and_streams(
    server: ForkServer, tmp_path: Path
) -> None:
    code = (
        "import os, sys\n"
        "print(sys.argv[1:], os.environ['PREFORK_PROBE'], os.getcwd(), 'tests.unit.test_prefork' in sys.modules)\n"
        "print(input().upper())\n"
        "print('to stderr', file=sys.stderr)\n"
        "sys.exit(7)\n"
    )
    env = {**os.environ, "PREFORK_PROBE": "probe-value"}
    proc = _launch(
        server,
        code,
        "one",
        "two",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    out, err = proc.communicate(b"hello\n", timeout=30)
    assert proc.returncode == 7
    assert out.decode().splitlines() == [f"['one', 'two'] probe-value {tmp_path} True", "HELLO"]
    assert err.decode() == "to stderr\n"


def test_an_uncaught_error_ends_the_worker_with_1_and_its_traceback(server: ForkServer) -> None:
    proc = _launch(server, "raise RuntimeError('boom')", stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "RuntimeError: boom" in err.decode()


def test_a_module_runs_as_python_m_would(server: ForkServer) -> None:
    proc = subprocess.run(
        [*shlex.split(server.python), "-m", "json.tool"], input=b'{"a":1}', capture_output=True, timeout=30
    )
    assert proc.returncode == 0 and proc.stdout.decode().split() == ["{", '"a":', "1", "}"]


def test_anything_but_c_or_m_is_refused_with_2(server: ForkServer) -> None:
    proc = subprocess.run([*shlex.split(server.python), "script.py"], capture_output=True, timeout=30)
    assert proc.returncode == 2 and b"only -c CODE or -m MODULE" in proc.stderr


def test_a_worker_killed_by_a_signal_ends_its_launcher_by_the_same_signal(server: ForkServer) -> None:
    proc = _launch(server, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_to_the_launcher_reaches_its_worker(server: ForkServer, signum: int, expected: int) -> None:
    code = (
        "import sys, time\n"
        "try:\n    print('up', flush=True)\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    sys.exit(130)\n"
    )
    proc = _launch(server, code, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == expected
    proc.stdout.close()


def test_killing_the_launcher_kills_its_worker(server: ForkServer) -> None:
    proc = _launch(server, "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n", stdout=subprocess.PIPE)
    assert proc.stdout is not None
    worker = int(proc.stdout.readline())
    assert worker != proc.pid and _alive(worker)
    proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    assert _wait_gone(worker)


def test_a_closed_server_lets_its_running_worker_finish_then_ends_with_nothing_left() -> None:
    """A worker may be tearing a drill's stack down when the run's controller goes: it ends on its own, when its
    input closes, as a plain worker would; the server ends after it."""
    own = ForkServer.spawn([])
    assert own is not None and own.ready()
    code = "import os, sys\nprint(os.getpid(), flush=True)\nsys.stdin.read()\nprint('finished', flush=True)\n"
    proc = _launch(own, code, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    worker = int(proc.stdout.readline())
    assert own.proc.stdin is not None
    own.proc.stdin.close()  # what the controller's end does
    _wait_refused(own.socket_path)
    assert _alive(worker) and own.proc.poll() is None  # neither the worker nor the server was cut short
    assert subprocess.run([*shlex.split(own.python), "-c", "pass"], timeout=30).returncode != 0  # no new worker
    proc.stdin.close()
    assert proc.stdout.read() == b"finished\n" and proc.wait(timeout=30) == 0
    own.close()
    assert own.proc.returncode == 0 and _wait_gone(worker)
    assert not Path(own.folder).exists()
    proc.stdout.close()


def test_a_launcher_without_a_server_fails_in_one_line(tmp_path: Path) -> None:
    launcher = [sys.executable, "-I", "-S", str(Path(__file__).parents[2] / "dr_infra/prefork/launcher.py")]
    proc = subprocess.run([*launcher, str(tmp_path / "no-socket"), "-c", "pass"], capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("drdrill: cannot start a worker from the fork server")
    assert len(proc.stderr.decode().splitlines()) == 1


def test_no_server_where_the_platform_cannot_fork_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "pidfd_open")
    assert ForkServer.spawn([]) is None
