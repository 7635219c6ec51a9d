"""Drills of user-defined tables through the real ``drdrill run``: composite keys with a numeric sort key, a GSI
and an LSI, a TTL attribute, a binary hash key with a sample file, and definition errors found before any work."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import REPO, run_drdrill

ORDERS = """
[table]
hash_key = { name = "customerId", type = "S" }
range_key = { name = "orderId", type = "N" }
ttl_attribute = "expiresAt"
[[table.global_secondary_indexes]]
name = "by-status"
hash_key = { name = "status", type = "S" }
projection = "ALL"
[[table.local_secondary_indexes]]
name = "by-created"
hash_key = { name = "customerId", type = "S" }
range_key = { name = "createdAt", type = "N" }
projection = ["status", "total"]
"""
BLOBS = """
[table]
hash_key = { name = "digest", type = "B" }
[items]
sample = "blobs.jsonl"
"""
SAMPLE = "\n".join(
    json.dumps({"digest": {"B": "AAE="}, "size": {"N": str(n)}, "tags": {"SS": ["a", f"t{n}"]}}) for n in range(3)
)
FEATURE = """Feature: User-defined tables
  Scenario: Orders with a composite key come back from a backup with their indexes
    Given a DR-protected table "orders" with 30 items as defined in "stacks/orders.toml"
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 4 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started

  Scenario: Blobs keyed by bytes come back to a point in time
    Given a DR-protected table "blobs" with 10 items as defined in "stacks/blobs.toml"
    And the change monitor restores with the "pitr" strategy
    When 2 items are modified
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change

  Scenario: Deleted blobs come back from a backup, keyed by the same bytes
    Given a DR-protected table "blobs" with 10 items as defined in "stacks/blobs.toml"
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 2 items are deleted
    Then a restore job completes within the DR policy's RTO
    And no data written before the change was lost
    And the RTO and RPO meet the DR policy
