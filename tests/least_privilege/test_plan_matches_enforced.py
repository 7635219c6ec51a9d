"""`drdrill plan` shows the IAM documents the embedded target then enforces, byte for byte after JSON parsing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr_infra.app.plan_stack import describe_plan
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.definition import load_definition
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, provision
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify.effective_permissions import RolePolicies

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(embedded: EmbeddedTarget) -> Iterator[Stack]:
    cleanups = Cleanups()
    stack = provision(embedded, StackNames(new_run_id(), 1, "orders"), StackSpec(), cleanups)
    try:
        yield stack
    finally:
        assert cleanups.run() == []


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_the_plans_iam_documents_are_the_ones_iam_holds_and_enforces(embedded: EmbeddedTarget, stack: Stack) -> None:
    plan = describe_plan(stack.region, stack.account_id, 1.0, run_id=stack.names.run_id)["iam"]
    iam = embedded.client("iam")
    assert set(plan) == {stack.names.backup_role, stack.names.monitor_role}
    for role, planned in plan.items():
        trust = _document(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])
        assert trust == planned["trust"], role
        enforced = RolePolicies.read(iam, role).policies  # what the authorizer and the posture check evaluate
        assert [(p.name, dict(p.document)) for p in enforced] == [("drdrill", planned["permissions"])], role


def test_a_definitions_role_policy_in_the_plan_is_the_one_iam_holds(embedded: EmbeddedTarget, tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples" / "seed-runbook", tmp_path / "sr")
    role_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "backup:StartRestoreJob", "Resource": "*"},
            {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": "{table_arn}"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "{restore_role_arn}"},
        ],
    }
    (tmp_path / "sr" / "monitor-policy.json").write_text(json.dumps(role_policy))
    toml = tmp_path / "sr" / "stack.toml"
    toml.write_text(
        toml.read_text().replace("log_pattern = ", 'role_policy = "monitor-policy.json"\nlog_pattern = ', 1)
    )
    spec = StackSpec.from_definition(load_definition(toml), logical_table="dynamo-demo")
    cleanups = Cleanups()
    stack = provision(embedded, StackNames(new_run_id(), 1, "dynamo-demo"), spec, cleanups)
    try:
        plan = describe_plan(stack.region, stack.account_id, 1.0, run_id=stack.names.run_id, spec=spec)["iam"]
        iam = embedded.client("iam")
        assert set(plan) == {stack.names.backup_role, stack.names.monitor_role}
        for role, planned in plan.items():
            assert _document(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]) == planned["trust"]
            enforced = RolePolicies.read(iam, role).policies
            assert [(p.name, dict(p.document)) for p in enforced] == [("drdrill", planned["permissions"])], role
        assert plan[stack.names.monitor_role]["permissions"]["Statement"][1]["Resource"] == stack.table_arn
    finally:
        assert cleanups.run() == []
