"""An RTO's AWS seconds under aws-scaled: modelled latencies / scale, the target's own work as measured."""

from __future__ import annotations

import pytest

from dr_infra.drill.aws_time import phase_equivalent, rto_equivalent
from dr_infra.report.journal import Phase

SCALE = 0.01


def _phase(name: str, seconds: float) -> Phase:
    return Phase(name, "2026-12-02T00:00:00Z", "2026-12-02T00:00:01Z", seconds)


RESTORE = [
    _phase("harmful write -> monitor invoked", 0.4),
    _phase("monitor invoked -> restore started", 0.6),
    _phase("restore started -> restore completed", 12.0),
    _phase("restore completed -> table active", 0.5),
    _phase("table active -> data verified", 1.5),
]


def test_a_restore_counts_its_modelled_latency_divided_by_the_scale_and_its_work_as_measured() -> None:
    assert rto_equivalent(RESTORE, 15.0, SCALE) == pytest.approx(0.4 + 0.6 + 1200 + 50 + 1.5)


def test_a_repair_in_place_is_work_only_so_its_aws_time_is_its_wall_time() -> None:
    repair = [_phase("harmful write -> monitor invoked", 0.5), _phase("monitor invoked -> item repaired", 7.1)]
    assert rto_equivalent(repair, 7.6, SCALE) == pytest.approx(7.6)
    assert [phase_equivalent(p, SCALE) for p in repair] == [0.5, 7.1]


def test_time_no_phase_covers_is_divided_by_the_scale_so_it_is_never_judged_kindlier() -> None:
    # only the first phase was observed: the other 2 s are of unknown kind and count as modelled latency
    assert rto_equivalent(RESTORE[:1], 2.4, SCALE) == pytest.approx(0.4 + 200)


def test_the_cold_start_is_added_back_at_its_aws_length() -> None:
    assert rto_equivalent(RESTORE, 15.0, SCALE, cold_start_s=0.99) == pytest.approx(1252.5 + 0.99)


def test_without_a_scale_the_measured_figure_is_the_aws_figure() -> None:
    assert rto_equivalent(RESTORE, 15.0, 1.0) == 15.0


def test_a_phase_without_a_duration_has_no_equivalent() -> None:
    assert phase_equivalent(Phase("restore started -> restore completed", None, None, None), SCALE) is None
