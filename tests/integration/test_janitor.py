"""``drdrill janitor`` on the embedded target: what a SIGKILLed run leaves is found by tag and removed,
and nothing untagged, foreign or recent is ever touched."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dr_infra.app.cli import main
from dr_infra.stack.janitor import JanitorResult, _Sweeper, parse_older_than, sweep
from dr_infra.stack.janitor_report import render
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID, StackNames, new_run_id
from dr_infra.stack.provision import Stack, attach_monitor, provision, teardown
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget

TWO_HOURS = timedelta(hours=2)
TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = EmbeddedTarget()
    embedded.start()
    yield embedded
    embedded.stop()


def abandoned_stack(target: EmbeddedTarget, hours_ago: float, table: str = "orders") -> Stack:
    """A stack as a SIGKILLed run leaves it: provisioned, monitor attached, never torn down."""
    run_id = new_run_id(datetime.now(UTC) - timedelta(hours=hours_ago))
    stack = provision(target, StackNames(run_id, 1, table), StackSpec(logical_table=table))
    attach_monitor(target, stack)
    return stack


def recovery_point(target: EmbeddedTarget, stack: Stack) -> str:
    """A completed recovery point in the stack's vault, so deleting the vault has to empty it first."""
    backup = target.client("backup")
    job_id = backup.start_backup_job(
        BackupVaultName=stack.names.vault, ResourceArn=stack.table_arn, IamRoleArn=stack.backup_role_arn
    )["BackupJobId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = backup.describe_backup_job(BackupJobId=job_id)
        if job["State"] == "COMPLETED":
            return str(job["RecoveryPointArn"])
        assert job["State"] in ("CREATED", "RUNNING", "PENDING"), job
        time.sleep(0.2)
    raise AssertionError("backup job did not complete")


def stack_resources(stack: Stack) -> set[tuple[str, str]]:
    n = stack.names
    return {
        ("dynamodb table", n.table),
        ("dynamodb table", n.ledger_table),
        ("backup vault", n.vault),
        ("backup plan", n.plan),
        ("iam role", n.backup_role),
        ("iam role", n.monitor_role),
        ("lambda function", n.monitor_function),
        ("lambda function", n.reprotect_function),
        ("log group", n.log_group(n.monitor_function)),
        ("log group", n.log_group(n.reprotect_function)),
        ("eventbridge rule", n.restore_rule),
    }


def existing(target: EmbeddedTarget) -> set[tuple[str, str]]:
    """Every resource of the kinds the janitor sweeps, as (kind, name)."""
    c = target.client

    def every(service: str, operation: str, key: str, name: str) -> set[str]:
        # every page: the suite's other tests leave far more than one page of tables, roles and functions
        if c(service).can_paginate(operation):
            pages = c(service).get_paginator(operation).paginate()
            return {item if isinstance(item, str) else item[name] for page in pages for item in page[key]}
        return {item[name] for item in getattr(c(service), operation)()[key]}

    found = {("dynamodb table", t) for t in every("dynamodb", "list_tables", "TableNames", "")}
    found |= {("backup vault", v) for v in every("backup", "list_backup_vaults", "BackupVaultList", "BackupVaultName")}
    found |= {("backup plan", p) for p in every("backup", "list_backup_plans", "BackupPlansList", "BackupPlanName")}
    found |= {("iam role", r) for r in every("iam", "list_roles", "Roles", "RoleName")}
    found |= {("lambda function", f) for f in every("lambda", "list_functions", "Functions", "FunctionName")}
    found |= {("log group", g) for g in every("logs", "describe_log_groups", "logGroups", "logGroupName")}
    found |= {("eventbridge rule", r) for r in every("events", "list_rules", "Rules", "Name")}
    return found


def mine(result: JanitorResult, stack: Stack) -> set[tuple[str, str]]:
    return {(r.kind, r.name) for r in result.found if r.run_id == stack.names.run_id}


def untagged_and_foreign(target: EmbeddedTarget, suffix: str) -> set[tuple[str, str]]:
    """Resources the janitor must never touch: untagged, and tagged with drdrill:managed other than true."""
    ddb, iam = target.client("dynamodb"), target.client("iam")
    old_run = new_run_id(datetime.now(UTC) - timedelta(days=3))
    key = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(TableName=f"customer-table-{suffix}", **key)
    ddb.create_table(
        TableName=f"drdrill-{old_run}-9-foreign-{suffix}",
        Tags=[{"Key": TAG_RUN_ID, "Value": old_run}, {"Key": TAG_MANAGED, "Value": "false"}],
        **key,
    )
    for name in (f"customer-table-{suffix}", f"drdrill-{old_run}-9-foreign-{suffix}"):  # CreateTable: CREATING
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    iam.create_role(RoleName=f"customer-role-{suffix}", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName=f"customer-role-{suffix}", PolicyName="keep", PolicyDocument=POLICY)
    iam.create_role(
        RoleName=f"unknown-run-role-{suffix}",
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": TAG_RUN_ID, "Value": "not-a-run-id"}, {"Key": TAG_MANAGED, "Value": "true"}],
    )
    return {
        ("dynamodb table", f"customer-table-{suffix}"),
        ("dynamodb table", f"drdrill-{old_run}-9-foreign-{suffix}"),
        ("iam role", f"customer-role-{suffix}"),
        ("iam role", f"unknown-run-role-{suffix}"),
    }


def test_janitor_lists_then_deletes_only_old_tagged_resources(
    target: EmbeddedTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    old = abandoned_stack(target, hours_ago=3)
    point = recovery_point(target, old)
    fresh = abandoned_stack(target, hours_ago=0, table="fresh")
    keep = untagged_and_foreign(target, old.names.run_id[-4:])
    before = existing(target)
    assert stack_resources(old) | stack_resources(fresh) | keep <= before

    listed = sweep(target, TWO_HOURS, delete=False)
    assert mine(listed, old) == stack_resources(old)
    assert not mine(listed, fresh)
    assert not {(r.kind, r.name) for r in listed.found} & keep
    assert any("not-a-run-id" in line for line in listed.kept_unknown_run)
    assert listed.deleted == [] and listed.failed == [] and listed.ok
    assert existing(target) == before, "listing deleted something"
    text = render(listed, delete=False)
    assert "run again with --yes to delete" in text
    assert old.names.table in text and fresh.names.table not in text

    swept = sweep(target, TWO_HOURS, delete=True)
    assert swept.ok, swept.failed
    assert len([line for line in swept.deleted if old.names.run_id in line]) == len(stack_resources(old))
    after = existing(target)
    assert not stack_resources(old) & after
    assert stack_resources(fresh) | keep <= after
    customer_role = f"customer-role-{old.names.run_id[-4:]}"
    assert target.client("iam").list_role_policies(RoleName=customer_role)["PolicyNames"] == ["keep"]
    mappings = target.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert not [m for m in mappings if m["FunctionArn"].endswith(f":{old.names.monitor_function}")]
    assert point  # the vault held a recovery point and was still deleted

    again = sweep(target, TWO_HOURS, delete=True)
    assert not mine(again, old)
    assert teardown(fresh) == []  # the fresh run's own teardown still works after the janitor passed


def test_one_failed_deletion_does_not_stop_the_rest(target: EmbeddedTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    old = abandoned_stack(target, hours_ago=5, table="flaky")

    def broken(self: Any, leftover: Any) -> None:
        raise RuntimeError(f"simulated failure for {leftover.name}")

    with monkeypatch.context() as patch:
        patch.setattr(_Sweeper, "delete_log_group", broken)
        swept = sweep(target, TWO_HOURS, delete=True)
    assert not swept.ok
    assert len([line for line in swept.failed if old.names.run_id in line]) == 2
    assert all("simulated failure" in line for line in swept.failed)
    remaining = stack_resources(old) & existing(target)
    assert {kind for kind, _ in remaining} == {"log group"}
    assert "FAILED:" in render(swept, delete=True)

    retried = sweep(target, TWO_HOURS, delete=True)
    assert retried.ok and not stack_resources(old) & existing(target)


def test_cli_lists_without_yes_and_exits_zero(target: EmbeddedTarget, capsys: pytest.CaptureFixture[str]) -> None:
    """``drdrill janitor`` starts its own embedded server; in this process it sees the same moto state."""
    old = abandoned_stack(target, hours_ago=4, table="cli")
    try:
        code = main(["janitor", "--target", "embedded", "--older-than", "2h"])
        out = capsys.readouterr().out
        assert code == 0
        assert old.names.table in out and old.names.backup_role in out
        assert "run again with --yes to delete" in out
        assert "ended with its process" not in out  # it found something: no caveat about what it could not see
        assert stack_resources(old) <= existing(target)
    finally:
        assert sweep(target, TWO_HOURS, delete=True).ok


@pytest.mark.parametrize("text", ["banana", "2", "h", "-2h", "2 hours", ""])
def test_bad_older_than_is_a_one_line_usage_error(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["janitor", "--target", "embedded", f"--older-than={text}"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "e.g. 30m, 2h, 1d" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", TWO_HOURS),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_older_than_formats(text: str, expected: timedelta) -> None:
    assert parse_older_than(text) == expected


def test_an_empty_embedded_sweep_says_what_it_could_not_see() -> None:
    """'No leftovers' from a janitor's own fresh embedded target is no all-clear about earlier runs: it says so;
    on aws or localstack an empty sweep is the plain line, and a sweep that found something needs no caveat."""
    empty = JanitorResult(older_than=TWO_HOURS)
    text = render(empty, delete=False, target="embedded")
    assert text.splitlines()[0] == "no drdrill leftovers older than 2h"
    assert "ended with its process" in text and "--target aws" in text
    for other in ("aws", "localstack", None):
        assert render(empty, delete=False, target=other) == "no drdrill leftovers older than 2h"
