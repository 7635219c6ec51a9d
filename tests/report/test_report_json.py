"""report.json is the journal as-is, and it validates against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dr_infra.report import journal_schema
from dr_infra.report.journal import Journal
from tests.report import journals


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = journal_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_rendered_reports_validate(
    validator: jsonschema.Draft202012Validator,
    passed_report: Path,
    violated_report: Path,
    hostile_report: Path,
    redacted_report: Path,
) -> None:
    for folder in (passed_report, violated_report, hostile_report, redacted_report):
        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_report_json_is_the_journal(passed_report: Path, fixtures_dir: Path) -> None:
    rendered = json.loads((passed_report / "report.json").read_text(encoding="utf-8"))
    assert rendered == json.loads((fixtures_dir / "passed.json").read_text(encoding="utf-8"))
    assert Journal.from_dict(rendered).to_dict() == rendered


def test_checked_in_samples_match_the_factory(fixtures_dir: Path) -> None:
    """The samples under tests/fixtures/journals are what ``python -m tests.report.journals`` writes."""
    expected = {"passed.json": journals.passed_journal(), "violated.json": journals.violated_journal()}
    expected |= {f"history/{j.run_id}.json": j for j in journals.history_journals()}
    for name, journal in expected.items():
        on_disk = json.loads((fixtures_dir / name).read_text(encoding="utf-8"))
        on_disk.pop("drdrill_version")
        made = journals.as_dict(journal)
        made.pop("drdrill_version")
        assert on_disk == made, f"{name} is stale: run python -m tests.report.journals"


def test_schema_rejects_what_it_should(validator: jsonschema.Draft202012Validator, passed_data: dict) -> None:
    assert validator.is_valid(passed_data)
    bad_status = {**passed_data, "status": "green"}
    renamed = {**passed_data, "runId": passed_data["run_id"]}
    bad_scenario = json.loads(json.dumps(passed_data))
    bad_scenario["scenarios"][0]["status"] = "ok"
    bad_measure = json.loads(json.dumps(passed_data))
    bad_measure["scenarios"][0]["rto"]["measured_s"] = "fast"
    for doc in (bad_status, renamed, bad_scenario, bad_measure):
        assert not validator.is_valid(doc)


def test_schema_documents_every_field(passed_data: dict) -> None:
    """Every field the dataclasses write has a schema entry (a new field must be documented)."""
    schema = journal_schema()
    defs = schema["$defs"]
    assert set(passed_data) <= set(schema["properties"])
    scenario = passed_data["scenarios"][0]
    assert set(scenario) <= set(defs["scenario"]["properties"])
    assert set(scenario["rto"]) <= set(defs["measure"]["properties"])
    assert set(scenario["rto"]["phases"][0]) <= set(defs["phase"]["properties"])
    assert set(scenario["steps"][0]) <= set(defs["step"]["properties"])
    assert set(scenario["evidence"]["restore_jobs"][0]) <= set(defs["restore_job"]["properties"])

    def described(node: object) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub or "$ref" in sub, f"schema property {name!r} has no description"
            for value in node.values():
                described(value)
        elif isinstance(node, list):
            for value in node:
                described(value)

    described(schema)
