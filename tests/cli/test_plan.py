"""``drdrill plan``: every resource, the IAM documents and a cost estimate, without a single client call."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest

from dr_infra.cli import main
from dr_infra.naming import TAG_MANAGED, TAG_RUN_ID, StackNames
from dr_infra.plan import describe_plan, estimate_cost
from dr_infra.pricing import BACKUP_PRICING_URL, DYNAMODB_PRICING_URL, LAMBDA_PRICING_URL

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
    code = main(["plan", *argv])
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
    assert "StartingPosition: LATEST" in out
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
        [str(Path(sys.executable).with_name("drdrill")), "plan", "--format", "json", "--table-gb", "2"],
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
