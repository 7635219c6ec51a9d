"""`drdrill plan` shows the IAM documents the embedded target then enforces, byte for byte after JSON parsing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dr_infra.app.plan_stack import describe_plan
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, provision
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify.effective_permissions import RolePolicies


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
