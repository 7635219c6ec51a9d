"""The verdict is the measurements: a violated RTO fails the run even when no step checks the policy."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.cli.conftest import run_drdrill

SLOW_RESTORE_WITHOUT_POLICY_STEP = """Feature: a slow restore
  Scenario: the restore is slower than the policy allows, and no step says so
    Given a DR-protected table "orders" with 5 items
    And the change monitor restores with the "backup" strategy
    And the DR policy requires an RTO of 1 seconds and an RPO of 60 seconds
    And a recovery point of the table exists
    And restore jobs take 2 seconds
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the restored table matches the table as it was before the change
"""


def test_a_violated_rto_without_the_policy_step_fails_the_run_everywhere(tmp_path: Path) -> None:
    feature = tmp_path / "features" / "slow.feature"
    feature.parent.mkdir()
    feature.write_text(SLOW_RESTORE_WITHOUT_POLICY_STEP, encoding="utf-8")
    out = tmp_path / "report"
    result = run_drdrill("run", str(feature), "--report-dir", str(out), "-q", cwd=tmp_path)
    assert result.code == 1, result.stdout[-3000:] + result.stderr
    journal = json.loads((out / "report.json").read_text(encoding="utf-8"))
    scenario = journal["scenarios"][0]
    assert scenario["rto"]["met"] is False
    assert scenario["rto"]["measured_s"] > scenario["rto"]["target_s"] == 1
    assert journal["status"] == "violated"
    assert scenario["status"] == "failed"
    assert "RTO" in scenario["failure"] and "exceeds the target 1 s" in scenario["failure"]
    # every renderer says the same
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "DR guarantees violated" in html and "DR guarantees met" not in html
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "DR guarantees violated" in markdown and "DR guarantees met" not in markdown
    suite = ET.fromstring((out / "junit.xml").read_text(encoding="utf-8"))  # noqa: S314 - our own file
    failures = suite.findall(".//testcase/failure")
    assert len(failures) == 1 and "exceeds the target 1 s" in (failures[0].get("message") or "")
