"""``drdrill plan``: every resource, the IAM documents and a cost estimate, without a single client call."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest

from dr_infra.app.cli import main
from dr_infra.app.plan import describe_plan, estimate_cost
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID, StackNames
from dr_infra.stack.pricing import BACKUP_PRICING_URL, DYNAMODB_PRICING_URL, LAMBDA_PRICING_URL

RUN_ID = re.compile(r"sample run id, (\d{8}t\d{6}-[0-9a-f]{4})")


@pytest.fixture(autouse=True)
def _no_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Touching nothing means never building a client: any attempt fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"drdrill plan built a boto3 client: {args} {kwargs}")

    monkeypatch.setattr(boto3.Session, "client", refuse)
    monkeypatch.setattr(boto3.Session, "resource", refuse)
    monkeypatch.setattr(boto3, "client", refuse)


def run_plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plan", "--target", "embedded", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("target", ["embedded", "localstack", "aws"])
def test_plan_names_every_resource_of_the_stack(capsys: pytest.CaptureFixture[str], target: str) -> None:
    code, out, _ = run_plan(capsys, "--target", target)
    assert code == 0
    match = RUN_ID.search(out)
    assert match, out[:300]
    names = StackNames(match.group(1), 1, "orders")
    for name in (
        names.table,
        names.ledger_table,
        names.vault,
        names.plan,
        names.selection,
        names.backup_role,
        names.monitor_role,
        names.monitor_function,
        names.reprotect_function,
        names.log_group(names.monitor_function),
        names.log_group(names.reprotect_function),
        names.restore_rule,
    ):
        assert name in out, f"{name} missing from the plan"
    settings = (
        "cron(0 */12 * * ? *)",
        "DeleteAfterDays",
        "EnableContinuousBackup",
        "ReportBatchItemFailures",
    )
    for setting in settings:
        assert setting in out
    assert "StartingPosition: TRIM_HORIZON" in out
    assert f"{TAG_MANAGED} = true" in out
    assert f"{TAG_RUN_ID} = {match.group(1)}" in out
    assert "Nothing was created" in out


def test_plan_prints_iam_documents_with_the_pass_role_condition(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_plan(capsys, "--account", "210987654321", "--region", "eu-west-1")
    assert code == 0
    assert '"iam:PassedToService": "backup.amazonaws.com"' in out
    assert '"Service": "lambda.amazonaws.com"' in out
    assert '"Service": "backup.amazonaws.com"' in out
    assert '"sts:AssumeRole"' in out
    assert "arn:aws:iam::210987654321:role/drdrill-" in out
    assert "arn:aws:dynamodb:eu-west-1:210987654321:table/drdrill-" in out


def test_plan_states_prices_sources_and_that_it_is_an_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_plan(capsys)
    for url in (DYNAMODB_PRICING_URL, BACKUP_PRICING_URL, LAMBDA_PRICING_URL):
        assert url in out
    assert "ESTIMATE" in out
    assert "$0.15 per GB restored" in out
    assert "recovery point kept 35 days" in out


def test_cost_is_positive_and_scales_with_table_size() -> None:
    small, large = estimate_cost(1.0), estimate_cost(10.0)
    assert small["total_usd"] > 0
    assert all(line["usd"] > 0 for line in small["lines"])
    assert large["total_usd"] > 5 * small["total_usd"]
    by_item = {line["item"]: line for line in large["lines"]}
    assert by_item["restores (per GB restored)"]["usd"] == pytest.approx(10 * 0.15)
    assert by_item["recovery point kept 35 days"]["usd"] == pytest.approx(10 * 0.10 * 35 / (365 / 12))
    json.dumps(large)  # a cost cap or a JSON report can carry it as is


def test_cli_cost_figures_follow_table_gb(capsys: pytest.CaptureFixture[str]) -> None:
    totals = []
    for gb in ("1", "20"):
        _, out, _ = run_plan(capsys, "--table-gb", gb)
        total = re.search(r"^\s+total\s+\$\s*([\d,.]+)$", out, re.MULTILINE)
        assert total, out[-800:]
        totals.append(float(total.group(1).replace(",", "")))
    assert 0 < totals[0] < totals[1]


@pytest.mark.parametrize("argv", [["--table-gb", "0"], ["--table-gb", "-3"], ["--account", "12345"]])
def test_bad_input_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run_plan(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("drdrill: --")


def test_describe_plan_matches_given_run_id() -> None:
    described = describe_plan("us-east-1", "123456789012", 1.0, run_id="20240101t000000-abcd")
    assert described["tags"] == {TAG_RUN_ID: "20240101t000000-abcd", TAG_MANAGED: "true"}
    assert {r["kind"] for r in described["resources"]} >= {
        "dynamodb table",
        "backup vault",
        "backup plan",
        "backup selection",
        "iam role",
        "lambda function",
        "log group",
        "event source mapping",
        "eventbridge rule",
    }


def test_plan_as_json_is_one_document_for_scripts() -> None:
    """`drdrill plan --format json` prints one JSON document with the resources, IAM and the cost estimate."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("drdrill")),
            "plan",
            "--target",
            "embedded",
            "--format",
            "json",
            "--table-gb",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    names = json.dumps(plan["resources"])
    assert "-monitor" in names and "-vault" in names
    assert "iam:PassRole" in json.dumps(plan["iam"])


