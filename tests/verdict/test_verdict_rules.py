"""One function decides: the rules of :mod:`dr_infra.report.verdict`, and every renderer reading them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dr_infra.report.model import build
from dr_infra.report.verdict import Verdict, run_verdict, scenario_status, unexpected_violations


def _scenario(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "s1",
        "name": "a deleted item comes back",
        "status": "passed",
        "rto": {"target_s": 2.0, "measured_s": 1.5, "met": True, "note": None, "phases": []},
        "rpo": {"target_s": 5.0, "measured_s": 0.5, "met": True, "note": None, "phases": []},
        "evidence": {},
    }
    base.update(overrides)
    return base


def _journal(*scenarios: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"status": "met", "finished_at": "2026-12-01T00:00:00Z", "scenarios": list(scenarios), **top}


def test_a_passed_scenario_within_its_targets_is_met() -> None:
    assert scenario_status(_scenario()) == "passed"
    assert run_verdict(_journal(_scenario())) is Verdict.MET


def test_a_recorded_violation_fails_a_scenario_whose_steps_passed() -> None:
    slow = _scenario(rto={"target_s": 2.0, "measured_s": 5.3, "met": False, "note": None, "phases": []})
    assert scenario_status(slow) == "failed"
    assert unexpected_violations(slow) == {"rto": "RTO 5.300 s exceeds the target 2 s"}
    assert run_verdict(_journal(slow, status="met")) is Verdict.VIOLATED  # a stale "met" cannot survive


def test_a_measure_over_its_target_is_a_violation_even_if_met_says_true() -> None:
    edited = _scenario(rpo={"target_s": 5.0, "measured_s": 9.0, "met": True, "note": None, "phases": []})
    assert scenario_status(edited) == "failed"


def test_an_expected_violation_of_that_measure_keeps_the_run_met() -> None:
    faulted = _scenario(
        rto={"target_s": 2.0, "measured_s": 7.0, "met": False, "note": "restore jobs take 5 s", "phases": []},
        evidence={"expected_violation": [{"measure": "rto", "note": "restore jobs take 5 s"}]},
    )
    assert scenario_status(faulted) == "passed"
    assert run_verdict(_journal(faulted)) is Verdict.MET


def test_an_expected_rto_violation_does_not_excuse_an_rpo_violation() -> None:
    both = _scenario(
        rto={"target_s": 2.0, "measured_s": 7.0, "met": False, "note": None, "phases": []},
        rpo={"target_s": 5.0, "measured_s": 60.0, "met": False, "note": None, "phases": []},
        evidence={"expected_violation": [{"measure": "rto", "note": "slow"}]},
    )
    assert scenario_status(both) == "failed"
    assert set(unexpected_violations(both)) == {"rpo"}


@pytest.mark.parametrize(
    ("journal", "verdict"),
    [
        (_journal(_scenario(), usage_errors=["bad step"]), Verdict.USAGE_ERROR),
        (_journal(_scenario(status="interrupted")), Verdict.INTERRUPTED),
        (_journal(_scenario(status="skipped")), Verdict.NOT_MEASURED),
        (_journal(_scenario(), leaks=["table drdrill-x"]), Verdict.VIOLATED),
        (_journal(_scenario(status="error")), Verdict.VIOLATED),
        ({"status": "running", "finished_at": None, "scenarios": []}, Verdict.RUNNING),
    ],
)
def test_run_verdict_order(journal: dict[str, Any], verdict: Verdict) -> None:
    assert run_verdict(journal) is verdict


def test_the_report_banner_tables_and_counts_read_the_same_verdict() -> None:
    slow = _scenario(rto={"target_s": 2.0, "measured_s": 5.3, "met": False, "note": None, "phases": []})
    view = build(_journal(copy.deepcopy(slow), status="met"))
    assert view.status == "violated" and view.headline == "DR guarantees violated"
    assert view.scenarios[0].status == "failed" and view.scenarios[0].verdict == "Violated"
    assert "RTO 5.300 s exceeds the target 2 s" in view.scenarios[0].failure
    assert view.counts["failed"] == 1 and view.counts["passed"] == 0
    assert view.guarantees[0].verdict == ("Violated", "bad")
