"""The main job end to end: a passing run, a violated run, re-rendering, and the standalone server."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import boto3
import pytest

from tests.cli.conftest import DRDRILL, POSTURE, REPO, run_drdrill


def test_posture_run_passes_and_writes_the_report(drdrill, tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = drdrill("run", str(POSTURE), "--report-dir", str(report), "-q")
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    assert "Traceback" not in result.stderr
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert journal["status"] == "met"
    assert [s["status"] for s in journal["scenarios"]] == ["passed"] * 3
    scenario = journal["scenarios"][0]
    assert scenario["posture"] and all(check["ok"] for check in scenario["posture"])
    assert scenario["cleanup"]["failed"] == [] and scenario["cleanup"]["deleted"] > 0
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert journal["run_id"] in markdown


def test_a_failing_then_is_a_violation(drdrill, feature, tmp_path: Path) -> None:
    path = feature(
        """Feature: posture with a stricter plan
  Scenario: the plan must run every 6 hours
    Given a DR-protected table "orders" with 3 items
    Then the backup plan runs every 6 hours and keeps recovery points for 35 days
    And the backup selection covers the table
"""
    )
    report = tmp_path / "report"
    result = drdrill("run", str(path), "--report-dir", str(report), "-q")
    assert result.code == 1, result.stdout[-3000:] + result.stderr
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert journal["status"] == "violated"
    scenario = journal["scenarios"][0]
    assert scenario["status"] == "failed"
    assert "backup frequency" in scenario["failure"]
    assert "every 6 hours" in scenario["failure"]
    assert scenario["cleanup"]["failed"] == []  # the failed scenario was still torn down


def test_report_rerenders_a_journal(drdrill, tmp_path: Path) -> None:
    journal = REPO / "tests" / "fixtures" / "journals" / "violated.json"
    out = tmp_path / "rendered"
    result = drdrill("report", str(journal), "--format", "md", "--out", str(out))
    assert result.code == 0, result.stderr
    assert (out / "report.md").is_file()
    run_id = json.loads(journal.read_text(encoding="utf-8"))["run_id"]
    assert run_id in (out / "report.md").read_text(encoding="utf-8")
    assert not (out / "report.html").exists()  # only the asked-for format


def test_report_of_a_missing_journal_is_a_usage_error(drdrill, tmp_path: Path) -> None:
    result = drdrill("report", str(tmp_path / "absent.json"))
    assert result.code == 2
    assert len(result.error_lines) == 1 and "absent.json" in result.stderr


def test_serve_answers_boto3(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(DRDRILL), "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        endpoint = first.strip().rsplit(" ", 1)[-1]
        assert endpoint.startswith("http://127.0.0.1:"), first
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="drdrill-embedded",
            aws_secret_access_key="drdrill-embedded-secret",
        )
        client.create_table(
            TableName="served",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert "served" in client.list_tables()["TableNames"]
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0


def test_tags_select_scenarios_by_their_gherkin_tags(drdrill, feature, tmp_path: Path) -> None:
    """--tags takes a pytest -m expression over the feature's Gherkin tags (registered, so strict markers pass)."""
    path = feature(
        """@nightly
Feature: tagged
  @smoke
  Scenario: tagged posture
    Given a DR-protected table "orders" with 3 items
    Then point-in-time recovery is enabled on the table

  Scenario: untagged posture
    Given a DR-protected table "orders" with 3 items
    Then the table's stream carries new and old images
""",
        name="tagged.feature",
    )
    report = tmp_path / "tagged-report"
    result = drdrill("run", str(path), "--tags", "smoke and nightly", "--report-dir", str(report), "-q")
    assert result.code == 0, result.stderr
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in journal["scenarios"]] == ["tagged posture"]
    assert journal["scenarios"][0]["tags"] == ["smoke"]


def test_tags_may_name_drdrills_own_tags_that_the_selected_features_lack(drdrill, feature, tmp_path: Path) -> None:
    """`--tags "not chaos"` over features without @chaos was refused as an unknown marker (pytest 9 checks -m
    against registered markers in a repo with --strict-markers, and only collected features registered theirs); a
    tag used nowhere still is."""
    path = feature(
        """Feature: tagged
  @smoke
  Scenario: tagged posture
    Given a DR-protected table "orders" with 3 items
    Then point-in-time recovery is enabled on the table
""",
        name="tagged.feature",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\n", encoding="utf-8")  # a strict repo
    report = tmp_path / "tagged-report"
    result = drdrill("run", str(path), "--tags", "smoke and not chaos", "--report-dir", str(report), "-q")
    assert result.code == 0, result.stderr
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in journal["scenarios"]] == ["tagged posture"]
    typo = drdrill("run", str(path), "--tags", "smoke and not chaoss", "--report-dir", str(tmp_path / "typo"))
    assert typo.code == 2 and "Traceback" not in typo.stderr
    assert len(typo.error_lines) == 1 and "chaoss" in typo.error_lines[0], typo.stderr


def test_serve_on_a_busy_port_is_one_line_not_a_hang(tmp_path: Path) -> None:
    """werkzeug printed "Address already in use" from its thread and start() waited forever."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_drdrill("serve", "--port", str(port), cwd=tmp_path, timeout=60)
    assert result.code == 2, result.stdout + result.stderr
    assert result.error_lines == [
        f"drdrill: port {port} on 127.0.0.1 is in use: pick another with --port or omit it for a free one"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http"])
def test_serve_rejects_what_is_not_a_port(tmp_path: Path, port: str) -> None:
    result = run_drdrill("serve", "--port", port, cwd=tmp_path, timeout=60)
    assert result.code == 2, result.stdout + result.stderr
    assert len(result.error_lines) == 1 and "--port" in result.stderr and "not a port number" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
