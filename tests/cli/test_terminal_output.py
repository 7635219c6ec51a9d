"""What ``drdrill run`` prints: Gherkin names, a violation as file:line + step + reason (no traceback), a closing
table and the report path; the CI step summary; all of it small enough for the places it goes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dr_infra.app.plan_scenarios import plan_scenarios
from dr_infra.app.terminal import plain_table, summary_rows
from dr_infra.report.journal import Journal, Measure, ScenarioRecord
from dr_infra.report.markdown import render_summary
from tests.cli.conftest import POSTURE, REPO, Result, run_drdrill

TOO_TIGHT = """Feature: A too-tight RTO
  Scenario: A deleted item is restored within an impossible target
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the DR policy requires an RTO of 1 second and an RPO of 60 seconds
    And restore jobs take 2 seconds
    When 1 item is deleted
    Then a restore job completes within 60 seconds
    And the RTO and RPO meet the DR policy
"""


def test_a_violation_is_one_line_without_a_traceback(drdrill, tmp_path: Path) -> None:
    feature = tmp_path / "features" / "deletion" / "tight.feature"
    feature.parent.mkdir(parents=True)
    feature.write_text(TOO_TIGHT, encoding="utf-8")
    summary = tmp_path / "step-summary.md"
    result = drdrill("run", "features", "--report-dir", "out", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr and "def _(" not in out and "site-packages" not in out
    assert "✗ Violated deletion | A deleted item is restored within an impossible target" in out
    assert "    features/deletion/tight.feature:10  And the RTO and RPO meet the DR policy\n" in out
    assert "    RTO " in out and "exceeds the target 1 s; slowest phase: " in out
    assert "test_a_deleted_item" not in out  # the Gherkin name, not pytest's function id
    # the closing table and where the report is
    assert "Verdict" in out and "RTO / target" in out and "/ 1.0 s" in out
    assert "report: out/report.html (verify with: drdrill verify out)" in out
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# DR drill") and "DR guarantees violated" in text and "`out`" in text


def test_verbose_keeps_pytests_traceback(drdrill, tmp_path: Path) -> None:
    feature = tmp_path / "features" / "deletion" / "tight.feature"
    feature.parent.mkdir(parents=True)
    feature.write_text(TOO_TIGHT, encoding="utf-8")
    result = drdrill("run", "features", "-v", "--report-dir", "out")
    assert result.code == 1
    assert "AssertionError" in result.stdout and "PASSED" not in result.stdout


#: A line of pytest's progress letters, e.g. ``...F  [100%]``: what ``drdrill run -q`` must not print.
PROGRESS_LETTERS = re.compile(r"^[.FEsxX]+\s*(\[\s*\d+%\])?$")


def _quiet_lines(result: Result) -> list[str]:
    """The run's stdout with its one varying figure (pytest's session time) blanked."""
    return [re.sub(r" in \d+(\.\d+)?s\b", " in <t>s", line) for line in result.stdout.splitlines()]


def test_quiet_prints_the_same_serially_and_under_n(tmp_path: Path) -> None:
    runs = {}
    for workers in ("0", "2"):
        cwd = tmp_path / f"n{workers}"
        cwd.mkdir()
        runs[workers] = run_drdrill("run", str(POSTURE), "-q", "-n", workers, "--report-dir", "out", cwd=cwd)
        assert runs[workers].code == 0, runs[workers].stdout + runs[workers].stderr
    serial, parallel = _quiet_lines(runs["0"]), _quiet_lines(runs["2"])
    assert parallel == serial
    assert not [line for line in serial if PROGRESS_LETTERS.match(line)], serial
    assert "bringing up nodes" not in runs["2"].stdout + runs["2"].stderr
    assert serial[-1] == "drdrill: report written to out/ (verdict: met)"
    assert not [line for line in serial[:-1] if line.startswith("drdrill:")]  # nor the "N drills at once" line


def test_quiet_violation_prints_no_letters_and_still_says_the_verdict(drdrill, feature) -> None:
    path = feature(
        """Feature: posture with a stricter plan
  Scenario: the plan must run every 6 hours
    Given a DR-protected table "orders" with 3 items
    Then the backup plan runs every 6 hours and keeps recovery points for 35 days
"""
    )
    result = drdrill("run", str(path), "-q", "-n", "0", "--report-dir", "out")
    assert result.code == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines if PROGRESS_LETTERS.match(line)], lines
    assert "Violated" not in result.stdout  # no scenario line either: -q is only the result
    assert lines[-1] == "drdrill: report written to out/ (verdict: violated)"


def _shipped_journal() -> dict:
    """A journal with one scenario per shipped scenario (names and files as collected), all measured."""
    journal = Journal(run_id="r", target={"name": "embedded", "region": "us-east-1"})
    for n, planned in enumerate(plan_scenarios([str(REPO / "features")], root=REPO)):
        path = Path(planned.feature_file)
        record = ScenarioRecord(
            id=f"{planned.feature_file}::{n}",
            name=planned.name,
            feature=path.stem,
            feature_file=str(path.relative_to(REPO)),
            guarantee=path.parent.name,
            rto=Measure(30.0, 2.5, True),
            rpo=Measure(60.0, 1.1, True),
        )
        journal.scenarios.append(record)
    journal.finish()
    return json.loads(json.dumps(journal.to_dict()))


def test_step_summary_of_the_shipped_features_is_under_64_kb() -> None:
    data = _shipped_journal()
    assert len(data["scenarios"]) >= 30
    summary = render_summary(data, "reports/20261201t000000-abcd")
    assert len(summary.encode("utf-8")) < 64_000
    assert all(s["name"].split()[0] in summary for s in data["scenarios"])


def test_plain_table_lines_up() -> None:
    data = _shipped_journal()
    text = plain_table(["Verdict", "Guarantee", "Scenario", "RTO / target", "RPO / target"], summary_rows(data))
    lines = text.splitlines()
    assert len(lines) == len(data["scenarios"]) + 2
    column = lines[0].index("RTO / target")
    assert all(line[column:].startswith("2.5 s / 30.0 s") for line in lines[2:])
