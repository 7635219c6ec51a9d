"""The fork server: one process that imports a drill worker's libraries once, then forks a worker per request.

Why: every pytest-xdist worker of ``drdrill run -n N`` was a new interpreter that imported pytest, pytest-bdd,
boto3 and drdrill itself before its first drill: about 1.5 CPU-s each on this project's 2-core machine
(BENCHMARKS.md), so 16 workers spent 24 CPU-s, 12 s of both cores, starting, while the first drills
provisioned their stacks beside them. A child forked from this process has all of that imported already and
shares its pages until it writes them.

Protocol (an ``AF_UNIX`` ``SOCK_SEQPACKET`` socket, one connection per worker, see :mod:`launcher`):

- the launcher sends one JSON message ``{"argv": [...], "env": {...}, "cwd": "..."}`` with its standard input,
  output and error attached (``SCM_RIGHTS``): the child takes them as its own 0, 1 and 2;
- the server forks; the child runs ``argv`` as ``python argv...`` would (``-c CODE`` or ``-m MODULE``, with
  ``-u`` and ``-B`` understood and the other interpreter flags ignored: the child is already this interpreter);
- the server answers ``{"exit": code}`` when the child ends (``os.waitstatus_to_exitcode``: negative for a
  signal), and forwards ``{"signal": n}`` from the launcher to the child; a launcher that goes away before its
  child ended (killed) takes its child with it (``SIGKILL``), as killing the worker process would have.

When its standard input closes (the process that started it ended or closed it), the server forks nothing more
and ends once its children have: each ends as a worker started as ``python`` would, when its own input closes
(a drill still running tears its stack down first), so a run leaves no process behind, however it ends.

It must stay single-threaded (a fork copies only the calling thread), so it waits on one selector: the
listening socket, each launcher's socket and each child's pidfd (``os.pidfd_open``, Linux 5.3+).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import selectors
import signal
import socket
import sys
import traceback
import types
from dataclasses import dataclass

from dr_infra.prefork.protocol import READY

MAX_MESSAGE = 1 << 20  # the request carries the launcher's environment


@dataclass
class _Child:
    pid: int
    pidfd: int
    conn: socket.socket


def _preload(modules: list[str]) -> None:
    """Import what every worker imports; a module that fails to import is left to the worker (it reports it)."""
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _std_streams() -> None:
    """The child's ``sys.stdin``/``stdout``/``stderr`` on its (new) descriptors 0, 1 and 2, unbuffered output as
    under ``python -u``, and ``sys.__stdin__`` and friends the same objects (as a fresh interpreter has them)."""
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]


def _run_argv(argv: list[str]) -> int:
    """Run ``argv`` (the interpreter's arguments) in this process as ``python argv...`` would; its exit code."""
    args = list(argv)
    while args and args[0].startswith("-") and args[0] not in ("-c", "-m"):
        if args[0] == "-B":
            sys.dont_write_bytecode = True
        args.pop(0)
    if len(args) < 2 or args[0] not in ("-c", "-m"):
        print(f"drdrill fork server: cannot run {argv!r} (only -c CODE or -m MODULE)", file=sys.stderr)
        return 2
    mode, what, rest = args[0], args[1], args[2:]
    try:
        if mode == "-c":
            sys.argv = ["-c", *rest]
            main = types.ModuleType("__main__")
            main.__dict__["__builtins__"] = __builtins__
            sys.modules["__main__"] = main
            exec(compile(what, "<string>", "exec"), main.__dict__)  # noqa: S102 - python -c CODE, as asked
        else:
            import runpy

            sys.argv = [what, *rest]
            runpy.run_module(what, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:  # a worker's uncaught error ends it with a traceback, as python's would
        traceback.print_exc()
        return 1
    return 0


class _Server:
    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, _Child] = {}  # by pidfd
        self.by_conn: dict[int, _Child] = {}  # by the launcher socket's fd
        self.closing = False
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "parent")

    def serve(self) -> None:
        while not (self.closing and not self.children):
            for key, _ in self.selector.select():
                if key.data == "accept":
                    if not self.closing:  # the same wake-up may have seen the input close first
                        self._accept()
                elif key.data == "parent":
                    if not os.read(sys.stdin.fileno(), 4096):
                        self._stop_accepting()
                elif key.data == "pidfd":
                    self._reap(self.children[key.fd])
                else:
                    self._from_launcher(key.fd)

    def _stop_accepting(self) -> None:
        """The parent closed our input: fork nothing more, and end once the workers still running have ended
        (each on its own, as a worker started as ``python`` would when its input closes)."""
        self.closing = True
        self.selector.unregister(self.listener)
        self.selector.unregister(sys.stdin.fileno())
        self.listener.close()  # a launcher that comes now is refused at once (it says so in one line)

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        try:
            message, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, 3)
            request = json.loads(message)
        except (OSError, ValueError):
            conn.close()
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        pid = os.fork()
        if pid == 0:
            self._become_child(fds, request, conn)  # never returns
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        child = _Child(pid, pidfd, conn)
        self.children[pidfd] = child
        self.by_conn[conn.fileno()] = child
        self.selector.register(pidfd, selectors.EVENT_READ, "pidfd")
        self.selector.register(conn, selectors.EVENT_READ, "launcher")

    def _become_child(self, fds: list[int], request: dict[str, object], conn: socket.socket) -> None:
        """In the forked child: drop every descriptor of the server's (so a launcher or the server sees the other
        end close when they do), take the launcher's streams as 0, 1 and 2 (the server's input among the
        replaced), its environment and folder, and run its arguments. Objects the server froze stay out of the
        child's collections, so their pages stay shared."""
        code = 1
        try:
            self.selector.close()
            self.listener.close()
            conn.close()
            for child in self.children.values():
                os.close(child.pidfd)
                child.conn.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            for fd in set(fds):
                if fd > 2:
                    os.close(fd)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            env = request.get("env")
            if isinstance(env, dict):
                os.environ.clear()
                os.environ.update({str(k): str(v) for k, v in env.items()})
            cwd = request.get("cwd")
            if isinstance(cwd, str):
                os.chdir(cwd)
            _std_streams()
            argv = request.get("argv")
            code = _run_argv([str(a) for a in argv] if isinstance(argv, list) else [])
            with contextlib.suppress(BaseException):
                atexit._run_exitfuncs()
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
                sys.stderr.flush()
        finally:
            os._exit(code & 0xFF if code >= 0 else 1)

    def _reap(self, child: _Child) -> None:
        _, status = os.waitpid(child.pid, 0)
        with contextlib.suppress(OSError):
            child.conn.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
        self._forget(child)

    def _from_launcher(self, fd: int) -> None:
        child = self.by_conn[fd]
        try:
            data = child.conn.recv(4096)
        except OSError:
            data = b""
        if not data:  # the launcher went away while its child runs: it was killed, so is the child
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            self.selector.unregister(child.conn)
            del self.by_conn[fd]
            return
        with contextlib.suppress(ValueError, ProcessLookupError, TypeError):
            os.kill(child.pid, int(json.loads(data)["signal"]))

    def _forget(self, child: _Child) -> None:
        self.selector.unregister(child.pidfd)
        os.close(child.pidfd)
        del self.children[child.pidfd]
        if self.by_conn.pop(child.conn.fileno(), None) is not None:
            self.selector.unregister(child.conn)
        child.conn.close()


def main(argv: list[str]) -> int:
    """``python -m dr_infra.prefork.server SOCKET_PATH MODULE...``: preload, listen, say ready, serve."""
    path, modules = argv[0], argv[1:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the workers themselves (same process group)
    _preload(modules)
    gc.collect()
    gc.freeze()  # what the children share stays out of their collections, so stays shared
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    _Server(listener).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
