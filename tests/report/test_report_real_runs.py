"""Real runs' report.json validate against the published schema, and their reports read well.

The other report tests render hand-made sample journals; these run the real ``drdrill`` (one small drill on
the embedded target, and one run stopped by a usage error) so the schema and the renderers cannot drift
from what the evidence producers actually write.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dr_infra.report import journal_schema
from tests.cli.conftest import run_drdrill

BAD_FEATURE = """Feature: a typo
  Scenario: an unknown step
    Given a DR-protected table "orders" with 5 items
    When the moon falls
    Then a restore job completes within 60 seconds
"""


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(journal_schema(), format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def backup_run(real_run_report: Path) -> Path:
    """Two small real drills (backup and pitr) on the embedded target, see ``conftest.real_run_report``."""
    return real_run_report


@pytest.fixture(scope="module")
def usage_error_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("real-usage")
    feature = work / "features" / "bad.feature"
    feature.parent.mkdir()
    feature.write_text(BAD_FEATURE, encoding="utf-8")
    out = work / "report"
    result = run_drdrill("run", str(feature), "--report-dir", str(out), "-q", cwd=work)
    assert result.code == 2, result.stdout[-3000:] + result.stderr
    return out


def by_strategy(data: dict[str, Any], strategy: str) -> dict[str, Any]:
    found = [s for s in data["scenarios"] if s["strategy"] == strategy]
    assert len(found) == 1, [s["name"] for s in data["scenarios"]]
    return found[0]


def journal(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def errors(validator: jsonschema.Draft202012Validator, data: dict[str, Any]) -> list[str]:
    found = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message[:200]}" for e in found]


def test_real_drill_journal_validates(validator: jsonschema.Draft202012Validator, backup_run: Path) -> None:
    data = journal(backup_run)
    assert errors(validator, data) == []
    assert data["status"] == "met", [s.get("failure") for s in data["scenarios"]]
    evidence = by_strategy(data, "backup")["evidence"]
    # the shapes the audit found undocumented are really there, so this test exercises them
    assert isinstance(evidence["stack"], dict) and isinstance(evidence["change"], dict)
    assert isinstance(evidence["policy_step"], dict)
    assert {"compared_expected", "compared_actual", "summary", "equal", "table", "expected_at"} <= set(
        evidence["diff"][0]
    )
    assert errors(validator, data) == []


def test_real_usage_error_journal_validates(validator: jsonschema.Draft202012Validator, usage_error_run: Path) -> None:
    data = journal(usage_error_run)
    assert data["status"] == "usage-error" and data["usage_errors"]
    assert errors(validator, data) == []


def test_schema_documents_the_real_evidence_and_diff_fields(backup_run: Path) -> None:
    """Every evidence key and diff field a real drill writes has its own schema entry, not only a catch-all."""
    defs = journal_schema()["$defs"]
    for scenario in journal(backup_run)["scenarios"]:
        assert set(scenario["evidence"]) <= set(defs["evidence"]["properties"]), scenario["name"]
    evidence = by_strategy(journal(backup_run), "backup")["evidence"]
    assert set(evidence["diff"][0]) <= set(defs["diff"]["properties"])
    assert set(evidence["restore_jobs"][0]) <= set(defs["restore_job"]["properties"])


def test_schema_stays_strict_where_it_matters(validator: jsonschema.Draft202012Validator, backup_run: Path) -> None:
    data = journal(backup_run)

    def broken(change: Any) -> dict[str, Any]:
        doc = json.loads(json.dumps(data))
        change(doc)
        return doc

    def set_diff_count(doc: dict[str, Any]) -> None:
        doc["scenarios"][0]["evidence"]["diff"][0]["compared_expected"] = "fifty"

    def restore_jobs_as_dict(doc: dict[str, Any]) -> None:
        doc["scenarios"][0]["evidence"]["restore_jobs"] = doc["scenarios"][0]["evidence"]["restore_jobs"][0]

    def target_without_name(doc: dict[str, Any]) -> None:
        del doc["target"]["name"]

    def bad_example_kind(doc: dict[str, Any]) -> None:
        doc["scenarios"][0]["evidence"]["diff"][0]["examples"] = [{"kind": "vanished", "key": {}}]

    for change in (set_diff_count, restore_jobs_as_dict, target_without_name, bad_example_kind):
        assert not validator.is_valid(broken(change)), change.__name__


def test_real_report_reads_well(backup_run: Path) -> None:
    data = journal(backup_run)
    diff = by_strategy(data, "backup")["evidence"]["diff"][0]
    arns = [p["arn"] for p in by_strategy(data, "backup")["evidence"]["recovery_points"]]
    page = (backup_run / "report.html").read_text(encoding="utf-8")
    text = (backup_run / "report.md").read_text(encoding="utf-8")
    for report in (page, text):
        assert "? items" not in report and "? compared" not in report
        assert f"{diff['compared_expected']} items expected, {diff['compared_actual']} found" in report
        assert diff["summary"] in report
    recovery_table = re.search(r'<table class="recovery-points">.*?</table>', page, re.S)
    assert recovery_table is not None
    for arn in set(arns):
        assert recovery_table.group(0).count(arn) == 1
    assert "{'prefix'" not in text and "<li>prefix: " in page


def test_real_restore_jobs_csv_has_the_backup_job_and_the_pitr_restore(backup_run: Path) -> None:
    data = journal(backup_run)
    with (backup_run / "restore-jobs.csv").open(encoding="utf-8", newline="") as handle:
        body = list(csv.DictReader(handle))
    job = by_strategy(data, "backup")["evidence"]["restore_jobs"][0]
    pitr = by_strategy(data, "pitr")
    assert [r["drdrill Restore Type"] for r in body] == ["AWS Backup restore job", "PITR"]
    assert body[0]["Restore Job ID"] == job["job_id"]
    row = body[1]
    restored = pitr["evidence"]["diff"][0]["table"]
    assert row["Restore Job ID"] == f"pitr:{restored}" and row["Created Resource ARN"].endswith(f":table/{restored}")
    assert row["Resource ARN"].endswith(":table/" + pitr["evidence"]["stack"]["table"])
    assert row["drdrill PITR Restore Time"] == pitr["evidence"]["restore_times"][0]
    phase = next(p for p in pitr["rto"]["phases"] if p["name"] == "restore started -> restore completed")
    assert (row["Creation Date"], row["Completion Date"]) == (phase["started_at"], phase["finished_at"])
    assert row["Job Status"] == "COMPLETED" and row["Account ID"] == data["target"]["account_id"]