# -- the run as a whole: one stack per scenario ----------------------------------------------------------------
def _drdrill() -> str:
    import sys
    from pathlib import Path

    return str(Path(sys.executable).with_name("drdrill"))


def _plan_json(*argv: str) -> dict[str, Any]:
    import subprocess

    done = subprocess.run(
        [_drdrill(), "plan", "--target", "embedded", "--format", "json", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_plan_counts_one_stack_per_shipped_scenario_and_the_restoring_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from dr_infra.app.cli import shipped_features

    code, out, _ = run_plan(capsys)
    assert code == 0
    scenario_lines = re.findall(r"^\s+- \[(restore|no restore)\] (.+?)  \((.+)\)$", out, re.MULTILINE)
    shipped = sum(text.count("\n  Scenario:") for text in
                  (p.read_text(encoding="utf-8") for p in shipped_features().rglob("*.feature")))  # fmt: skip
    assert shipped > 20 and len(scenario_lines) == shipped
    restoring = sum(1 for kind, _, _ in scenario_lines if kind == "restore")
    assert f"Run: {shipped} scenario(s) from " in out
    assert f"stacks: {shipped} (one per scenario" in out and "one after another" in out
    assert f"scenarios that start a restore: {restoring}" in out
    by_name = {name: kind for kind, name, _ in scenario_lines}
    assert by_name["The whole table is deleted"] == "restore"  # table loss
    assert by_name["Deleted items are restored to the second before the deletion"] == "restore"  # pitr
    assert by_name["Deleted items are repaired in place"] == "no restore"  # item strategy
    assert by_name["The change monitor watches the stream with least privilege"] == "no restore"  # posture
    assert by_name["A denied StartRestoreJob is reported as a restore that could not be started"] == "no restore"
    total = re.search(r"^Estimated cost of the run on AWS: \$([\d,.]+) \(ESTIMATE\) = (\d+) drill", out, re.MULTILINE)
    assert total and int(total.group(2)) == shipped
    per_drill = estimate_cost(1.0, restores=0)["total_usd"]
    per_restore = estimate_cost(1.0)["total_usd"] - per_drill
    assert float(total.group(1).replace(",", "")) == pytest.approx(shipped * per_drill + restoring * per_restore, 1e-4)


def test_plan_of_selected_paths_with_filters_and_workers_as_json() -> None:
    plan = _plan_json("features/deletion", "features/posture", "-k", "not posture", "-n", "2", "--table-gb", "3")
    run = plan["run"]
    names = [s["name"] for s in run["scenario_list"]]
    assert names == [
        "A deleted item is restored from the latest recovery point",
        "Deleted items are restored to the second before the deletion",
        "Deleted items are repaired in place",
    ]
    assert (run["scenarios"], run["stacks"], run["stacks_at_once"], run["restoring"]) == (3, 3, 2, 2)
    cost = run["cost"]
    assert cost["total_usd"] == pytest.approx(3 * cost["per_drill_usd"] + 2 * cost["per_restore_usd"])
    assert cost["per_drill_usd"] == pytest.approx(estimate_cost(3.0, restores=0)["total_usd"])
    tagged = _plan_json("features/posture", "--tags", "not nosuchtag")["run"]
    assert tagged["scenarios"] == 3 and tagged["restoring"] == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["no/such/folder"], "no such feature file or folder: no/such/folder"),
        (["-k", "(("], "-k '((' is not a valid expression"),
        (["--tags", "a b"], "--tags 'a b' is not a valid expression"),
        (["-k", "zzz-no-scenario"], "no scenario would run"),
        (["-n", "0"], "-n '0' must be a number"),
    ],
)
def test_plan_bad_paths_and_filters_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    code, out, err = run_plan(capsys, *argv)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and says in err, err


