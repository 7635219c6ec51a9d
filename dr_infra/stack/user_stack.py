"""The parts of a drill's stack that come from the user's stack definition: backup plan, selection, change monitor.

Placeholders in the user's files are filled with the drill's names (:func:`dr_infra.stack.handles.placeholder_values`);
the plan and selection keep the user's rules and resources but take the drill's names (``BackupPlanName``,
``SelectionName``), since parallel drills need names of their own. The user's function is created from their code
byte for byte (a folder is zipped deterministically), with their handler, runtime, timeout and environment, and
their role policy when they give one (else drdrill's least-privilege monitor policy stays on the role).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from dr_infra.stack import function_ready, placeholders, safety
from dr_infra.stack.handles import Stack, placeholder_values
from dr_infra.stack.packaging import user_package
from dr_infra.targets.base import Target

if TYPE_CHECKING:
    from mypy_boto3_backup.type_defs import BackupPlanInputTypeDef, BackupSelectionTypeDef

RESTORE_SETTLE_S = 120.0
"""How long teardown waits for a restore the user's monitor started to finish, so its table can be deleted."""
_IN_FLIGHT = {"CREATED", "PENDING", "RUNNING"}


def _values(stack: Stack) -> dict[str, str]:
    return placeholder_values(stack)


def _tagged(rule: dict[str, Any], stack: Stack) -> dict[str, Any]:
    """A plan rule whose recovery points carry the run's tags (the user's own ``RecoveryPointTags`` kept).

    The monitor's role may restore only recovery points tagged with its run id
    (:func:`dr_infra.stack.iam_policies.monitor_role_policy`); a rule's ``RecoveryPointTags`` are put on every
    recovery point it makes (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html)."""
    return {**rule, "RecoveryPointTags": {**dict(rule.get("RecoveryPointTags") or {}), **stack.names.tags()}}


def plan_document(stack: Stack) -> BackupPlanInputTypeDef:
    """CreateBackupPlan's ``BackupPlan``: the user's (filled in, renamed) or the original design's 12 h / 35 days.

    Every rule tags its recovery points with the run's tags (:func:`_tagged`). The user's document is passed as
    written (checked by the definition's schema, then by AWS Backup), hence the cast."""
    spec = stack.spec
    if spec.definition is not None and spec.definition.backup is not None:
        plan: dict[str, Any] = placeholders.fill(spec.definition.backup.plan, _values(stack))
        rules = [_tagged(rule, stack) for rule in plan.get("Rules", [])]
        return cast("BackupPlanInputTypeDef", {**plan, "BackupPlanName": stack.names.plan, "Rules": rules})
    return {
        "BackupPlanName": stack.names.plan,
        "Rules": [
            {
                "RuleName": "every-12-hours",
                "TargetBackupVaultName": stack.names.vault,
                "ScheduleExpression": spec.schedule_expression,
                "Lifecycle": {"DeleteAfterDays": spec.retention_days},
                "EnableContinuousBackup": True,
                "RecoveryPointTags": stack.names.tags(),
            }
        ],
    }


def selection_document(stack: Stack) -> BackupSelectionTypeDef:
    """CreateBackupSelection's ``BackupSelection``: the user's (filled in, renamed) or the table and its restores."""
    spec = stack.spec
    if spec.definition is not None and spec.definition.backup is not None:
        selection: dict[str, Any] = placeholders.fill(spec.definition.backup.selection, _values(stack))
        return cast("BackupSelectionTypeDef", {**selection, "SelectionName": stack.names.selection})
    return {
        "SelectionName": stack.names.selection,
        "IamRoleArn": stack.backup_role_arn,
        "Resources": [stack.table_arn, f"{stack.table_arn}-restored-*"],
    }


