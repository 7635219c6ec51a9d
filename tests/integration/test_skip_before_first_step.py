"""A scenario the target cannot run is skipped before its first step creates anything, with the reason
``drdrill plan`` prints for it (issue 19: on AWS a chaos scenario used to provision a stack and wait for a
backup job only to skip at its fault step)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dr_infra.app.cli import main
from dr_infra.app.plan_scenarios import plan_scenarios
from dr_infra.targets.capabilities import EMBEDDED_ONLY
from dr_infra.targets.embedded.target import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "features" / "restore_faults" / "hostile_restore_path.feature"


def test_scenarios_needing_missing_switches_skip_before_provisioning_with_the_plans_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lacking = frozenset(EmbeddedTarget(region="us-east-1").capabilities) - EMBEDDED_ONLY
    monkeypatch.setattr(EmbeddedTarget, "capabilities", property(lambda self: lacking))
    keyword = "Throttled or younger or fails"
    out = tmp_path / "report"
    # -n 0: the capabilities are patched in this process, which workers (drdrill run's default -n) would not see
    code = main(["run", str(HOSTILE), "-k", keyword, "--report-dir", str(out), "-q", "-n", "0"])
    capsys.readouterr()
    journal = json.loads((out / "report.json").read_text(encoding="utf-8"))
    by_name = {s["name"]: s for s in journal["scenarios"]}
    planned = plan_scenarios([str(HOSTILE)], keyword)
    assert len(planned) == len(by_name) == 5
    for scenario in planned:
        expected = scenario.skipped_on("embedded", lacking)
        record = by_name[scenario.name]
        if expected is None:  # the table younger than its first backup needs no fault switch: it runs
            assert record["status"] == "passed", record
            continue
        assert record["status"] == "skipped" and record["skip_reason"] == expected, record
        assert record["cleanup"].get("deleted", 0) == 0, record["cleanup"]  # no stack was ever created
        assert all(step["status"] != "passed" for step in record["steps"]), record["steps"]
    assert code == 0


def test_a_plan_cadence_scenario_without_a_plan_clock_skips_before_provisioning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As on aws: 'the backup plan has run 3 times' would wait for the plan's own runs, 12 hours apart, longer
    than the policy's backup.job_timeout_seconds, so the scenario skips before its first step, with the reason
    ``drdrill plan`` gives, and no stack is created (it used to skip after provisioning one)."""
    lacking = frozenset(EmbeddedTarget(region="us-east-1").capabilities) - {"plan_clock"}
    monkeypatch.setattr(EmbeddedTarget, "capabilities", property(lambda self: lacking))
    out = tmp_path / "report"
    code = main(["run", str(REPO / "features" / "plan_rpo"), "--report-dir", str(out), "-q", "-n", "0"])
    capsys.readouterr()
    (record,) = json.loads((out / "report.json").read_text(encoding="utf-8"))["scenarios"]
    assert record["status"] == "skipped", record
    assert record["skip_reason"].startswith("waiting for 3 more runs of the stack's new backup plan"), record
    assert "backup.job_timeout_seconds of 60 s" in record["skip_reason"]
    assert record["cleanup"].get("deleted", 0) == 0 and record["steps"] == [], record
    assert code == 1  # nothing was measured
