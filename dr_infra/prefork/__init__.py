"""Worker processes forked from one warmed interpreter instead of each started and importing everything.

:class:`ForkServer` starts :mod:`dr_infra.prefork.server` (which imports the given modules once) and gives the
command that stands in for ``python`` (:attr:`ForkServer.python`, the :mod:`dr_infra.prefork.launcher`): a
process started with it behaves as a new interpreter would, but is a fork of the warmed one.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dr_infra.prefork.protocol import READY

LAUNCHER = str(Path(__file__).resolve().parent / "launcher.py")


class ForkServer:
    """A running fork server; :meth:`close` ends it."""

    def __init__(self, proc: subprocess.Popen[bytes], folder: str, socket_path: str) -> None:
        self.proc, self.folder, self.socket_path = proc, folder, socket_path
        self._ready: bool | None = None

    @property
    def python(self) -> str:
        """The command line that stands in for ``python`` (shell-quoted; its arguments follow)."""
        return shlex.join([sys.executable, "-I", "-S", LAUNCHER, self.socket_path])

    @classmethod
    def spawn(cls, modules: list[str]) -> ForkServer | None:
        """Start one that imports ``modules`` (in the background: :meth:`ready` waits for it); ``None`` when this
        platform has no ``fork`` or ``pidfd_open``: the caller starts plain processes instead."""
        if not hasattr(os, "fork") or not hasattr(os, "pidfd_open"):
            return None
        folder = tempfile.mkdtemp(prefix="drdrill-fork-")
        socket_path = str(Path(folder) / "s")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dr_infra.prefork.server", socket_path, *modules],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return cls(proc, folder, socket_path)

    def ready(self, timeout_s: float = 60.0) -> bool:
        """Whether the server came up (said so within ``timeout_s``); one that did not is closed."""
        if self._ready is None:
            assert self.proc.stdout is not None
            readable, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
            self._ready = bool(readable) and self.proc.stdout.readline() == READY
            if not self._ready:
                self.close()
        return self._ready

    def close(self, timeout_s: float = 30.0) -> None:
        """End the server and remove its socket. The server ends once its workers have (they end when their
        input closes, as plain workers do); one still there after ``timeout_s`` is killed, its workers then
        end on their own."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)