"""


def _tree(tmp_path: Path) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "orders.toml").write_text(ORDERS, encoding="utf-8")
    (stacks / "blobs.toml").write_text(BLOBS, encoding="utf-8")
    (stacks / "blobs.jsonl").write_text(SAMPLE + "\n", encoding="utf-8")
    feature = tmp_path / "user.feature"
    feature.write_text(FEATURE, encoding="utf-8")
    return feature


def test_composite_binary_indexed_and_sampled_tables_are_drilled(tmp_path: Path) -> None:
    feature = _tree(tmp_path)
    result = run_drdrill("run", str(feature), "--report-dir", "r", "-q", cwd=tmp_path, timeout=600)
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    orders, blobs, deleted_blobs = journal["scenarios"]
    assert orders["status"] == blobs["status"] == "passed"
    # the deleted binary keys are found again in the restored table (read back as base64, written as bytes)
    assert deleted_blobs["status"] == "passed", deleted_blobs["failure"]
    harm = deleted_blobs["evidence"]["harmful_change"]
    assert (harm["keys"], harm["survived"]) == (2, 0), harm
    # the full primary key was compared (30 items over 10 partition keys: a hash-only comparison would collide)
    assert orders["evidence"]["diff"][0]["compared_expected"] == 30 and orders["evidence"]["diff"][0]["equal"]
    shape = orders["evidence"]["restored_shape"]
    assert shape["matches"] and shape["global_secondary_indexes"] == ["by-status"]
    assert shape["local_secondary_indexes"] == ["by-created"]
    assert [k["AttributeName"] for k in shape["key_schema"]] == ["customerId", "orderId"]
    definition = orders["evidence"]["stack"]["definition"]
    assert definition["table"]["TimeToLiveAttribute"] == "expiresAt"
    assert blobs["evidence"]["diff"][0]["compared_expected"] == 10
    assert blobs["evidence"]["stack"]["definition"]["sample_items"] == 3
    for scenario in journal["scenarios"]:
        assert scenario["cleanup"]["failed"] == []


def test_the_definition_shapes_the_table_ttl_and_items(tmp_path: Path) -> None:
    """Black-box through boto3 on the embedded endpoint: the table drdrill provisions has the definition's keys,
    indexes and TTL, and its seeded items fit every key (numeric sort key, index keys, far-future TTL)."""
    from dr_infra.drill.inject import seed
    from dr_infra.drill.items import item_maker
    from dr_infra.drill.oracle import Oracle
    from dr_infra.stack.cleanup import Cleanups
    from dr_infra.stack.definition import load_definition
    from dr_infra.stack.names import StackNames, new_run_id
    from dr_infra.stack.provision import provision
    from dr_infra.stack.spec import StackSpec
    from dr_infra.targets import make_target

    (tmp_path / "orders.toml").write_text(ORDERS, encoding="utf-8")
    spec = StackSpec.from_definition(load_definition(tmp_path / "orders.toml"), logical_table="orders")
    target = make_target("embedded", None, frozenset())
    target.start()
    cleanups = Cleanups()
    try:
        stack = provision(target, StackNames(new_run_id(), 1, "orders"), spec, cleanups)
        ddb = target.client("dynamodb")
        table = ddb.describe_table(TableName=stack.names.table)["Table"]
        assert table["KeySchema"] == [
            {"AttributeName": "customerId", "KeyType": "HASH"},
            {"AttributeName": "orderId", "KeyType": "RANGE"},
        ]
        assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-status"]
        assert table["LocalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] == ["status", "total"]
        ttl = ddb.describe_time_to_live(TableName=stack.names.table)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
        oracle = Oracle.for_maker(item_maker(spec))
        seed(ddb, stack.names.table, oracle, 9)
        items = ddb.scan(TableName=stack.names.table)["Items"]
        assert len(items) == 9 and len({i["customerId"]["S"] for i in items}) == 3
        assert all("N" in i["orderId"] and "N" in i["createdAt"] and "S" in i["status"] for i in items)
        by_status = ddb.query(
            TableName=stack.names.table,
            IndexName="by-status",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": items[0]["status"]},
        )["Items"]
        assert by_status
        assert int(items[0]["expiresAt"]["N"]) > 4_000_000_000
    finally:
        assert cleanups.run() == []
        target.stop()


PROVISIONED = """
[table]
hash_key = { name = "sku", type = "S" }
range_key = { name = "version", type = "N" }
billing_mode = "PROVISIONED"
read_capacity = 7
write_capacity = 3
[[table.global_secondary_indexes]]
name = "by-status"
hash_key = { name = "status", type = "S" }
projection = "KEYS_ONLY"
read_capacity = 2
write_capacity = 4
"""


def test_a_provisioned_definition_gets_its_capacity(tmp_path: Path) -> None:
    """billing_mode = "PROVISIONED": the table and its global index are created with the capacity the definition
    gives (DescribeTable's ProvisionedThroughput, BillingModeSummary), and seeded items fit its keys."""
    from dr_infra.drill.inject import seed
    from dr_infra.drill.items import item_maker
    from dr_infra.drill.oracle import Oracle
    from dr_infra.stack.cleanup import Cleanups
    from dr_infra.stack.definition import load_definition
    from dr_infra.stack.names import StackNames, new_run_id
    from dr_infra.stack.provision import provision
    from dr_infra.stack.spec import StackSpec
    from dr_infra.targets import make_target

    (tmp_path / "skus.toml").write_text(PROVISIONED, encoding="utf-8")
    spec = StackSpec.from_definition(load_definition(tmp_path / "skus.toml"), logical_table="skus")
    target = make_target("embedded", None, frozenset())
    target.start()
    cleanups = Cleanups()
    try:
        stack = provision(target, StackNames(new_run_id(), 1, "skus"), spec, cleanups)
        ddb = target.client("dynamodb")
        table = ddb.describe_table(TableName=stack.names.table)["Table"]
        assert table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
        throughput = table["ProvisionedThroughput"]
        assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (7, 3)
        index = table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]
        assert (index["ReadCapacityUnits"], index["WriteCapacityUnits"]) == (2, 4)
        seed(ddb, stack.names.table, Oracle.for_maker(item_maker(spec)), 6)
        assert ddb.scan(TableName=stack.names.table, Select="COUNT")["Count"] == 6
    finally:
        assert cleanups.run() == []
        target.stop()


