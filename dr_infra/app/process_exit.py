"""Leave the process as soon as the command is done: skip the interpreter's teardown of a heap it no longer needs.

When ``drdrill run`` has written its report, Python's own shutdown still frees every object of every module:
moto's service models, the embedded target's tables, pytest and its plugins. With the raised GC thresholds
(:mod:`dr_infra.targets.embedded.gc_tuning`) that took 2.5 to 5.7 s after the last line on this 2-core machine
(measured 2026-12-02: the time between the command's last statement and the process's end), a wait with
nothing to show for it at the end of every run. So the console script flushes stdout and stderr, runs the
``atexit`` handlers (logging's flush, multiprocessing's clean-up, anything a library registered) and leaves
with ``os._exit``. When a non-daemon thread is still running, Python would have waited for it: then the
ordinary ``sys.exit`` does exactly that.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Exit with ``code`` after flushing and running the exit handlers, without the interpreter's teardown."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if others:
        sys.exit(code)
    atexit._run_exitfuncs()  # what a normal exit runs first; only the teardown after it is skipped
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a reader that left (`drdrill plan | head`) is not an error here
            stream.flush()
    os._exit(code)
