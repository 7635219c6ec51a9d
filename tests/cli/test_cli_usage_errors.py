"""Bad input: exit code 2, exactly one line on stderr, never a traceback, nothing left behind."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import POSTURE, Result


def assert_usage_error(result: Result, *needles: str, before_any_scenario: bool = True) -> str:
    """Exit 2 and one line on stderr. Found before any scenario ran, it is all the user sees: stdout stays empty
    (no pytest session header, no ``! _pytest.outcomes.Exit: ... !``). Found by a step, stdout shows the
    scenario's progress, but still no traceback."""
    assert result.code == 2, (result.code, result.stdout[-2000:], result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "Exit:" not in result.stdout, result.stdout[-2000:]
    assert not [line for line in result.stdout.splitlines() if line.startswith(("E   ", ">   "))], result.stdout
    if before_any_scenario:
        assert result.stdout == "", result.stdout[-2000:]
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
    line = assert_usage_error(drdrill("run", str(path)), f"{path}:4", "malformed Gherkin", "'Scenario Outline'")
    assert "expected" in line and "Scenario:" in line  # the parser's complaint, not "Unknown parsing error"
    assert "Unknown parsing error" not in line


@pytest.mark.parametrize(
    ("text", "where", "needles"),
    [
        (
            'Feature: x\n  Scenario: s\n    Given a DR-protected table "orders" with 3 items\n'
            "    Whem 3 items are deleted\n    Then a restore job completes within 60 seconds\n",
            ":4",
            ("found 'Whem 3 items are deleted'", "expected a step", "did you mean 'When'"),
        ),
        (
            'Feature: x\n  Scenario: s\n    Given a DR-protected table "orders" with 3 items\n'
            "      | a | b |\n      | c |\n    Then a restore job completes within 60 seconds\n",
            ":5",
            ("inconsistent cell count",),
        ),
        (
            'Feature: x\n  Scenario: s\n    Given a DR-protected table "orders" with 3 items\n      """\n      open\n',
            ":6",
            ("ends too early", 'doc string delimiter (""")'),
        ),
    ],
    ids=["mistyped-keyword-after-a-step", "table-cells", "open-doc-string"],
)
def test_malformed_gherkin_says_what_the_parser_expected(drdrill, feature, text, where, needles) -> None:
    path = feature(text)
    line = assert_usage_error(drdrill("run", str(path)), f"{path}{where}: malformed Gherkin", *needles)
    assert "Unknown parsing error" not in line and "Parser errors" not in line


@pytest.mark.parametrize("text", ["", "\n  \n", "# only a comment\n"], ids=["empty", "blank", "comment-only"])
def test_empty_feature_file(drdrill, feature, text: str) -> None:
    path = feature(text)
    line = assert_usage_error(drdrill("run", str(path)), f"{path}: empty feature file (no Feature: line)")
    assert "'feature'" not in line


@pytest.mark.parametrize(
    ("text", "line_no", "needles"),
    [
        (  # the audit's case: the step became the scenario's description and the run passed
            'Feature: x\n  Scenario: s\n    Gven a DR-protected table "orders" with 5 items\n'
            "    Then point-in-time recovery is enabled on the table\n",
            3,
            ("'Gven' is not a Gherkin keyword", 'Given a DR-protected table "orders" with 5 items', "scenario 's'"),
        ),
        (  # typos in the keyword and in the step: still close to a known step
            'Feature: x\n  Scenario: s\n    Gven a DR-protectd table "orders" with 5 items\n'
            "    Then point-in-time recovery is enabled on the table\n",
            3,
            ("'Gven'", "did you mean 'Given'"),
        ),
        (  # a step before the first Scenario is the feature's description
            "Feature: x\n  Thne a restore job completes within 60 seconds\n  Scenario: s\n"
            '    Given a DR-protected table "orders" with 5 items\n'
            "    Then point-in-time recovery is enabled on the table\n",
            2,
            ("feature description", "'Thne'", "Then a restore job completes within 60 seconds"),
        ),
        (  # no keyword at all
            'Feature: x\n  Scenario: s\n    3 items are deleted\n    Given a DR-protected table "orders" with 5 items\n'
            "    Then point-in-time recovery is enabled on the table\n",
            3,
            ("without its keyword",),
        ),
        (  # a lower-case keyword is no keyword to Gherkin
            'Feature: x\n  Scenario: s\n    given a DR-protected table "orders" with 5 items\n'
            "    Then point-in-time recovery is enabled on the table\n",
            3,
            ("'given'", "Given a DR-protected"),
        ),
        (  # a mistyped Scenario: its steps would belong to nothing
            "Feature: x\n  Scenaro: hidden\n  Scenario: s\n"
            '    Given a DR-protected table "orders" with 5 items\n'
            "    Then point-in-time recovery is enabled on the table\n",
            2,
            ("'Scenaro'", "'Scenario:'"),
        ),
    ],
    ids=[
        "mistyped-given",
        "mistyped-keyword-and-step",
        "in-feature-description",
        "no-keyword",
        "lower-case",
        "scenaro",
    ],
)
def test_step_with_a_mistyped_or_missing_keyword_is_a_usage_error(drdrill, feature, text, line_no, needles) -> None:
    path = feature(text)
    assert_usage_error(drdrill("run", str(path)), f"{path}:{line_no}:", "never run", *needles)


def test_prose_descriptions_still_run(drdrill, feature, tmp_path: Path) -> None:
    """Descriptions that merely start like a keyword (The, An, Given that ...) are prose: the scenario runs."""
    path = feature(
        """Feature: Prose is prose
  The table is deleted by a bad deploy, and then the restore starts.
  An incident starts when 3 items are deleted.
  given that restore jobs take 5 seconds, the RTO holds

  Scenario: posture
    The restored table matches the table as it was before the change.
    Rules: one restore per incident
    Given a DR-protected table "orders" with 3 items
    Then point-in-time recovery is enabled on the table
""",
        name="prose.feature",
    )
    report = tmp_path / "prose-report"
    result = drdrill("run", str(path), "--report-dir", str(report), "-q")
    assert result.code == 0, result.stdout[-2000:] + result.stderr
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in journal["scenarios"]] == ["passed"]


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
    assert_usage_error(drdrill("run", str(path), "--report-dir", str(report)), needle, before_any_scenario=False)
    assert_nothing_left(report)


