"""``drdrill run -n N`` hands drills out longest first, each to the worker with the least to do.

dr_infra/bdd/drill_order.py (the rule), dr_infra/bdd/schedule.py (xdist's scheduler made to follow it),
dr_infra/app/run_schedule.py (the plan's estimates by node id). xdist's own load scheduler queued two long
restore drills on one worker while others ran out of work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dr_infra.app.run_schedule import estimates_by_nodeid
from dr_infra.bdd.drill_order import estimated, longest_first
from dr_infra.bdd.schedule import LongestFirst, LongestFirstScheduling


def _loads(durations: list[float], lists: list[list[int]]) -> list[float]:
    return [sum(durations[i] for i in indices) for indices in lists]


def test_the_long_drills_go_to_different_workers_and_short_ones_fill_in() -> None:
    durations = [2.0, 18.0, 3.0, 17.0, 0.0, 16.0, 2.5, 0.0]
    lists = longest_first(durations, 3)
    assert [indices[0] for indices in lists] == [1, 3, 5]  # each worker starts with one of the three long drills
    assert sorted(i for indices in lists for i in indices) == list(range(len(durations)))
    assert max(_loads(durations, lists)) == 20.0  # 18 + 2: the short drills fill in beside the long ones


def test_collection_order_would_queue_two_long_drills_on_one_worker() -> None:
    """The case xdist's own rule lost: handed out in collection order two at a time, 18 + 17 on one worker."""
    durations = [18.0, 17.0, 2.0, 2.0, 16.0, 1.0]
    in_order = [[0, 1], [2, 3], [4, 5]]
    assert max(_loads(durations, in_order)) == 35.0
    assert max(_loads(durations, longest_first(durations, 3))) == 19.0  # 18 + 1, 17 + 2, 16 + 2


def test_the_assignment_is_the_same_on_every_run() -> None:
    durations = [5.0, 5.0, 5.0, 5.0]
    assert longest_first(durations, 2) == [[0, 2], [1, 3]] == longest_first(list(durations), 2)


def test_a_test_without_an_estimate_counts_as_the_shortest_and_none_known_means_none() -> None:
    table = {"a": 10.0, "b": 4.0}
    assert estimated(["a", "x", "b"], table.get) == [10.0, 4.0, 4.0]
    assert estimated(["x", "y"], table.get) is None


def test_a_node_id_finds_its_scenario_estimate(tmp_path: Path) -> None:
    feature = tmp_path / "features" / "loss.feature"
    rows = [(str(feature), "test_the_table_is_deleted", 17.0), (str(feature), "test_outline", 3.0)]
    rows.append((str(feature), "test_outline", 5.0))  # another Examples row of the same outline
    estimate = estimates_by_nodeid(rows, tmp_path)
    assert estimate("features/loss.feature::test_the_table_is_deleted") == 17.0
    assert estimate("features/loss.feature::test_outline[row-2]") == 5.0
    assert estimate("features/other.feature::test_the_table_is_deleted") is None
    assert estimate("tests/unit/test_x.py::test_y") is None


class _Node:
    """A stand-in for xdist's WorkerController: records what the scheduler sends it."""

    def __init__(self, name: str) -> None:
        self.gateway = type("Gateway", (), {"id": name})()
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


class _Config:
    def __init__(self, workers: int) -> None:
        self.workers = workers

    def getvalue(self, name: str) -> Any:
        return {"tx": [f"{self.workers}*popen"], "dist": "load"}[name]

    def getoption(self, name: str) -> Any:
        return {"maxschedchunk": None}[name]


def _scheduled(collection: list[str], estimate: Any, workers: int) -> list[_Node]:
    scheduler = LongestFirstScheduling(_Config(workers), None, estimate)
    nodes = [_Node(f"gw{i}") for i in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    assert scheduler.collection_is_completed
    scheduler.schedule()
    return nodes


def test_the_scheduler_sends_each_worker_its_drills_longest_first_then_shuts_it_down() -> None:
    collection = ["f::short", "f::long", "f::skipped", "f::longer", "f::mid"]
    seconds = {"f::short": 2.0, "f::long": 16.0, "f::skipped": 0.0, "f::longer": 18.0, "f::mid": 5.0}
    nodes = _scheduled(collection, seconds.get, 2)
    assert [[collection[i] for i in node.sent] for node in nodes] == [
        ["f::longer", "f::short", "f::skipped"],
        ["f::long", "f::mid"],
    ]
    assert all(node.shutting_down for node in nodes)


def test_without_estimates_the_scheduler_is_xdist_s_own() -> None:
    """The project's own tests (no drill estimates): xdist's rule, two at a time in collection order."""
    collection = [f"tests/test_{i}.py::test" for i in range(10)]
    nodes = _scheduled(collection, lambda nodeid: None, 2)
    assert [node.sent for node in nodes] == [[0, 1], [2, 3]]
    assert not any(node.shutting_down for node in nodes)


@pytest.mark.parametrize(("dist", "expected"), [("load", LongestFirstScheduling), ("loadfile", type(None))])
def test_only_the_default_distribution_is_replaced(dist: str, expected: type) -> None:
    config = _Config(2)
    config.getvalue = lambda name: {"tx": ["2*popen"], "dist": dist}[name]  # type: ignore[method-assign]
    assert type(LongestFirst(lambda nodeid: 1.0).pytest_xdist_make_scheduler(config, None)) is expected
