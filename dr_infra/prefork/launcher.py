"""Stands in for a new interpreter: asks the fork server (:mod:`server`) for a forked worker and becomes it.

Run as ``python -I -S launcher.py SOCKET_PATH ARGS...`` (only the standard library, no ``site``: it starts in
milliseconds), where a new ``python ARGS...`` would have been started. It hands its standard input, output and
error to the server with ``ARGS``, its environment and working directory, forwards ``SIGINT``, ``SIGTERM`` and
``SIGHUP`` to the worker (a Ctrl-C at a terminal reaches the worker itself too, as the same process group: a
worker started as ``python`` gets both as well when its controller forwards the interrupt), and ends as the
worker ended: the same exit code, or killed by the same signal. Whoever started it sees a worker process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    path, args = argv[0], argv[1:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
        request = {"argv": args, "env": dict(os.environ), "cwd": str(Path.cwd())}
        socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    except OSError as exc:
        print(f"drdrill: cannot start a worker from the fork server at {path}: {exc}", file=sys.stderr)
        return 1

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            conn.send(json.dumps({"signal": signum}).encode())

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        reply = conn.recv(4096)
    except OSError:
        reply = b""
    if not reply:
        return 1  # the server ended before the worker did
    code = int(json.loads(reply)["exit"])
    if code < 0:  # killed by a signal: so is this process, for whoever waits on it
        if -code not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be caught, so need no reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
