"""Longest drills first, each to the worker with the least to do: the rule ``drdrill run -n N`` schedules by
(:mod:`dr_infra.bdd.schedule`) and ``drdrill plan`` estimates with (:func:`dr_infra.app.plan_time.makespan`).

Kept apart from the xdist scheduler so the plan can use it without importing pytest-xdist.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence


def longest_first(durations: Sequence[float], workers: int) -> list[list[int]]:
    """Indices of ``durations`` per worker: longest first, each to the least-loaded worker.

    Ties keep collection order (an earlier drill first, to the lower-numbered worker), so the assignment is the
    same on every run of the same features."""
    lists: list[list[int]] = [[] for _ in range(max(1, workers))]
    loads = [(0.0, worker) for worker in range(len(lists))]
    for index in sorted(range(len(durations)), key=lambda i: (-durations[i], i)):
        load, worker = heapq.heappop(loads)
        lists[worker].append(index)
        heapq.heappush(loads, (load + durations[index], worker))
    return lists


def estimated(collection: Sequence[str], estimate: Callable[[str], float | None]) -> list[float] | None:
    """Each test's estimate in collection order; ``None`` when no test has one."""
    found = [estimate(nodeid) for nodeid in collection]
    known = [seconds for seconds in found if seconds is not None]
    if not known:
        return None
    floor = min(known)
    return [floor if seconds is None else seconds for seconds in found]
