"""After a drill, nothing of its stack remains - also when something failed midway."""

from __future__ import annotations

import pytest

from dr_infra.stack import provision as stack_module
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import attach_monitor, provision, teardown
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from tests.integration.conftest import assert_clean, leftovers


def _names(logical: str = "orders", stack_no: int = 1) -> StackNames:
    return StackNames(new_run_id(), stack_no, logical)


def test_full_stack_is_created_then_torn_down(embedded: EmbeddedTarget) -> None:
    names = _names()
    stack = provision(embedded, names, StackSpec())
    attach_monitor(embedded, stack)
    before = leftovers(embedded, names.prefix, (stack.plan_id,))
    assert before["tables"] and before["roles"] and before["functions"] and before["mappings"]
    assert before["vaults"] and before["plans"] and before["selections"] and before["log_groups"] and before["rules"]
    assert teardown(stack) == []
    assert_clean(embedded, names.prefix, (stack.plan_id,))


def test_failure_while_provisioning_leaves_nothing(embedded: EmbeddedTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    names = _names()
    cleanups = Cleanups()

    def broken_rule(self: object) -> None:
        raise RuntimeError("EventBridge is down")

    monkeypatch.setattr(stack_module._Provisioner, "_restore_rule", broken_rule)
    with pytest.raises(RuntimeError, match="EventBridge is down"):
        provision(embedded, names, StackSpec(), cleanups)
    assert leftovers(embedded, names.prefix)["functions"]  # it got far before failing
    assert cleanups.run() == []
    assert_clean(embedded, names.prefix)


def test_failure_after_the_change_leaves_nothing(embedded: EmbeddedTarget) -> None:
    names = _names()
    cleanups = Cleanups()
    plan_id = ""
    with pytest.raises(AssertionError):
        try:
            stack = provision(embedded, names, StackSpec(), cleanups)
            plan_id = stack.plan_id
            attach_monitor(embedded, stack)
            ddb = embedded.client("dynamodb")
            ddb.put_item(TableName=names.table, Item={"LockId": {"S": "a"}})
            ddb.delete_item(TableName=names.table, Key={"LockId": {"S": "a"}})
            raise AssertionError("a Then step failed")
        finally:
            failures = cleanups.run()
    assert failures == []
    assert_clean(embedded, names.prefix, (plan_id,))


def test_one_failed_deletion_is_reported_and_the_rest_still_runs(embedded: EmbeddedTarget) -> None:
    names = _names()
    stack = provision(embedded, names, StackSpec())
    # Someone else's recovery point in our vault would block its deletion; simulate with a failing action
    # registered in the middle of the stack's cleanups.
    stack.cleanups._actions.insert(5, ("delete something stubborn", lambda: 1 / 0))
    failures = teardown(stack)
    assert failures == ["delete something stubborn: ZeroDivisionError: division by zero"]
    assert_clean(embedded, names.prefix, (stack.plan_id,))


def test_two_stacks_in_one_process_never_collide(embedded: EmbeddedTarget) -> None:
    run_id = new_run_id()
    first_names, second_names = StackNames(run_id, 1, "orders"), StackNames(run_id, 2, "orders")
    first = provision(embedded, first_names, StackSpec())
    second = provision(embedded, second_names, StackSpec())
    try:
        assert first.table_arn != second.table_arn
        assert first.plan_id != second.plan_id
        assert first.monitor_function_arn != second.monitor_function_arn
        assert teardown(first) == []
        assert_clean(embedded, first_names.prefix + "-", (first.plan_id,))
        still = leftovers(embedded, second_names.prefix, (second.plan_id,))
        assert second_names.table in still["tables"]
        assert still["functions"] and still["roles"] and still["vaults"] and still["rules"]
    finally:
        teardown(second)
    assert_clean(embedded, second_names.prefix, (second.plan_id,))


def test_teardown_removes_the_system_backup_deleting_the_pitr_table_leaves(embedded: EmbeddedTarget) -> None:
    """DynamoDB keeps a SYSTEM backup of a deleted PITR table for 35 days: the drill caused it, teardown removes it."""
    names = _names()
    stack = provision(embedded, names, StackSpec())
    ddb = embedded.client("dynamodb")

    def system_backups() -> list[str]:
        summaries = ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"]
        return [b["BackupName"] for b in summaries if b["TableName"].startswith(names.prefix)]

    assert teardown(stack) == []
    assert system_backups() == []
    assert_clean(embedded, names.prefix, (stack.plan_id,))
    # without the cleanup, the deletion does leave one (the negative case of the same behaviour)
    other = _names()
    kept = provision(embedded, other, StackSpec())
    ddb.delete_table(TableName=other.table)
    leftover = [b for b in ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"] if b["TableName"] == other.table]
    assert [b["BackupName"] for b in leftover] == [f"{other.table}$DeletedTableBackup"]
    assert [f for f in teardown(kept) if other.table not in f] == []  # the table was already gone
    assert [b for b in ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"] if b["TableName"] == other.table] == []
