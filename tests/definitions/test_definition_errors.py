"""A stack definition is validated on load: every bad field is one line naming the file, the key and the fix."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from dr_infra.errors import ConfigError
from dr_infra.stack.definition import load_definition

GOOD = """
[table]
hash_key = { name = "customerId", type = "S" }
range_key = { name = "orderId", type = "N" }
ttl_attribute = "expiresAt"
[[table.global_secondary_indexes]]
name = "by-status"
hash_key = { name = "status", type = "S" }
projection = "KEYS_ONLY"
[[table.local_secondary_indexes]]
name = "by-created"
hash_key = { name = "customerId", type = "S" }
range_key = { name = "createdAt", type = "N" }
projection = ["status"]
[items]
sample = "orders.jsonl"
[monitor]
source = "monitor/"
handler = "recovery-lambda.lambda_handler"
runtime = "python3.13"
timeout_seconds = 30
role_policy = "policy.json"
log_pattern = "RESTORE JOB STARTED: (?P<job>\\\\S+)"
[monitor.environment]
TABLE_ARN = "{table_arn}"
[backup]
plan = "plan.json"
selection = "selection.json"
"""
PLAN = {
    "BackupPlanName": "DynamoDRPlan",
    "Rules": [
        {
            "RuleName": "every-12h",
            "TargetBackupVaultName": "{vault_name}",
            "ScheduleExpression": "cron(0 */12 * * ? *)",
            "Lifecycle": {"DeleteAfterDays": 35},
        }
    ],
}
SELECTION = {"SelectionName": "DynamoDR", "IamRoleArn": "{backup_role_arn}", "Resources": ["{table_arn}"]}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "backup:*", "Resource": "*"}]}


def write(folder: Path, toml: str = GOOD, **files: object) -> Path:
    (folder / "monitor").mkdir(exist_ok=True)
    (folder / "monitor" / "recovery-lambda.py").write_text("def lambda_handler(e, c):\n    return None\n")
    defaults: dict[str, object] = {
        "orders.jsonl": '{"customerId": {"S": "c-1"}, "orderId": {"N": "1"}, "status": {"S": "open"}}\n',
        "policy.json": POLICY,
        "plan.json": PLAN,
        "selection.json": SELECTION,
    }
    defaults.update({k.replace("__", "."): v for k, v in files.items()})
    for name, content in defaults.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "orders.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def test_a_full_definition_loads(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path))
    assert definition.table.key_attributes == ("customerId", "orderId")
    assert definition.table.attribute_definitions() == [
        {"AttributeName": "customerId", "AttributeType": "S"},
        {"AttributeName": "orderId", "AttributeType": "N"},
        {"AttributeName": "status", "AttributeType": "S"},
        {"AttributeName": "createdAt", "AttributeType": "N"},
    ]
    args = definition.table.create_table_arguments()
    assert args["LocalSecondaryIndexes"][0]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["status"],
    }
    assert args["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert definition.sample[0]["status"] == {"S": "open"}
    assert definition.monitor is not None and definition.monitor.handler == "recovery-lambda.lambda_handler"
    assert definition.monitor.pattern() is not None
    assert definition.backup is not None and definition.backup.plan["BackupPlanName"] == "DynamoDRPlan"


def test_cli_input_json_shapes_are_accepted(tmp_path: Path) -> None:
    definition = load_definition(
        write(tmp_path, plan__json={"BackupPlan": PLAN}, selection__json={"BackupSelection": SELECTION})
    )
    assert definition.backup is not None and definition.backup.selection["SelectionName"] == "DynamoDR"


def _replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# (what to change, the key the line must name, a word of the fix)
CASES = [
    (_replace('type = "S" }\nrange_key', 'type = "X" }\nrange_key'), "table.hash_key.type", '"S", "N" or "B"'),
    (
        _replace('hash_key = { name = "customerId", type = "S" }\nrange', 'hash_key = { type = "S" }\nrange'),
        "table.hash_key.name",
        "name =",
    ),
    (
        _replace('range_key = { name = "orderId", type = "N" }', 'range_key = { name = "customerId", type = "N" }'),
        "table.range_key.name",
        "another attribute",
    ),
    (_replace("[table]\n", '[table]\nbilling_mode = "ON_DEMAND"\n'), "table.billing_mode", "PAY_PER_REQUEST"),
    (
        _replace("[table]\n", 'billing_mode = "PROVISIONED"\n'.join(["[table]\n", ""])),
        "table.read_capacity",
        "read_capacity = 5",
    ),
    (_replace("[table]\n", "[table]\nread_capacity = 5\n"), "table.read_capacity", "PROVISIONED"),
    (_replace('ttl_attribute = "expiresAt"', "ttl_attribute = 3"), "table.ttl_attribute", "Number attribute"),
    (_replace('ttl_attribute = "expiresAt"', 'ttl_attribute = "customerId"'), "table.ttl_attribute", "Number"),
    (_replace('name = "by-status"', 'name = "x"'), "table.global_secondary_indexes[0].name", "3 to 255"),
    (
        _replace('projection = "KEYS_ONLY"', 'projection = "SOME"'),
        "table.global_secondary_indexes[0].projection",
        "KEYS_ONLY",
    ),
    (
        _replace('hash_key = { name = "status", type = "S" }', 'hash_key = { name = "orderId", type = "S" }'),
        "table.global_secondary_indexes[0].hash_key.type",
        "one type",
    ),
    (
        _replace(
            'name = "by-created"\nhash_key = { name = "customerId"', 'name = "by-created"\nhash_key = { name = "other"'
        ),
        "table.local_secondary_indexes[0].hash_key",
        "customerId",
    ),
    (_replace('range_key = { name = "orderId", type = "N" }\n', ""), "table.local_secondary_indexes[0]", "range_key"),
    (_replace("[table]\n", "[table]\nwidth = 3\n"), "table", "known keys here"),
    (_replace("[items]\n", "[items]\ncount = -1\n"), "items.count", "0 to 200000"),
    (_replace('sample = "orders.jsonl"', 'sample = "missing.jsonl"'), "items.sample", "fix the path"),
    (_replace('source = "monitor/"', 'source = "nowhere/"'), "monitor.source", "point it at the code"),
    (
        _replace('handler = "recovery-lambda.lambda_handler"', 'handler = "recovery_lambda.lambda_handler"'),
        "monitor.handler",
        "recovery_lambda.py",
    ),
    (
        _replace('handler = "recovery-lambda.lambda_handler"', 'handler = "nohandler"'),
        "monitor.handler",
        "<module file",
    ),
    (_replace('runtime = "python3.13"', 'runtime = "nodejs20.x"'), "monitor.runtime", "python3.9 to python3.13"),
    (_replace("timeout_seconds = 30", "timeout_seconds = 901"), "monitor.timeout_seconds", "1 to 900"),
    (_replace('role_policy = "policy.json"', 'role_policy = "nope.json"'), "monitor.role_policy", "fix the path"),
    (
        _replace('log_pattern = "RESTORE JOB STARTED: (?P<job>\\\\S+)"', 'log_pattern = "(unclosed"'),
        "monitor.log_pattern",
        "fix the pattern",
    ),
    (_replace('TABLE_ARN = "{table_arn}"', 'TABLE_ARN = "{tabel_arn}"'), "monitor.environment", "{table_arn}"),
    (
        _replace('TABLE_ARN = "{table_arn}"', 'AWS_REGION = "eu-west-1"'),
        "monitor.environment.AWS_REGION",
        "another name",
    ),
    (_replace('TABLE_ARN = "{table_arn}"', "TABLE_ARN = 3"), "monitor.environment.TABLE_ARN", "strings"),
    (_replace('plan = "plan.json"', 'plan = "gone.json"'), "backup.plan", "fix the path"),
    (_replace('selection = "selection.json"\n', ""), "backup.selection", "create-backup-selection"),
    (_replace("[backup]\n", "[backups]\n"), "(top level)", "known keys here: backup, deployed, items, monitor, table"),
]


@pytest.mark.parametrize(("toml", "key", "fix"), CASES, ids=[c[1] + f"-{i}" for i, c in enumerate(CASES)])
def test_each_bad_field_is_one_line_with_file_key_and_fix(tmp_path: Path, toml: str, key: str, fix: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as raised:
        load_definition(path)
    line = str(raised.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: {key}: "), line
    assert fix in line, line


FILE_CASES = [
    ({"orders__jsonl": "not json\n"}, "items.sample", "line 1"),
    ({"orders__jsonl": '{"customerId": {"N": "1"}}\n'}, "items.sample", "table declares S"),
    ({"orders__jsonl": '{"customerId": {"B": "***"}}\n'}, "items.sample", "base64"),
    ({"policy__json": "[1]"}, "monitor.role_policy", "JSON object"),
    ({"policy__json": {"Version": "2012-10-17"}}, "monitor.role_policy", "Statement"),
    ({"plan__json": {"Rules": PLAN["Rules"]}}, "backup.plan (plan.json).BackupPlanName", "50 characters"),
    (
        {"plan__json": {**PLAN, "Rules": [{**PLAN["Rules"][0], "TargetBackupVaultName": "DynamoDRVault"}]}},
        "backup.plan (plan.json).Rules[0].TargetBackupVaultName",
        "{vault_name}",
    ),
    (
        {"plan__json": {**PLAN, "Rules": [{**PLAN["Rules"][0], "ScheduleExpression": "every 12h"}]}},
        "backup.plan (plan.json).Rules[0].ScheduleExpression",
        "cron(",
    ),
    (
        {"plan__json": {**PLAN, "Rules": [{**PLAN["Rules"][0], "Lifecycle": {"DeleteAfterDays": "35"}}]}},
        "backup.plan (plan.json).Rules[0].Lifecycle.DeleteAfterDays",
        "days",
    ),
    (
        {"selection__json": {**SELECTION, "IamRoleArn": "arn:aws:iam::1:role/x"}},
        "backup.selection (selection.json).IamRoleArn",
        "{backup_role_arn}",
    ),
    ({"selection__json": {**SELECTION, "Resources": ["{table}"]}}, "backup.selection", "{table_arn}"),
    (
        {"selection__json": {"IamRoleArn": "{backup_role_arn}"}},
        "backup.selection (selection.json).SelectionName",
        "SelectionName",
    ),
]


@pytest.mark.parametrize(("files", "key", "fix"), FILE_CASES, ids=[c[1] + f"-{i}" for i, c in enumerate(FILE_CASES)])
def test_each_bad_referenced_file_is_one_line(tmp_path: Path, files: dict[str, object], key: str, fix: str) -> None:
    path = write(tmp_path, **files)
    with pytest.raises(ConfigError) as raised:
        load_definition(path)
    line = str(raised.value)
    assert "\n" not in line and line.startswith(f"{path}: "), line
    assert key in line and fix in line, line


def test_a_zip_source_needs_the_handler_module_inside(tmp_path: Path) -> None:
    archive = tmp_path / "monitor.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("other.py", "")
    path = write(tmp_path, _replace('source = "monitor/"', 'source = "monitor.zip"'))
    with pytest.raises(ConfigError, match=r"monitor\.handler: .*recovery-lambda\.py"):
        load_definition(path)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[table\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_definition(bad)
    with pytest.raises(ConfigError, match="no such stack definition file"):
        load_definition(tmp_path / "none.toml")


def test_a_monitor_source_over_lambdas_50_mb_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path)
    (tmp_path / "monitor" / "blob.bin").write_bytes(b"\0" * (50 * 1024 * 1024 + 1))
    with pytest.raises(ConfigError, match=r"monitor\.source: monitor holds 52\.4 MB, more than the 50 MB"):
        load_definition(path)
