"""Posture of a deployed stack against the DR policy, read-only, before the drill writes anything to the table.

A deployed stack is the user's: it is judged by what AWS shows of it, never configured. The checks are the ones
its recovery depends on:

* the table's stream carries NEW_AND_OLD_IMAGES (the monitor sees what a change was),
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html#Streams.Enabling;
* point-in-time recovery is ENABLED (DescribeContinuousBackups),
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeContinuousBackups.html;
* a backup plan whose selection covers the table's ARN, running at least as often and keeping recovery points at
  least as long as the policy asks, https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html;
* the monitor's event source mapping on the table's current stream is ``Enabled`` (a ``Disabled`` mapping reads
  nothing), https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-eventsourcemapping.html;
* the monitor's execution role may call ``backup:StartRestoreJob`` (its effective permissions: IAM's simulator on
  aws, drdrill's evaluator elsewhere), https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html.

Unlike drdrill's own stack, the deployed mapping may start at LATEST or TRIM_HORIZON and the role may be scoped
as the user likes: the drill asks only what its recovery needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dr_infra.stack.provision import Stack
from dr_infra.targets.base import Target
from dr_infra.targets.iam_evaluator import Decision
from dr_infra.verify import effective_permissions
from dr_infra.verify.posture import PostureCheck, PostureInspector

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import EventSourceMappingConfigurationTypeDef


def _mappings(target: Target, stack: Stack) -> list[EventSourceMappingConfigurationTypeDef]:
    if not stack.stream_arn or not stack.names.monitor_function:
        return []
    lam = target.client("lambda")
    pages = lam.get_paginator("list_event_source_mappings").paginate(
        EventSourceArn=stack.stream_arn, FunctionName=stack.names.monitor_function
    )
    return [m for page in pages for m in page.get("EventSourceMappings", [])]


def mapping_enabled(target: Target, stack: Stack) -> PostureCheck:
    """The deployed monitor's mapping on the table's current stream is Enabled (read now, ListEventSourceMappings)."""
    expected = "an Enabled event source mapping of the monitor on the table's current stream"
    name = "change monitor's event source mapping"
    function = stack.names.monitor_function
    if not stack.stream_arn:
        return PostureCheck(name, expected, "the table has no stream", False)
    mappings = _mappings(target, stack)
    if not mappings:
        found = f"no mapping of {function} on the stream" if function else "no mapping on the stream"
        return PostureCheck(name, expected, found, False)
    states = [f"{m.get('UUID')} {m.get('State')} ({m.get('StartingPosition', '?')})" for m in mappings]
    ok = any(m.get("State") == "Enabled" for m in mappings)
    actual = f"{function}: " + ", ".join(states)
    if not ok:
        actual += ": a mapping that is not Enabled reads no stream records, so no change reaches the monitor"
    return PostureCheck(name, expected, actual, ok)


def monitor_can_restore(target: Target, stack: Stack) -> PostureCheck:
    """The deployed monitor's role may call backup:StartRestoreJob on a recovery point (its effective permissions)."""
    check = "change monitor's role may start restore jobs"
    expected = "backup:StartRestoreJob allowed on the vault's recovery points"
    if not stack.monitor_role_arn:
        return PostureCheck(check, expected, "no change monitor, so no role", False)
    role = stack.monitor_role_arn.rsplit("/", 1)[-1]
    point = f"arn:aws:backup:{stack.region}:{stack.account_id}:recovery-point:*"
    result = effective_permissions.of_role(target, role, stack.monitor_role_arn).evaluate(
        "backup:StartRestoreJob", point, {}
    )
    ok = result.decision is not Decision.UNDECIDABLE and result.allowed
    actual = f"{role}: {result.explain()}"
    if not ok:
        actual += ": the monitor cannot start the restore it exists for"
    return PostureCheck(check, expected, actual, ok)


def _no_plan(what: str) -> PostureCheck:
    return PostureCheck(what, "a backup plan whose selection covers the table", "no such plan was found", False)


def check_deployed(target: Target, stack: Stack, frequency_hours: float, retention_days: int) -> list[PostureCheck]:
    """Every posture check of a deployed stack (read-only) against the policy's backup cadence and retention, each
    with its evidence."""
    inspector = PostureInspector(target, stack)
    checks = [inspector.stream_view_type()]
    if "pitr" in target.capabilities:
        checks.append(inspector.pitr_enabled())
    if "backup" in target.capabilities:
        if stack.plan_id:
            checks.append(inspector.backup_frequency(frequency_hours))
            checks.append(inspector.backup_retention(retention_days))
            if "backup_selections" in target.capabilities:
                checks.append(inspector.selection_covers_table())
        else:
            checks.append(_no_plan("backup selection covers the table"))
    if "lambda" in target.capabilities:
        checks.append(mapping_enabled(target, stack))
    if "iam" in target.capabilities:
        checks.append(monitor_can_restore(target, stack))
    return checks
