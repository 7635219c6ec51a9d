"""``drdrill plan --stack FILE`` shows what the definition makes a drill create, touching nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import REPO, run_drdrill
from tests.definitions.test_definition_errors import write


def _plan(tmp_path: Path, *args: str) -> dict:
    result = run_drdrill("plan", "--target", "embedded", "--format", "json", *args, cwd=tmp_path)
    assert result.code == 0, result.stderr
    plan: dict = json.loads(result.stdout)
    return plan


def _by_kind(plan: dict, kind: str) -> list[dict]:
    return [r for r in plan["resources"] if r["kind"] == kind]


def test_plan_of_the_seed_runbook_shows_the_users_monitor_plan_and_selection(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "--stack", str(REPO / "examples" / "seed-runbook" / "stack.toml"))
    functions = _by_kind(plan, "lambda function")
    assert [f["settings"]["Handler"] for f in functions] == ["recovery-lambda.lambda_handler"]  # no reprotect
    env = functions[0]["settings"]["Environment"]
    assert env["TABLE_ARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/drdrill-")
    assert env["RESTORE_ROLE_ARN"].endswith("-backup") and not any("{" in v for v in env.values())
    (rule,) = _by_kind(plan, "backup plan")[0]["settings"]["Rules"]
    assert rule["RuleName"] == "DynamoDRRule" and rule["TargetBackupVaultName"].endswith("-vault")
    selection = _by_kind(plan, "backup selection")[0]["settings"]
    assert selection["Resources"] == [_by_kind(plan, "dynamodb table")[0]["arn"]]
    assert len(_by_kind(plan, "dynamodb table")) == 1  # no incident ledger for a user's monitor
    assert not _by_kind(plan, "eventbridge rule")
    assert plan["definition"]["monitor"]["handler"] == "recovery-lambda.lambda_handler"


def test_plan_shows_the_tables_keys_indexes_ttl_and_role_policy(tmp_path: Path) -> None:
    path = write(tmp_path)
    plan = _plan(tmp_path, "--stack", str(path))
    table = _by_kind(plan, "dynamodb table")[0]["settings"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["customerId", "orderId"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "by-status"
    assert table["LocalSecondaryIndexes"][0]["IndexName"] == "by-created"
    assert table["TimeToLiveAttribute"] == "expiresAt"
    monitor_role = next(name for name in plan["iam"] if name.endswith("-monitor"))
    assert plan["iam"][monitor_role]["permissions"]["Statement"][0]["Action"] == "backup:*"  # the user's policy


def test_plan_without_a_definition_is_unchanged(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert plan["definition"] is None
    assert len(_by_kind(plan, "lambda function")) == 2


def test_plan_of_a_bad_definition_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[monitor]\nhandler = 'x.y'\n", encoding="utf-8")
    result = run_drdrill("plan", "--target", "embedded", "--stack", "bad.toml", cwd=tmp_path)
    assert result.code == 2 and len(result.error_lines) == 1, result.stderr
    assert "bad.toml: monitor.source:" in result.error_lines[0]


def test_plan_names_the_definition_each_scenario_uses(tmp_path: Path) -> None:
    example = REPO / "examples" / "seed-runbook"
    plan = _plan(tmp_path, str(example))
    rows = plan["run"]["scenario_list"]
    assert {row["stack_definition"] for row in rows} == {str((example / "stack.toml").resolve())}
    assert plan["definitions"][str((example / "stack.toml").resolve())]["monitor"]["runtime"] == "python3.13"
    shipped = _plan(tmp_path, str(REPO / "features" / "deletion"))
    assert {row["stack_definition"] for row in shipped["run"]["scenario_list"]} == {None}
    assert shipped["definitions"] == {}


def test_plan_of_scenarios_that_all_name_one_definition_shows_its_stack(tmp_path: Path) -> None:
    """`drdrill plan examples/seed-runbook` (no --stack): every scenario names stack.toml, so the resources are what
    that definition creates (the user's function, no incident ledger), under the scenarios' table name; a run whose
    scenarios use drdrill's stack still shows drdrill's."""
    plan = _plan(tmp_path, str(REPO / "examples" / "seed-runbook"))
    assert plan["definition_from"] == "every scenario's 'as defined in' step"
    assert plan["definition"]["file"] == str((REPO / "examples" / "seed-runbook" / "stack.toml").resolve())
    assert [f["settings"]["Handler"] for f in _by_kind(plan, "lambda function")] == ["recovery-lambda.lambda_handler"]
    (table,) = _by_kind(plan, "dynamodb table")
    assert table["name"].endswith("-dynamo-demo")
    with_stack = _plan(
        tmp_path,
        "--stack",
        str(REPO / "examples" / "seed-runbook" / "stack.toml"),
        str(REPO / "examples" / "seed-runbook"),
    )
    assert with_stack["definition_from"] == "--stack" and _by_kind(with_stack, "dynamodb table")[0]["name"].endswith(
        "-dynamo-demo"
    )
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.feature").write_text(
        (REPO / "examples" / "seed-runbook" / "seed-runbook.feature")
        .read_text(encoding="utf-8")
        .replace('"stack.toml"', f'"{REPO / "examples" / "seed-runbook" / "stack.toml"}"'),
        encoding="utf-8",
    )
    (mixed / "b.feature").write_text(
        'Feature: b\n  Scenario: c\n    Given a DR-protected table "t" with 3 items\n'
        "    Then point-in-time recovery is enabled on the table\n",
        encoding="utf-8",
    )
    own = _plan(tmp_path, str(mixed))
    assert own["definition"] is None and "definition_from" not in own
    assert len(_by_kind(own, "lambda function")) == 2  # drdrill's monitor and re-protection


def test_plan_of_a_feature_naming_a_bad_definition_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[items]\ncount = "many"\n', encoding="utf-8")
    (tmp_path / "x.feature").write_text(
        'Feature: x\n  Scenario: y\n    Given a DR-protected table "t" as defined in "bad.toml"\n'
        "    Then point-in-time recovery is enabled on the table\n",
        encoding="utf-8",
    )
    result = run_drdrill("plan", "--target", "embedded", "x.feature", cwd=tmp_path)
    assert result.code == 2 and len(result.error_lines) == 1, result.stderr
    assert "bad.toml: items.count:" in result.error_lines[0] and "0 to 200000" in result.error_lines[0]
