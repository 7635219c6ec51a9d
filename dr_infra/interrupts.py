"""Ctrl-C and SIGTERM as an operator means them: the first stops the run in order, a burst never leaves resources.

Why: Python turns every SIGINT into a ``KeyboardInterrupt`` wherever the main thread happens to be, so a second
Ctrl-C pressed while the first one's teardown runs used to abort the teardown and leave the whole stack behind,
and one pressed between a Create call and the registration of its clean-up leaked that resource. The rules:

* The first signal stops the run: a ``KeyboardInterrupt`` is raised where the run is, unless the run is inside
  a :func:`shielded` section (provisioning, teardown, writing the report), in which case it is raised when the
  outermost section ends, so nothing created goes unregistered and no teardown is cut short.
* Further signals are reported, never raised, while the orderly stop runs. Presses closer together than
  :data:`DEBOUNCE_S` count as one (a burst of impatient presses is one press). Only the
  :data:`ABANDON_AFTER`-th counted press abandons the teardown (:class:`TeardownAbandoned`), and whoever
  runs the teardown then says exactly what is left and how ``drdrill janitor`` removes it.

One guard per process (signals are process-wide); :func:`install` is idempotent and only acts on the main thread.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TextIO

DEBOUNCE_S = 1.0
"""Signals within this many seconds of the last counted one are the same press."""
ABANDON_AFTER = 3
"""The counted press that abandons an orderly stop (the first starts it)."""


class TeardownAbandoned(KeyboardInterrupt):
    """The operator insisted (:data:`ABANDON_AFTER` deliberate presses): stop tearing down now."""


@dataclass
class InterruptGuard:
    """The process's SIGINT/SIGTERM policy (see the module docstring)."""

    out: TextIO | None = None
    clock: Callable[[], float] = time.monotonic
    stopping: bool = False
    counted: int = 0
    last_counted: float = 0.0
    pending: bool = False
    depth: int = 0
    what: list[str] = field(default_factory=list)
    on_first: Callable[[], None] | None = None
    """Set on a controller of parallel workers: the first signal does not interrupt this process, it calls
    this (which passes the signal on to the workers) and lets each worker stop in order and report."""
    _previous: dict[int, Any] = field(default_factory=dict)

    # -- signals -------------------------------------------------------------------------------------------
    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):
                self._previous[signum] = signal.signal(signum, self.handle)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, previous)
        self._previous.clear()

    def handle(self, signum: int, frame: FrameType | None = None) -> None:
        now = self.clock()
        if not self.stopping:
            self.stopping, self.counted, self.last_counted = True, 1, now
            if self.on_first is not None:
                self._say("stopping: every worker tears its drills down, then the merged report is written")
                self.on_first()
                return
            if self.depth:
                self.pending = True
                self._say(f"stopping: finishing {self._doing()} first, so that everything it created is removed")
                return
            raise KeyboardInterrupt
        if now - self.last_counted < DEBOUNCE_S:
            return  # the same impatient press
        self.counted, self.last_counted = self.counted + 1, now
        left = ABANDON_AFTER - self.counted
        if left <= 0 and (self.depth or self.on_first is not None):
            self._say("abandoning the orderly stop at your request")
            raise TeardownAbandoned
        if self.on_first is not None:
            self.on_first()  # a worker may have missed the first one (a signal sent to this process only)
            again = "once more" if left == 1 else f"{left} more times"
            self._say(f"still stopping (workers tearing down); press Ctrl-C {again}, a second apart, to abandon it")
            return
        if self.depth:
            again = "once more" if left == 1 else f"{left} more times"
            self._say(f"still stopping ({self._doing()}); press Ctrl-C {again}, a second apart, to abandon it")

    # -- sections ------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def shielded(self, what: str) -> Iterator[None]:
        """Run a section that must not be cut short by a first signal (it is deferred to the section's end)."""
        self.depth += 1
        self.what.append(what)
        try:
            yield
        finally:
            self.depth -= 1
            self.what.pop()
            if not self.depth and self.pending:
                self.pending = False
                raise KeyboardInterrupt

    def reset(self) -> None:
        """A new run in the same process (drdrill's own tests)."""
        self.stopping, self.counted, self.pending, self.on_first = False, 0, False, None

    def _doing(self) -> str:
        return self.what[-1] if self.what else "the current step"

    def _say(self, text: str) -> None:
        out = self.out or sys.stderr
        with contextlib.suppress(Exception):
            out.write(f"\ndrdrill: {text}\n")
            out.flush()


GUARD = InterruptGuard()


def shielded(what: str) -> contextlib.AbstractContextManager[None]:
    """``with shielded("tearing down the stack"):`` on the process's guard."""
    return GUARD.shielded(what)
