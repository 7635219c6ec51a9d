"""Least privilege, proven: the monitor role's policy read back from IAM, linted, and enforced.

Three layers, each with what it can and cannot prove:

1. The policy read back from IAM (``GetRolePolicy``) grants exactly the documented (action, resource,
   condition) triples, nothing more: no ``dynamodb:DeleteTable``, ``iam:PassRole`` only on the backup role
   and only to ``backup.amazonaws.com``, ``*`` only for the actions without resource-level permissions (the
   list in ``dr_infra/stack/iam_policies.py``). Evaluated with :mod:`dr_infra.verify.iam_eval`.
2. ``parliament`` (Duo Labs' IAM linter, offline) finds nothing above LOW in drdrill's policies.
3. The embedded target's IAM authorization (:mod:`dr_infra.targets.embedded.iam_enforcement`): requests
   signed with a user's access key holding exactly the monitor role's policy can DescribeTable /
   RestoreTableToPointInTime / StartRestoreJob / DescribeRestoreJob, and DeleteTable, foreign tables and passing
   another role are refused with AccessDeniedException. Strict mode (``/_drdrill/iam-enforcement``) also refuses
   keys the target did not issue; it is process-global, so these tests use their own :class:`EmbeddedTarget`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dr_infra.drill.waits import (
    PHASE_BACKUP_JOB,
    PHASE_RESTORE_JOB,
    WaitPolicy,
    backup_job_probe,
    restore_job_probe,
)
from dr_infra.stack import iam_policies
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.provision import Stack, provision
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.control_client import ControlClient
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify import iam_eval

STAR_ACTIONS = frozenset(
    {
        "dynamodb:ListStreams",
        "backup:ListRestoreJobs",
        "backup:DescribeRestoreJob",
        "backup:ListRecoveryPointsByResource",
        "lambda:CreateEventSourceMapping",
        "lambda:ListEventSourceMappings",
    }
)
"""Actions without resource-level permissions: the only ones granted on ``*`` (as documented)."""

PITR_AND_REPAIR = (
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ListTagsOfResource",
)
WRITE_RESTORED = (
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:TagResource",
)
Grant = tuple[str, str, str | None]


def documented_grants(stack: Stack) -> set[Grant]:
    """What the monitor may do, written out from the documentation (not from the policy function)."""
    region, account, n = stack.region, stack.account_id, stack.names
    table = f"arn:aws:dynamodb:{region}:{account}:table/{n.table}"
    restored = f"{table}-restored-*"
    logs = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{n.prefix}-*"
    grants: set[Grant] = set()

    def allow(actions: tuple[str, ...], resources: tuple[str, ...], condition: Any = None) -> None:
        cond = json.dumps(condition, sort_keys=True) if condition else None
        grants.update((a, r, cond) for a in actions for r in resources)

    allow(
        ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
        (f"{table}/stream/*", f"{restored}/stream/*"),
    )
    allow(("dynamodb:ListStreams",), ("*",))
    allow(  # an AWS Backup recovery point ARN names no table or vault: only this run's tag scopes it
        ("backup:StartRestoreJob", "backup:DescribeRecoveryPoint"),
        (f"arn:aws:backup:{region}:{account}:recovery-point:*",),
        {"StringEquals": {"aws:ResourceTag/drdrill:run-id": n.run_id}},
    )
    allow(  # DynamoDB backups carry no tags: scoped by the table name in their ARN
        ("backup:StartRestoreJob", "backup:DescribeRecoveryPoint"),
        (f"{table}/backup/*", f"{restored}/backup/*"),
    )
    allow(
        ("backup:ListRecoveryPointsByBackupVault",),
        (f"arn:aws:backup:{region}:{account}:backup-vault:{n.vault}",),
    )
    allow(("backup:DescribeRestoreJob", "backup:ListRestoreJobs", "backup:ListRecoveryPointsByResource"), ("*",))
    allow(PITR_AND_REPAIR, (table, restored))  # a re-protected restored table is restorable and repairable too
    allow(WRITE_RESTORED, (restored,))
    allow(
        ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        (f"arn:aws:dynamodb:{region}:{account}:table/{n.ledger_table}",),
    )
    monitor_fn = f"arn:aws:lambda:{region}:{account}:function:{n.monitor_function}"
    allow(("lambda:CreateEventSourceMapping",), ("*",), {"StringEquals": {"lambda:FunctionArn": monitor_fn}})
    allow(("lambda:ListEventSourceMappings",), ("*",))
    allow(("logs:CreateLogStream", "logs:PutLogEvents"), (logs, f"{logs}:*"))
    allow(
        ("iam:PassRole",),
        (f"arn:aws:iam::{account}:role/{n.backup_role}",),
        {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
    )
    return grants


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants_of(document: dict[str, Any]) -> set[Grant]:
    """(action, resource, condition) triples an identity policy allows (Allow statements only)."""
    found: set[Grant] = set()
    for statement in _as_list(document["Statement"]):
        assert statement["Effect"] == "Allow", statement
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), statement
        cond = json.dumps(statement["Condition"], sort_keys=True) if statement.get("Condition") else None
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                found.add((action, resource, cond))
    return found


def read_role_policies(target: EmbeddedTarget, role: str) -> list[dict[str, Any]]:
    iam = target.client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    docs = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"] for name in names]
    return [json.loads(d) if isinstance(d, str) else d for d in docs]


@pytest.fixture(scope="module")
def lp_target() -> Iterator[EmbeddedTarget]:
    """A dedicated embedded target: IAM enforcement is switched on in these tests."""
    target = EmbeddedTarget()
    target.start()
    try:
        yield target
    finally:
        _control(target).stop_enforcing_iam()
        target.stop()


@pytest.fixture(scope="module")
def stack(lp_target: EmbeddedTarget) -> Iterator[Stack]:
    cleanups = Cleanups()
    names = StackNames(new_run_id(), 1, "orders")
    stack = provision(lp_target, names, StackSpec(), cleanups)
    try:
        yield stack
    finally:
        _control(lp_target).stop_enforcing_iam()
        ddb = lp_target.client("dynamodb")
        for table in ddb.list_tables()["TableNames"]:
            if table.startswith(f"{names.table}-restored-"):
                ddb.delete_table(TableName=table)
        assert cleanups.run() == []


# -- 1. the policy read back from IAM ------------------------------------------------------------------------------
def test_monitor_policy_read_back_from_iam_grants_exactly_the_documented_actions(
    lp_target: EmbeddedTarget, stack: Stack
) -> None:
    documents = read_role_policies(lp_target, stack.names.monitor_role)
    assert len(documents) == 1, f"expected one inline policy, found {len(documents)}"
    granted = grants_of(documents[0])
    expected = documented_grants(stack)
    assert granted == expected, {
        "not documented": sorted(granted - expected, key=str),
        "missing": sorted(expected - granted, key=str),
    }


def test_monitor_policy_has_no_wildcard_beyond_the_documented_actions(lp_target: EmbeddedTarget, stack: Stack) -> None:
    (document,) = read_role_policies(lp_target, stack.names.monitor_role)
    grants = grants_of(document)
    assert all("*" not in action for action, _, _ in grants), "wildcard actions"
    on_star = {action for action, resource, _ in grants if resource == "*"}
    assert on_star == STAR_ACTIONS
    doc = " ".join((iam_policies.__doc__ or "").split())
    assert all(f"``{action}``" in doc for action in STAR_ACTIONS), "the module docstring must list them"
    assert not any(
        action.startswith(("dynamodb:Delete", "backup:Delete")) and action != "dynamodb:DeleteItem"
        for action, _, _ in grants
    )


def test_monitor_can_pass_only_the_backup_role_only_to_backup(lp_target: EmbeddedTarget, stack: Stack) -> None:
    (document,) = read_role_policies(lp_target, stack.names.monitor_role)
    passing = [s for s in _as_list(document["Statement"]) if "iam:PassRole" in _as_list(s["Action"])]
    backup_role = lp_target.client("iam").get_role(RoleName=stack.names.backup_role)["Role"]["Arn"]
    assert passing == [
        {
            "Sid": "PassOnlyTheBackupRoleToBackup",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [backup_role],
            "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
        }
    ]
    to = {"iam:PassedToService": "backup.amazonaws.com"}
    assert iam_eval.allows([document], "iam:PassRole", backup_role, to)
    assert not iam_eval.allows([document], "iam:PassRole", backup_role, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not iam_eval.allows([document], "iam:PassRole", backup_role)  # no service named: no pass
    assert not iam_eval.allows([document], "iam:PassRole", stack.monitor_role_arn, to)
    assert not iam_eval.allows([document], "iam:PassRole", f"arn:aws:iam::{stack.account_id}:role/admin", to)


def test_monitor_cannot_delete_tables_backups_or_vaults(lp_target: EmbeddedTarget, stack: Stack) -> None:
    (document,) = read_role_policies(lp_target, stack.names.monitor_role)
    table = stack.table_arn
    for resource in (
        table,
        f"{table}-restored-20250101T000000Z",
        "*",
        f"arn:aws:dynamodb:{stack.region}:{stack.account_id}:table/{stack.names.ledger_table}",
    ):
        assert not iam_eval.allows([document], "dynamodb:DeleteTable", resource), resource
    assert not iam_eval.allows(
        [document], "dynamodb:PutItem", f"arn:aws:dynamodb:{stack.region}:{stack.account_id}:table/other"
    )
    assert not iam_eval.allows(
        [document],
        "backup:DeleteRecoveryPoint",
        f"arn:aws:backup:{stack.region}:{stack.account_id}:recovery-point:x",
    )
    assert not iam_eval.allows([document], "backup:DeleteBackupVault", stack.vault_arn or "*")
    assert iam_eval.allows([document], "dynamodb:RestoreTableToPointInTime", table)
    point = f"arn:aws:backup:{stack.region}:{stack.account_id}:recovery-point:x"
    tag = "aws:ResourceTag/drdrill:run-id"
    assert iam_eval.allows([document], "backup:StartRestoreJob", point, {tag: stack.names.run_id})
    assert not iam_eval.allows([document], "backup:StartRestoreJob", point, {tag: "another-run"})


def test_backup_role_cannot_delete_the_table_or_pass_roles(lp_target: EmbeddedTarget, stack: Stack) -> None:
    (document,) = read_role_policies(lp_target, stack.names.backup_role)
    assert document == iam_policies.backup_role_policy(stack.names, stack.region, stack.account_id)
    assert not iam_eval.allows([document], "dynamodb:DeleteTable", stack.table_arn)
    assert not any("iam:" in a for a, _, _ in grants_of(document))


# -- 2. the linter ----------------------------------------------------------------------------------------------------
def test_parliament_finds_nothing_above_low_in_drdrills_policies() -> None:
    parliament = pytest.importorskip("parliament", reason="parliament (IAM linter) is a dev extra")
    names = StackNames(new_run_id(), 1, "orders")
    region, account = "eu-west-1", "123456789012"
    documents = {
        "monitor": iam_policies.monitor_role_policy(names, region, account),
        "backup": iam_policies.backup_role_policy(names, region, account),
    }
    problems = []
    for name, document in documents.items():
        policy = parliament.analyze_policy_string(json.dumps(document))
        for finding in policy.findings:
            parliament.enhance_finding(finding)
            if finding.severity not in ("LOW", "INFO", "MUTE"):
                problems.append(f"{name}: {finding.severity} {finding.issue}: {finding.detail}")
    assert problems == []


# -- 3. enforced by the embedded target ---------------------------------------------------------------------------
def _control(target: EmbeddedTarget) -> ControlClient:
    assert target.control is not None, "the embedded target is not started"
    return target.control


def _denied(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in (400, 403) and error.get("Code") == "AccessDeniedException"


def test_credentials_with_the_monitors_policy_can_restore_and_cannot_delete_the_table(
    lp_target: EmbeddedTarget, stack: Stack
) -> None:
    admin = lp_target.client
    names = stack.names
    admin("dynamodb").put_item(TableName=names.table, Item={"LockId": {"S": "a"}})
    job = admin("backup").start_backup_job(
        BackupVaultName=names.vault,
        ResourceArn=stack.table_arn,
        IamRoleArn=stack.backup_role_arn,
        RecoveryPointTags=names.tags(),
    )
    point = WaitPolicy(PHASE_BACKUP_JOB, 60).run(backup_job_probe(admin("backup"), job["BackupJobId"])).value
    untagged = admin("backup").start_backup_job(
        BackupVaultName=names.vault, ResourceArn=stack.table_arn, IamRoleArn=stack.backup_role_arn
    )["RecoveryPointArn"]
    # a user whose only permissions are the monitor role's policy, read back from IAM
    (document,) = read_role_policies(lp_target, names.monitor_role)
    user = f"{names.prefix}-monitor-probe"
    iam = admin("iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="monitor", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=lp_target.region,
    )
    config = Config(retries={"mode": "standard", "max_attempts": 1})
    ddb = session.client("dynamodb", endpoint_url=lp_target.endpoint_url, config=config)
    backup = session.client("backup", endpoint_url=lp_target.endpoint_url, config=config)
    restore_job_id = None
    try:
        assert ddb.describe_table(TableName=names.table)["Table"]["TableStatus"] == "ACTIVE"
        restored = ddb.restore_table_to_point_in_time(
            SourceTableName=names.table,
            TargetTableName=f"{names.table}-restored-pitr",
            UseLatestRestorableTime=True,
        )
        assert restored["TableDescription"]["TableName"] == f"{names.table}-restored-pitr"
        restore_job_id = backup.start_restore_job(
            RecoveryPointArn=point["RecoveryPointArn"],
            Metadata={"targetTableName": f"{names.table}-restored-backup"},
            IamRoleArn=stack.backup_role_arn,
            ResourceType="DynamoDB",
        )["RestoreJobId"]
        assert backup.describe_restore_job(RestoreJobId=restore_job_id)["RestoreJobId"] == restore_job_id

        refusals = {
            "DeleteTable(table)": lambda: ddb.delete_table(TableName=names.table),
            "DeleteTable(restored)": lambda: ddb.delete_table(TableName=f"{names.table}-restored-pitr"),
            "PutItem(other table)": lambda: ddb.put_item(TableName="someone-elses", Item={"LockId": {"S": "x"}}),
            "Scan(table)": lambda: ddb.scan(TableName=names.table),
            "DeleteRecoveryPoint": lambda: backup.delete_recovery_point(
                BackupVaultName=names.vault, RecoveryPointArn=point["RecoveryPointArn"]
            ),
            "StartRestoreJob(other account's point)": lambda: backup.start_restore_job(
                RecoveryPointArn="arn:aws:backup:us-east-1:999999999999:recovery-point:x",
                Metadata={"targetTableName": "x"},
                IamRoleArn=stack.backup_role_arn,
            ),
            "StartRestoreJob(untagged point of the table)": lambda: backup.start_restore_job(
                RecoveryPointArn=untagged,
                Metadata={"targetTableName": f"{names.table}-restored-untagged"},
                IamRoleArn=stack.backup_role_arn,
            ),
            "StartRestoreJob(passing the monitor's own role)": lambda: backup.start_restore_job(
                RecoveryPointArn=point["RecoveryPointArn"],
                Metadata={"targetTableName": f"{names.table}-restored-x"},
                IamRoleArn=stack.monitor_role_arn,
            ),
        }
        allowed = []
        for name, call in refusals.items():
            try:
                call()
            except ClientError as exc:
                assert _denied(exc), f"{name}: {exc.response['Error']}"
            else:
                allowed.append(name)
        assert allowed == [], f"the monitor's policy allowed {allowed}"
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=user, PolicyName="monitor")
        iam.delete_user(UserName=user)
    # the admin's (unknown, so root) credentials still work, and the table survived
    assert admin("dynamodb").describe_table(TableName=names.table)["Table"]["TableStatus"] == "ACTIVE"
    if restore_job_id:
        WaitPolicy(PHASE_RESTORE_JOB, 60).run(restore_job_probe(admin("backup"), restore_job_id))


def test_strict_mode_refuses_keys_the_target_did_not_issue(lp_target: EmbeddedTarget, stack: Stack) -> None:
    control = _control(lp_target)
    with control.iam_enforced() as state:
        assert state["enforced"] is True
        with pytest.raises(ClientError) as refused:
            lp_target.client("dynamodb").describe_table(TableName=stack.names.table)
        assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert (control.info() or {}).get("iam_enforcement", {}).get("enforced") is False
    assert lp_target.client("dynamodb").describe_table(TableName=stack.names.table)["Table"]["TableName"]
