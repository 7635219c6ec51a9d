"""Bad input: exit code 2, exactly one line on stderr, never a traceback, nothing left behind."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.cli.conftest import POSTURE, Result


def assert_usage_error(result: Result, *needles: str) -> str:
    assert result.code == 2, (result.code, result.stdout[-2000:], result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    for needle in needles:
        assert needle in line, line
    return line


def assert_nothing_left(report_dir: Path) -> None:
    """Every scenario that created resources deleted them all (the cleanup record of the journal)."""
    journal = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    for scenario in journal["scenarios"]:
        assert scenario["cleanup"].get("failed", []) == [], scenario["cleanup"]


def test_unknown_target(drdrill) -> None:
    assert_usage_error(drdrill("run", str(POSTURE), "--target", "nope"), "nope", "embedded")


def test_nonexistent_path(drdrill) -> None:
    assert_usage_error(drdrill("run", "nonexistent/"), "nonexistent")


def test_unknown_step_names_file_line_and_suggests(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    When 3 itemz are deleted
    Then a restore job completes within 60 seconds
"""
    )
    line = assert_usage_error(drdrill("run", str(path)), f"{path}:4", "itemz", "nearest known steps")
    assert "are deleted" in line.split("nearest known steps", 1)[1]


def test_malformed_gherkin(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
  Scenario Outline
"""
    )
    assert_usage_error(drdrill("run", str(path)), str(path), "malformed Gherkin")


def test_scenario_without_then(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: nothing proven
    Given a DR-protected table "orders" with 3 items
    When 1 item is deleted
"""
    )
    assert_usage_error(drdrill("run", str(path)), f"{path}:2", "no Then")


def test_step_hidden_in_a_scenario_description(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Then: a restore job completes within 60 seconds
    Given a DR-protected table "orders" with 3 items
    When 1 item is deleted
    Then a restore job completes within 60 seconds
"""
    )
    assert_usage_error(drdrill("run", str(path)), str(path), "Then: a restore job")


def test_step_with_colon_after_the_steps(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    When 1 item is deleted
    Then: a restore job completes within 60 seconds
"""
    )
    assert_usage_error(drdrill("run", str(path)), f"{path}:5", "colon")


@pytest.mark.parametrize(
    ("step", "needle"),
    [
        ("When -3 items are deleted", "negative"),
        ("When 10000000 items are deleted", "200,000"),
    ],
)
def test_bad_counts(drdrill, feature, tmp_path: Path, step: str, needle: str) -> None:
    path = feature(
        f"""Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    {step}
    Then a restore job completes within 60 seconds
"""
    )
    report = tmp_path / "report"
    assert_usage_error(drdrill("run", str(path), "--report-dir", str(report)), needle)
    assert_nothing_left(report)


def test_absurd_seed_count(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 10000000 items
    Then point-in-time recovery is enabled on the table
"""
    )
    assert_usage_error(drdrill("run", str(path)), "10000000", "200,000")


@pytest.mark.parametrize("name", ["my orders", "orders!"])
def test_invalid_table_name(drdrill, feature, name: str) -> None:
    path = feature(
        f"""Feature: x
  Scenario: s
    Given a DR-protected table "{name}" with 3 items
    Then point-in-time recovery is enabled on the table
"""
    )
    assert_usage_error(drdrill("run", str(path)), repr(name), "table name")


def test_unknown_strategy(drdrill, feature, tmp_path: Path) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    And the change monitor restores with the "magic" strategy
    When 1 item is deleted
    Then a restore job completes within 60 seconds
"""
    )
    report = tmp_path / "report"
    assert_usage_error(drdrill("run", str(path), "--report-dir", str(report)), "magic", "backup, pitr, item")
    assert_nothing_left(report)


@pytest.mark.parametrize(
    ("text", "needle"),
    [("[defaults\nrto_seconds = 1\n", "not valid TOML"), ("[defaults]\nbogus = 1\n", "defaults.bogus")],
)
def test_malformed_policy(drdrill, tmp_path: Path, text: str, needle: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    assert_usage_error(drdrill("run", str(POSTURE), "--policy", str(policy)), str(policy), needle)


def test_aws_target_without_allow_list(drdrill, tmp_path: Path) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    line = assert_usage_error(
        drdrill("run", str(POSTURE), "--target", "aws", "--report-dir", str(tmp_path / "r"), env=env), "allow"
    )
    assert "--dr-allow-account" in line or "--allow-account" in line


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_localstack_unreachable(drdrill, tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    env = {"AWS_ENDPOINT_URL": endpoint}
    result = drdrill("run", str(POSTURE), "--target", "localstack", "--report-dir", str(tmp_path / "r"), env=env)
    assert_usage_error(result, endpoint, "localstack start")