def test_a_bad_definition_named_by_a_step_stops_the_run_before_anything(tmp_path: Path) -> None:
    feature = _tree(tmp_path)
    (tmp_path / "stacks" / "orders.toml").write_text(ORDERS.replace('type = "N" }', 'type = "Q" }', 1), "utf-8")
    result = run_drdrill("run", str(feature), "--report-dir", "r", cwd=tmp_path)
    assert result.code == 2, result.stdout[-2000:] + result.stderr
    assert result.stdout == "" and len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    assert "orders.toml: table.range_key.type:" in line and '"S", "N" or "B"' in line, line
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert journal["scenarios"] == []  # nothing ran, nothing was created


def test_a_bad_run_definition_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[table]\nhash_key = { name = "id", type = "S" }\nbilling = 1\n', "utf-8")
    for args, env in ((("--stack", "bad.toml"), None), ((), {"DRDRILL_STACK": "bad.toml"})):
        result = run_drdrill("run", *args, "--report-dir", "r", cwd=tmp_path, env=env)
        assert result.code == 2, result.stdout[-2000:] + result.stderr
        assert len(result.error_lines) == 1 and "bad.toml: table:" in result.error_lines[0], result.stderr
        assert "known keys here" in result.error_lines[0]


def test_the_shipped_features_run_unchanged_on_a_composite_indexed_definition(tmp_path: Path) -> None:
    """Every strategy of the shipped deletion and modification features, on a table with a numeric sort key, a GSI,
    an LSI and a TTL attribute, chosen for the whole run with --stack."""
    (tmp_path / "orders.toml").write_text(ORDERS, encoding="utf-8")
    features = [str(REPO / "features" / "deletion"), str(REPO / "features" / "modification")]
    result = run_drdrill(
        "run", *features, "--stack", "orders.toml", "--report-dir", "r", "-q", "-n", "2", cwd=tmp_path, timeout=900
    )
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert len(journal["scenarios"]) >= 5
    for scenario in journal["scenarios"]:
        assert scenario["status"] == "passed", (scenario["name"], scenario["failure"])
        stack = scenario["evidence"]["stack"]
        assert stack["definition"]["table"]["KeySchema"][1] == {"AttributeName": "orderId", "KeyType": "RANGE"}


ACCOUNTS = """
[table]
hash_key = { name = "accountNo", type = "N" }
"""


def test_the_shipped_named_item_scenarios_run_on_a_number_key(tmp_path: Path) -> None:
    """'the table holds the item "customer-42"' and 'the item "customer-42" is deleted/modified', unchanged, on a
    table whose hash key is a Number (PutItem refused "customer-42" as a number before)."""
    (tmp_path / "accounts.toml").write_text(ACCOUNTS, encoding="utf-8")
    features = [str(REPO / "features" / "deletion"), str(REPO / "features" / "modification")]
    result = run_drdrill(
        "run", *features, "--stack", "accounts.toml", "--tags", "item", "--report-dir", "r", "-q", cwd=tmp_path,
        timeout=600,
    )  # fmt: skip
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert len(journal["scenarios"]) == 2
    for scenario in journal["scenarios"]:
        assert scenario["status"] == "passed", (scenario["name"], scenario["failure"])
        assert int(scenario["evidence"]["change"]["keys"][0]["accountNo"]["N"]) >= 10**15


def test_plain_pytest_takes_the_run_definition_with_dr_stack(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "orders.toml").write_text(ORDERS, encoding="utf-8")
    posture = REPO / "features" / "posture"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(posture),
            "--rootdir",
            str(tmp_path),
            "-o",
            "python_files=",
            f"--dr-stack={tmp_path / 'orders.toml'}",
            f"--dr-report-dir={tmp_path / 'r'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert journal["scenarios"]
    for scenario in journal["scenarios"]:
        assert scenario["evidence"]["stack"]["definition"]["file"] == str((tmp_path / "orders.toml").resolve())