def create_user_monitor(target: Target, stack: Stack, retry_new_role: Callable[[Any], Any]) -> str:
    """Create the user's change monitor function under the drill's name; returns its ARN (teardown registered)."""
    definition = stack.spec.definition
    assert definition is not None and definition.monitor is not None
    monitor = definition.monitor
    values = _values(stack)
    iam, lam = target.client("iam"), target.client("lambda")
    if monitor.role_policy is not None:
        iam.put_role_policy(
            RoleName=stack.names.monitor_role,
            PolicyName="drdrill",
            PolicyDocument=json.dumps(placeholders.fill(monitor.role_policy, values)),
        )
    package = user_package(monitor.source)
    stack.code_sha256 = package.sha256
    name = stack.names.monitor_function
    arguments: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": monitor.runtime,
        "Role": stack.monitor_role_arn,
        "Handler": monitor.handler,
        "Code": {"ZipFile": package.data},
        "Timeout": monitor.timeout_seconds,
        "MemorySize": 256,
        "Tags": stack.names.tags(),
        "Description": f"the user's change monitor ({monitor.source.name}), deployed by a drdrill drill",
    }
    if monitor.environment:
        arguments["Environment"] = {"Variables": placeholders.fill(monitor.environment, values)}
    arn = str(retry_new_role(lam.create_function)(**arguments)["FunctionArn"])
    stack.cleanups.add(f"delete function {name}", lambda: safety.delete_function(lam, arn, stack.names.run_id))
    stack.created.append(f"lambda function {name} (the user's monitor: {monitor.source.name}, {monitor.handler})")
    return arn


def refill_stream_arn(target: Target, stack: Stack) -> bool:
    """Fill ``{stream_arn}`` again once the stream exists; True when the user's monitor was updated.

    drdrill enables the table's stream only when it protects the table, after the seeding
    (:mod:`dr_infra.stack.protect`), so at provisioning ``{stream_arn}`` had no value yet (a stream ARN carries the
    moment the stream was enabled). The role policy and the environment that use it are written again now, and the
    function's update is waited for (AWS applies it asynchronously: LastUpdateStatus InProgress).
    """
    definition = stack.spec.definition
    monitor = definition.monitor if definition is not None else None
    if monitor is None or not stack.stream_arn:
        return False
    uses = [doc for doc in (monitor.role_policy, monitor.environment) if doc and "{stream_arn}" in json.dumps(doc)]
    if not uses:
        return False
    values = _values(stack)
    iam, lam = target.client("iam"), target.client("lambda")
    if monitor.role_policy is not None and "{stream_arn}" in json.dumps(monitor.role_policy):
        iam.put_role_policy(
            RoleName=stack.names.monitor_role,
            PolicyName="drdrill",
            PolicyDocument=json.dumps(placeholders.fill(monitor.role_policy, values)),
        )
    if monitor.environment and "{stream_arn}" in json.dumps(monitor.environment):
        lam.update_function_configuration(
            FunctionName=stack.names.monitor_function,
            Environment={"Variables": placeholders.fill(monitor.environment, values)},
        )
        function_ready.wait_updated(lam, stack.names.monitor_function)
    return True


def settle_restores(target: Target, stack: Stack, limit_s: float = RESTORE_SETTLE_S) -> None:
    """Wait for AWS Backup restore jobs of the table's recovery points still in flight, so the tables they create
    exist when teardown deletes what the drill caused (a restore job cannot be cancelled). One still running after
    ``limit_s`` is a cleanup failure naming it."""
    if "backup" not in target.capabilities or not stack.table_arn:
        return
    backup = target.client("backup")
    deadline = time.monotonic() + limit_s
    since = datetime.now(UTC) - timedelta(days=1)  # a drill's restores are hours old at most; AWS keeps jobs longer
    while True:
        points = {
            p["RecoveryPointArn"]
            for page in backup.get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=stack.table_arn)
            for p in page.get("RecoveryPoints", [])
        }
        running = [
            job
            for page in backup.get_paginator("list_restore_jobs").paginate(ByCreatedAfter=since)
            for job in page.get("RestoreJobs", [])
            if job.get("RecoveryPointArn") in points and job.get("Status") in _IN_FLIGHT
        ]
        if not running:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"restore job {running[0]['RestoreJobId']} of {stack.names.table} is still {running[0]['Status']} "
                f"after {limit_s:g} s: the table it creates must be deleted by hand or by drdrill janitor"
            )
        time.sleep(min(2.0, target.max_poll_interval))
