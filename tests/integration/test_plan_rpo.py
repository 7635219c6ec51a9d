"""A backup-strategy drill on the plan's scheduled recovery points reports the plan's age as its RPO, not seconds."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import run_drdrill

FEATURE = """Feature: Plan cadence
  Scenario: Restored from the plan
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And the backup plan has run 3 times
    When 2 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the restore started from the right point
    And the RTO and RPO meet the DR policy

  Scenario: A one-minute RPO is not met by a 12-hour plan
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And the DR policy requires an RTO of 30 seconds and an RPO of 60 seconds
    And the backup plan has run 1 time
    When 1 item is deleted
    Then a restore job completes within the DR policy's RTO
    And the RTO and RPO meet the DR policy

  Scenario: Restored from an on-demand backup
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 1 item is deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
"""

TWELVE_HOURS = 12 * 3600


def test_the_rpo_is_the_age_of_the_plans_newest_run_and_the_report_says_who_made_the_point(tmp_path: Path) -> None:
    feature = tmp_path / "plan_rpo" / "cadence.feature"
    feature.parent.mkdir()
    feature.write_text(FEATURE, encoding="utf-8")
    out = tmp_path / "report"
    result = run_drdrill("run", str(feature), "--report-dir", str(out), "-q", cwd=tmp_path, timeout=300)
    assert result.code == 1, result.stdout[-3000:] + result.stderr  # the one-minute RPO is violated
    journal = json.loads((out / "report.json").read_text(encoding="utf-8"))
    plan, strict, on_demand = journal["scenarios"]

    assert plan["status"] == "passed", plan["failure"]
    # just before the plan's next run: the newest scheduled recovery point is almost 12 hours old
    assert TWELVE_HOURS - 300 <= plan["rpo"]["measured_s"] < TWELVE_HOURS, plan["rpo"]
    assert plan["rpo"]["met"] is True and plan["rpo"]["target_s"] == 43200  # policies/embedded.toml plan_rpo.backup
    (point,) = plan["evidence"]["recovery_points"]
    assert point["origin"].startswith("backup plan ")
    assert len(plan["evidence"]["backup_plan_runs"]["jobs"]) == 3
    assert "Made by" in (out / "report.md").read_text(encoding="utf-8")

    assert strict["status"] == "failed"
    assert strict["rpo"]["met"] is False and strict["rpo"]["measured_s"] > TWELVE_HOURS - 300
    assert "RPO" in strict["failure"]

    assert on_demand["status"] == "passed", on_demand["failure"]
    assert on_demand["rpo"]["measured_s"] < 60
    assert {p["origin"] for p in on_demand["evidence"]["recovery_points"]} == {"on demand"}


def test_a_run_count_out_of_range_is_a_usage_error_before_anything_is_created(tmp_path: Path) -> None:
    feature = tmp_path / "plan_rpo" / "bad.feature"
    feature.parent.mkdir()
    feature.write_text(FEATURE.replace("has run 3 times", "has run 0 times"), encoding="utf-8")
    result = run_drdrill("run", str(feature), "--report-dir", str(tmp_path / "r"), "-q", cwd=tmp_path)
    assert result.code == 2, result.stdout[-2000:] + result.stderr
    assert "the backup plan has run 0 times: use 1 to 50 runs" in result.stderr + result.stdout
