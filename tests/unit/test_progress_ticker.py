"""Seeding and bulk changes say how far they got at least every 10 s (a silent CI job gets killed)."""

from __future__ import annotations

from typing import Any

import pytest

from dr_infra.drill import inject, waits
from dr_infra.drill.oracle import Oracle
from tests.unit.test_oracle_injection_properties import FakeTable


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.finished: list[str] = []

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        self.lines.append(phase)

    def finish(self, phase: str, probe: Any, elapsed: float, ok: bool) -> None:
        self.finished.append(phase)


class Clock:
    """Every reading is 4 s later: a batch that takes 4 s."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 4.0
        return self.now


@pytest.fixture
def recorder() -> Any:
    observer = Recorder()
    with waits.observing(observer):
        yield observer


def test_a_long_seeding_reports_at_least_every_10_seconds(recorder: Recorder) -> None:
    oracle = Oracle(hash_key="LockId")
    table = FakeTable(oracle.key_attributes)
    requests = ({"PutRequest": {"Item": oracle.seed(i)}} for i in range(250))  # 10 batches, 4 s each
    inject.write_batches(table, "t", requests, workers=1, what="seeding t", clock=Clock())
    assert len(table.items) == 250
    assert len(recorder.lines) >= 3  # 40 s of work: never more than 10 s without a line
    assert recorder.lines[0].startswith("seeding t: ") and "of 250 items" in recorder.lines[0]
    assert recorder.finished == ["seeding t: 250 items"]


def test_a_quick_write_says_nothing(recorder: Recorder) -> None:
    oracle = Oracle(hash_key="LockId")
    table = FakeTable(oracle.key_attributes)
    inject.write_batches(table, "t", ({"PutRequest": {"Item": oracle.seed(i)}} for i in range(30)), workers=1)
    assert recorder.lines == [] and recorder.finished == []