def test_absurd_seed_count(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 10000000 items
    Then point-in-time recovery is enabled on the table
"""
    )
    assert_usage_error(drdrill("run", str(path)), "10000000", "200,000", before_any_scenario=False)


@pytest.mark.parametrize("name", ["my orders", "orders!"])
def test_invalid_table_name(drdrill, feature, name: str) -> None:
    path = feature(
        f"""Feature: x
  Scenario: s
    Given a DR-protected table "{name}" with 3 items
    Then point-in-time recovery is enabled on the table
"""
    )
    assert_usage_error(drdrill("run", str(path)), repr(name), "table name", before_any_scenario=False)


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
    assert_usage_error(
        drdrill("run", str(path), "--report-dir", str(report)), "magic", "backup, pitr, item", before_any_scenario=False
    )
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


def _isolated_aws_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No credentials anywhere: empty config and credentials files, no instance metadata (no slow IMDS probe).
    run_drdrill already drops every inherited AWS_* variable."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("", encoding="utf-8")
    env = {
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


def test_aws_target_without_credentials(drdrill, tmp_path: Path) -> None:
    """AWS_REGION alone sets the region (botocore itself reads only AWS_DEFAULT_REGION); then the missing
    credentials are one line, quickly, before anything is created."""
    env = _isolated_aws_env(tmp_path, AWS_REGION="eu-west-1")
    report = tmp_path / "r"
    started = time.monotonic()
    result = drdrill(
        "run", str(POSTURE), "--target", "aws", "--allow-account", "111111111111", "--report-dir", str(report), env=env
    )
    elapsed = time.monotonic() - started
    line = assert_usage_error(result, "no AWS credentials", "AWS_PROFILE")
    assert "region" not in line
    assert elapsed < 30, f"took {elapsed:.0f} s: a credential or metadata timeout"
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert journal["scenarios"] == [] and journal["usage_errors"] == [line.removeprefix("drdrill: ")]


def test_aws_target_with_sts_unreachable(drdrill, tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    env = _isolated_aws_env(
        tmp_path,
        AWS_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="x",
        AWS_ENDPOINT_URL=endpoint,
    )
    result = drdrill("run", str(POSTURE), "--target", "aws", "--allow-account", "111111111111", env=env)
    assert_usage_error(result, "cannot reach AWS STS", endpoint)


def test_aws_target_without_region(drdrill, tmp_path: Path) -> None:
    env = _isolated_aws_env(tmp_path)
    result = drdrill("run", str(POSTURE), "--target", "aws", "--allow-account", "111111111111", env=env)
    assert_usage_error(result, "no AWS region", "AWS_REGION", "--region")


def test_plain_pytest_unknown_target_is_one_line(tmp_path: Path) -> None:
    """Plain pytest keeps its own usage-error exit code (4); the message is still one clear line."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--dr-target", "nope", str(POSTURE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "ERROR: unknown target 'nope': use one of embedded, localstack, aws (--dr-target / DRDRILL_TARGET)"
    ]
    assert "Traceback" not in done.stdout + done.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_localstack_unreachable(drdrill, tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    env = {"AWS_ENDPOINT_URL": endpoint}
    result = drdrill("run", str(POSTURE), "--target", "localstack", "--report-dir", str(tmp_path / "r"), env=env)
    assert_usage_error(result, endpoint, "localstack start")


@pytest.mark.parametrize(
    ("step", "needle"),
    [
        ("When 0 items are deleted", "changes nothing"),
        ("When 0 items are modified", "changes nothing"),
        ("When 0 items are inserted", "changes nothing"),
        ("When 300000 items are deleted", "cap of 200,000"),
    ],
)
def test_a_count_a_when_step_refuses_is_found_before_any_scenario(drdrill, feature, step: str, needle: str) -> None:
    path = feature(
        f"""Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    {step}
    Then a restore job completes within 60 seconds
"""
    )
    line = assert_usage_error(drdrill("run", str(path)), f"{path}:4", needle)
    assert step.split(" ", 1)[1] in line


def test_a_time_limit_beyond_the_cap_is_found_before_any_scenario(drdrill, feature) -> None:
    path = feature(
        """Feature: x
  Scenario: s
    Given a DR-protected table "orders" with 3 items
    When 1 item is deleted
    Then a restore job completes within 999999 seconds
"""
    )
    assert_usage_error(drdrill("run", str(path)), f"{path}:5", "24 hours")
