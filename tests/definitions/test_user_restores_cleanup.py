"""Tables a user's monitor restores from a drill's table, named however it likes and untagged, are deleted with
the scenario's stack and found by ``drdrill janitor`` (by RestoreSummary.SourceTableArn); tables restored from
anything else are never touched. Black-box through boto3 against the embedded target."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.definition import load_definition
from dr_infra.stack.janitor import sweep
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, provision
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget

MONITOR = "def handler(event, context):\n    print('plain text, no decisions')\n"
DEFINITION = """
[table]
hash_key = { name = "id", type = "N" }
[monitor]
source = "monitor/"
handler = "mon.handler"
"""


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = EmbeddedTarget()
    embedded.start()
    yield embedded
    embedded.stop()


def _user_stack(target: EmbeddedTarget, folder: Path, run_id: str, cleanups: Cleanups) -> Stack:
    (folder / "monitor").mkdir(exist_ok=True)
    (folder / "monitor" / "mon.py").write_text(MONITOR, encoding="utf-8")
    (folder / "stack.toml").write_text(DEFINITION, encoding="utf-8")
    spec = StackSpec.from_definition(load_definition(folder / "stack.toml"), logical_table="users")
    return provision(target, StackNames(run_id, 1, "users"), spec, cleanups)


def _restore_as_the_user_would(target: EmbeddedTarget, stack: Stack, name: str) -> None:
    """A point-in-time restore of the drill's table into a table named as the user's code likes (no drdrill name
    rule, no tags), as a user's monitor does with its own role."""
    ddb = target.client("dynamodb")
    ddb.put_item(TableName=stack.names.table, Item={"id": {"N": "1"}})
    time.sleep(1.1)  # PITR's granularity is one second
    ddb.restore_table_to_point_in_time(
        SourceTableArn=stack.table_arn, TargetTableName=name, UseLatestRestorableTime=True
    )


def _tables(target: EmbeddedTarget) -> set[str]:
    pages = target.client("dynamodb").get_paginator("list_tables").paginate()
    return {name for page in pages for name in page["TableNames"]}


def _foreign_restore(target: EmbeddedTarget, suffix: str) -> str:
    """A table restored (point in time) from a table drdrill did not create: never drdrill's to delete."""
    ddb = target.client("dynamodb")
    source, copy = f"customer-source-{suffix}", f"customer-copy-{suffix}"
    ddb.create_table(
        TableName=source,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=source, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    ddb.update_continuous_backups(
        TableName=source, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    time.sleep(1.1)
    ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=copy, UseLatestRestorableTime=True)
    return copy


def test_teardown_deletes_what_the_users_monitor_restored_under_any_name(
    target: EmbeddedTarget, tmp_path: Path
) -> None:
    suffix = secrets.token_hex(3)
    foreign = _foreign_restore(target, suffix)
    cleanups = Cleanups()
    stack = _user_stack(target, tmp_path, new_run_id(), cleanups)
    named = f"whatever-the-user-likes-{suffix}"  # no drdrill prefix, no tags
    _restore_as_the_user_would(target, stack, named)
    assert cleanups.run() == []
    left = _tables(target)
    assert named not in left and stack.names.table not in left
    assert foreign in left and f"customer-source-{suffix}" in left


def test_janitor_finds_untagged_restores_of_a_killed_drill_by_their_source(
    target: EmbeddedTarget, tmp_path: Path
) -> None:
    suffix = secrets.token_hex(3)
    foreign = _foreign_restore(target, suffix)
    old_run = new_run_id(datetime.now(UTC) - timedelta(hours=5))
    stack = _user_stack(target, tmp_path, old_run, Cleanups())  # never torn down: a SIGKILLed run
    named = f"copy-by-user-code-{suffix}"
    _restore_as_the_user_would(target, stack, named)
    deadline = time.monotonic() + 60
    while named not in _tables(target):
        assert time.monotonic() < deadline, "the restore never created its table"
        time.sleep(0.2)
    listed = sweep(target, timedelta(hours=2), delete=False)
    found = {(r.kind, r.name): r.run_id for r in listed.found}
    assert found.get(("dynamodb table", named)) == old_run
    assert ("dynamodb table", foreign) not in found
    swept = sweep(target, timedelta(hours=2), delete=True)
    assert swept.ok, swept.failed
    left = _tables(target)
    assert named not in left and stack.names.table not in left and foreign in left
