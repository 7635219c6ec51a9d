"""Who is told about the stack layer's own waits: a mapping that takes minutes to start, a table a restore still
holds CREATING when teardown deletes it.

Those waits poll with tenacity below the drill layer, where :mod:`dr_infra.drill.waits`' observer is out of reach
(imports only point down). ``drdrill run``'s progress lines (:func:`dr_infra.bdd.progress.installed`) set a reporter
here, so a long provisioning or teardown wait gets the same "waiting" / heartbeat / "done" lines as a restore: a CI
job is never silent for minutes. Without a reporter (library use, the janitor) the waits are silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: (phase, state, seconds waited, finished) -> None
Reporter = Callable[[str, str, float, bool], None]
_reporter: Reporter | None = None


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[Reporter | None]:
    """Within the block, tell ``reporter`` about the stack layer's waits (``None``: silence); the reporter before it
    is back when the block ends."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield reporter
    finally:
        _reporter = previous


class Wait:
    """One wait's reports: :meth:`tick` before each sleep, then the end once, if anything was said."""

    def __init__(self, phase: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.phase, self.clock = phase, clock
        self.reporter = _reporter
        self.started = clock()
        self.told = False

    def tick(self, state: str) -> None:
        if self.reporter is not None:
            self.told = True
            self.reporter(self.phase, state, self.clock() - self.started, False)

    def done(self, state: str) -> None:
        if self.told and self.reporter is not None:
            self.reporter(self.phase, state, self.clock() - self.started, True)
