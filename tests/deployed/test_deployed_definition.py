"""The [deployed] section is validated on load, with the rest of a stack definition: one line naming the file, the
key and the fix (exit 2 from drdrill run, before any call); --stack-from takes only cloudformation:STACK_NAME."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr_infra.errors import ConfigError
from dr_infra.stack.definition import load_definition
from dr_infra.stack.deployed import parse_stack_from
from tests.cli.conftest import run_drdrill

GOOD = """
[deployed]
table = "orders"
function = "disaster-recovery-function"
vault = "DynamoDRVault"
plan = "DynamoDRPlan"
drill_key_prefix = "drdrill-"
[items]
count = 25
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "staging.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_contract_keys_load(tmp_path: Path) -> None:
    definition = load_definition(_write(tmp_path, GOOD))
    deployed = definition.deployed
    assert deployed is not None
    assert (deployed.table, deployed.function, deployed.vault, deployed.plan, deployed.drill_key_prefix) == (
        "orders",
        "disaster-recovery-function",
        "DynamoDRVault",
        "DynamoDRPlan",
        "drdrill-",
    )
    assert definition.count == 25 and definition.monitor is None and definition.backup is None


def test_only_the_table_is_required_and_the_prefix_defaults(tmp_path: Path) -> None:
    deployed = load_definition(_write(tmp_path, '[deployed]\ntable = "orders"\n')).deployed
    assert deployed is not None and deployed.function is None and deployed.drill_key_prefix == "drdrill-"


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ('[deployed]\nfunction = "f"\n', "deployed.table", "table = the deployed table's name"),
        ('[deployed]\ntable = "x"\n', "deployed.table", "3 to 255 characters"),
        ('[deployed]\ntable = "orders"\nvaults = "v"\n', "deployed", "known keys here: drill_key_prefix, function"),
        ('[deployed]\ntable = "orders"\ndrill_key_prefix = "a b"\n', "deployed.drill_key_prefix", "3 to 40 characters"),
        ('[deployed]\ntable = "orders"\nfunction = "has space"\n', "deployed.function", "1 to 64 characters"),
        (
            '[deployed]\ntable = "orders"\n[table]\nhash_key = { name = "pk", type = "S" }\n',
            "table",
            "remove [table]",
        ),
    ],
    ids=["no-table", "short-table", "unknown-key", "bad-prefix", "bad-function", "with-table-section"],
)
def test_each_bad_deployed_field_is_one_line(tmp_path: Path, text: str, key: str, fix: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_definition(path)
    line = str(raised.value)
    assert "\n" not in line and line.startswith(f"{path}: {key}"), line
    assert fix in line, line


@pytest.mark.parametrize("value", ["orders", "cloudformation:", "cloudformation:1abc", "cfn:orders"])
def test_stack_from_takes_only_a_cloudformation_stack_name(value: str) -> None:
    with pytest.raises(ConfigError, match=r"cloudformation:STACK_NAME|not a CloudFormation stack name"):
        parse_stack_from(value)
    assert parse_stack_from("cloudformation:orders-staging") == "orders-staging"


FEATURE = (
    'Feature: f\n  Scenario: s\n    Given the deployed table "{table}" with 2 items\n'
    "    Then point-in-time recovery is enabled on the table\n"
)


def test_a_missing_deployed_table_is_a_usage_error_before_any_write(tmp_path: Path) -> None:
    (tmp_path / "f.feature").write_text(FEATURE.format(table="no-such-table"), encoding="utf-8")
    _write(tmp_path, '[deployed]\ntable = "no-such-table"\n')
    result = run_drdrill("run", "f.feature", "--stack", "staging.toml", "--report-dir", "r", "-q", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "deployed.table: no table 'no-such-table'" in result.stdout + result.stderr


def test_the_step_and_the_definition_must_name_the_same_table(tmp_path: Path) -> None:
    (tmp_path / "f.feature").write_text(FEATURE.format(table="orders"), encoding="utf-8")
    _write(tmp_path, '[deployed]\ntable = "payments"\n')
    result = run_drdrill("run", "f.feature", "--stack", "staging.toml", "--report-dir", "r", "-q", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "names the deployed table 'orders', but [deployed] table is 'payments'" in result.stdout + result.stderr


def test_stack_and_stack_from_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "f.feature").write_text(FEATURE.format(table="orders"), encoding="utf-8")
    _write(tmp_path, GOOD)
    result = run_drdrill(
        "run", "f.feature", "--stack", "staging.toml", "--stack-from", "cloudformation:orders", cwd=tmp_path
    )
    assert result.code == 2, result.stdout + result.stderr
    assert "give one" in result.stdout + result.stderr


def test_the_deployed_step_without_a_deployed_definition_says_how_to_name_one(tmp_path: Path) -> None:
    (tmp_path / "f.feature").write_text(FEATURE.format(table="orders"), encoding="utf-8")
    result = run_drdrill("run", "f.feature", "--report-dir", "r", "-q", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "no deployed stack named" in result.stdout + result.stderr
