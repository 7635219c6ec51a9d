"""The least-privilege posture check reads the monitor role's EFFECTIVE permissions and cannot pass falsely.

Black-box: the stack is provisioned on the embedded target, the role is changed through boto3 (attach a managed
policy, add an inline Deny or an unevaluable statement) and the posture step's check is run on what IAM returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, provision
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify.posture import PostureInspector
from steps.posture import _check

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def stack(embedded: EmbeddedTarget) -> Iterator[Stack]:
    cleanups = Cleanups()
    names = StackNames(new_run_id(), 1, "orders")
    stack = provision(embedded, names, StackSpec(), cleanups)
    try:
        yield stack
    finally:
        iam = embedded.client("iam")
        role = names.monitor_role
        iam.delete_role_permissions_boundary(RoleName=role)
        for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=attached["PolicyArn"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            if name.startswith("test-"):
                iam.delete_role_policy(RoleName=role, PolicyName=name)
        assert cleanups.run() == []


class _Record:
    posture: list[dict[str, object]] = []


class _Drill:
    record = _Record()


def test_drdrills_own_monitor_role_passes(embedded: EmbeddedTarget, stack: Stack) -> None:
    check = PostureInspector(embedded, stack).monitor_can_restore()
    assert check.ok, check.actual
    assert check.actual == "all hold"


def test_administrator_access_attached_to_the_monitor_role_fails_the_check_naming_the_statement(
    embedded: EmbeddedTarget, stack: Stack
) -> None:
    embedded.client("iam").attach_role_policy(RoleName=stack.names.monitor_role, PolicyArn=ADMIN)
    check = PostureInspector(embedded, stack).monitor_can_restore()
    assert not check.ok
    assert f"DeleteTable denied: allowed by {ADMIN}#1" in check.actual
    assert f"PassRole(other role) denied: allowed by {ADMIN}#1" in check.actual
    assert f"StartRestoreJob(another run's recovery point) denied: allowed by {ADMIN}#1" in check.actual
    with pytest.raises(
        AssertionError, match=r"posture check failed: .*DeleteTable denied: allowed by .*AdministratorAccess#1"
    ):
        _check(_Drill(), check)  # type: ignore[arg-type]  # the Then step's own assertion


def test_an_explicit_deny_keeps_an_attached_admin_policy_from_deleting_the_table(
    embedded: EmbeddedTarget, stack: Stack
) -> None:
    iam = embedded.client("iam")
    iam.attach_role_policy(RoleName=stack.names.monitor_role, PolicyArn=ADMIN)
    guard = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoDestruction",
                "Effect": "Deny",
                "Action": ["dynamodb:Delete*", "backup:Delete*"],
                "Resource": "*",
            },
            {
                "Sid": "PassOnlyBackupRole",
                "Effect": "Deny",
                "Action": "iam:PassRole",
                "NotResource": stack.backup_role_arn,
            },
            {
                "Sid": "PassOnlyToBackup",
                "Effect": "Deny",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            },
            {
                "Sid": "RestoreOnlyThisRunsRecoveryPoints",
                "Effect": "Deny",
                "Action": "backup:StartRestoreJob",
                "Resource": "arn:aws:backup:*:*:recovery-point:*",
                "Condition": {"StringNotEquals": {"aws:ResourceTag/drdrill:run-id": stack.names.run_id}},
            },
        ],
    }
    iam.put_role_policy(RoleName=stack.names.monitor_role, PolicyName="test-guard", PolicyDocument=json.dumps(guard))
    check = PostureInspector(embedded, stack).monitor_can_restore()
    assert check.ok, check.actual


def test_a_statement_that_cannot_be_evaluated_fails_the_check_with_the_reason(
    embedded: EmbeddedTarget, stack: Stack
) -> None:
    odd = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OfficeHoursOnly",
                "Effect": "Deny",
                "Action": "backup:StartRestoreJob",
                "Resource": "*",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T18:00:00Z"}},
            }
        ],
    }
    iam = embedded.client("iam")
    iam.put_role_policy(RoleName=stack.names.monitor_role, PolicyName="test-odd", PolicyDocument=json.dumps(odd))
    check = PostureInspector(embedded, stack).monitor_can_restore()
    assert not check.ok
    reason = "cannot be evaluated: test-odd#1 (OfficeHoursOnly): condition operator DateGreaterThan"
    assert f"StartRestoreJob(this run's recovery point): {reason}" in check.actual


def test_a_permissions_boundary_caps_what_the_monitor_role_may_do(embedded: EmbeddedTarget, stack: Stack) -> None:
    # drdrill's own policy allows the restores, but a boundary without backup:StartRestoreJob takes them away:
    # reading the role's policies alone would pass "the change monitor can start restore jobs"
    iam = embedded.client("iam")
    no_restores = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": "backup:StartRestoreJob", "Resource": "*"}],
    }
    boundary = iam.create_policy(PolicyName=f"lp-boundary-{stack.names.run_id}", PolicyDocument=json.dumps(no_restores))
    arn = boundary["Policy"]["Arn"]
    try:
        iam.put_role_permissions_boundary(RoleName=stack.names.monitor_role, PermissionsBoundary=arn)
        check = PostureInspector(embedded, stack).monitor_can_restore()
        assert not check.ok
        assert (
            "StartRestoreJob(this run's recovery point): no statement of the permissions boundary allows it"
            in check.actual
        )
        iam.put_role_permissions_boundary(RoleName=stack.names.monitor_role, PermissionsBoundary=ADMIN)
        check = PostureInspector(embedded, stack).monitor_can_restore()  # a boundary that allows it all caps nothing
        assert check.ok, check.actual
    finally:
        iam.delete_role_permissions_boundary(RoleName=stack.names.monitor_role)
        iam.delete_policy(PolicyArn=arn)
