"""Which worker runs which drill under ``-n N``: the longest first, each on the worker with the least to do.

Why: pytest-xdist's ``load`` scheduler hands tests out in collection order and keeps two queued on every worker
(a worker starts a test only once it knows the next one). For unit tests that is fine; for drills that last from
2 to 20 seconds it queues two long restore drills on one worker while another runs out of work: on the shipped
features under the aws-scaled profile, ``-n 24`` took 72 s (nine workers ran two restores one after the other)
and ``-n 8`` 57 s, for a slowest drill of about 19 s (BENCHMARKS.md, issue 19).

What is done instead, when the run knows how long each drill takes (``drdrill run`` passes the same
per-scenario estimates ``drdrill plan`` prints): the classic longest-processing-time-first rule (Graham, 1969:
within 4/3 of the best possible makespan). Drills are sorted by their estimate, longest first, and each goes to
the worker whose assigned drills add up to the least; every worker gets its whole list at once, longest first,
and is told to finish after it. A collection with no estimate for any test (the project's own test suite, plain
``pytest -n``) is scheduled by xdist's own rule; a test without an estimate counts as the shortest estimated
one. A worker that crashes hands its unfinished drills back to xdist's own rescheduling (a replacement worker
takes them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from xdist.scheduler import LoadScheduling

from dr_infra.bdd.drill_order import estimated, longest_first

Estimate = Callable[[str], float | None]
"""A test's estimated seconds by its node id (``None``: unknown)."""


class LongestFirstScheduling(LoadScheduling):  # type: ignore[misc]  # xdist.scheduler is untyped
    """xdist's load scheduling, with the first distribution made longest-first (see the module docstring)."""

    def __init__(self, config: Any, log: Any, estimate: Estimate) -> None:
        super().__init__(config, log)
        self._estimate = estimate

    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is not None or not self._check_nodes_have_same_collection():  # type: ignore[has-type]
            super().schedule()  # a replacement worker after a crash, or differing collections: xdist's own rule
            return
        collection = next(iter(self.node2collection.values()))
        durations = estimated(collection, self._estimate)
        if durations is None:  # no test has an estimate (an empty collection included)
            super().schedule()
            return
        self.collection = collection
        nodes = self.nodes
        for node, indices in zip(nodes, longest_first(durations, len(nodes)), strict=True):
            if indices:
                self.node2pending[node].extend(indices)
                node.send_runtest_some(indices)
        self.pending[:] = []
        for node in nodes:
            node.shutdown()


class LongestFirst:
    """A pytest plugin: under ``-n`` with xdist's default ``--dist load``, schedule drills longest first."""

    def __init__(self, estimate: Estimate) -> None:
        self._estimate = estimate

    @pytest.hookimpl(tryfirst=True)  # before xdist's own implementation (the hook takes the first answer)
    def pytest_xdist_make_scheduler(self, config: Any, log: Any) -> LoadScheduling | None:
        if config.getvalue("dist") != "load":
            return None  # the user chose another distribution (loadfile, loadscope, ...): theirs
        return LongestFirstScheduling(config, log, self._estimate)
