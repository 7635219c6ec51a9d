"""The RTO's phases are consecutive and add up to the measured RTO, for a restore and for an in-place repair."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dr_infra.drill.policy import load_policy
from dr_infra.drill.state import Drill
from dr_infra.report.journal import ScenarioRecord

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def _drill(strategy: str) -> Drill:
    record = ScenarioRecord(id="x", name="x", feature="f", feature_file="f.feature", guarantee="deletion")
    drill = Drill(target=Any, run_id="r", record=record, policy=load_policy(None), stack_counter=lambda: 1)  # type: ignore[arg-type]
    drill.strategy = strategy
    drill.rto_target, drill.rpo_target = 60.0, 60.0
    return drill


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _assert_consecutive_and_summing(drill: Drill) -> list[str]:
    drill.finish_measures()
    phases = drill.record.rto.phases
    for before, after in itertools.pairwise(phases):
        assert before.finished_at == after.started_at, (before, after)
    total = sum(p.duration_s or 0 for p in phases)
    assert total == pytest.approx(drill.record.rto.measured_s, abs=0.002)
    return [p.name for p in phases]


def test_a_restore_is_measured_phase_after_phase() -> None:
    drill = _drill("pitr")
    inc = drill.incident
    inc.change_at, inc.monitor_invoked_at, inc.restore_started_at = _at(0), _at(0.2), _at(1.0)
    inc.restore_completed_at, inc.table_active_at, inc.verified_at = _at(3.0), _at(3.5), _at(3.6)
    assert _assert_consecutive_and_summing(drill) == [
        "harmful write -> monitor invoked",
        "monitor invoked -> restore started",
        "restore started -> restore completed",
        "restore completed -> table active",
        "table active -> data verified",
    ]


def test_an_in_place_repair_is_measured_phase_after_phase() -> None:
    drill = _drill("item")
    inc = drill.incident
    inc.change_at, inc.monitor_invoked_at, inc.repaired_at = _at(0), _at(0.05), _at(0.4)
    assert _assert_consecutive_and_summing(drill) == [
        "harmful write -> monitor invoked",
        "monitor invoked -> item repaired",
    ]
    assert drill.record.rto.measured_s == 0.4


def test_a_repair_without_an_observed_invocation_is_one_phase() -> None:
    drill = _drill("item")
    drill.incident.change_at, drill.incident.repaired_at = _at(0), _at(0.4)
    assert _assert_consecutive_and_summing(drill) == ["harmful write -> item repaired"]