def test_a_malformed_feature_is_one_line_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    bad = tmp_path / "broken.feature"
    bad.write_text('Feature: x\n  Scenario: y\n    Given a step\n    """\n    never closed\n', encoding="utf-8")
    code, out, err = run_plan(capsys, str(tmp_path))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and str(bad) in err and "malformed Gherkin" in err, err


def _capped_run(tmp_path: Any, cap: float) -> tuple[int, str]:
    """``drdrill run features/deletion --target aws --max-cost CAP`` against nothing (port 9 on loopback)."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="eu-west-1")
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    done = subprocess.run(
        [_drdrill(), "run", "features/deletion", "--target", "aws", "--allow-account", "111111111111",
         "--max-cost", f"{cap:.4f}", "--report-dir", str(tmp_path / f"r{cap}"), "-q"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done.returncode, done.stderr


def test_the_run_cost_cap_and_plan_agree_on_the_same_scenarios(tmp_path: Any) -> None:
    """The cap refuses just below plan's run figure and lets the run through just above it (it then fails at
    the unreachable endpoint, a different line): both count a restore only for the scenarios that start one."""
    total = _plan_json("features/deletion")["run"]["cost"]["total_usd"]
    code, err = _capped_run(tmp_path, total - 0.005)
    assert code == 2 and f"estimated AWS cost ${total:,.2f} (3 scenario(s), 2 with a restore" in err, err
    code, err = _capped_run(tmp_path, total + 0.005)
    assert code == 2 and "cost cap" not in err, err


def test_plan_refuses_what_run_refuses_with_runs_own_line(drdrill, feature) -> None:
    """The plan validates steps exactly as run does (an unknown step, a count of 0), exit 2, one line."""
    zero = feature(
        """Feature: zero
  Scenario: nothing deleted
    Given a DR-protected table "customers" with 5 items
    When 0 items are deleted
    Then a restore job completes within 60 seconds
""",
        name="zero.feature",
    )
    planned = drdrill("plan", str(zero), "--target", "aws")
    ran = drdrill("run", str(zero))
    assert planned.code == ran.code == 2
    assert planned.error_lines == ran.error_lines and "changes nothing" in planned.error_lines[0]
    unknown = feature(
        """Feature: typo
  Scenario: s
    Given a DR-protected table "customers" with 5 items
    When 3 itemz are deleted
    Then a restore job completes within 60 seconds
""",
        name="typo.feature",
    )
    planned = drdrill("plan", str(unknown), "--target", "aws")
    assert planned.code == 2 and "unknown step" in planned.error_lines[0]
    assert planned.stdout == ""


def test_plan_shows_the_tables_the_features_name(drdrill, feature) -> None:
    path = feature(
        """Feature: two tables
  Scenario: customers
    Given a DR-protected table "customers" with 5 items
    When 1 item is deleted
    Then a restore job completes within 60 seconds

  Scenario: invoices
    Given a DR-protected table "invoices" with 5 items
    When 1 item is deleted
    Then a restore job completes within 60 seconds
""",
        name="tables.feature",
    )
    result = drdrill("plan", str(path), "--target", "aws", "--format", "json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [s["table"] for s in document["run"]["scenario_list"]] == ["customers", "invoices"]
    assert "orders" not in json.dumps(document["tables"] if "tables" in document else document.get("logical_table"))
    assert document["logical_table"] == "customers"
