"""The stack a drill creates, as a plan: every resource, its name and settings, the IAM documents, the tags.

Computed from the same declarations provisioning uses (:class:`~dr_infra.stack.names.StackNames`,
:class:`~dr_infra.stack.spec.StackSpec`, :mod:`~dr_infra.stack.iam_policies`, the stack's own constants), so
the plan cannot drift from what a run creates, and no client is ever built.
"""

from __future__ import annotations

from typing import Any

from dr_infra.app import plan_definition
from dr_infra.stack import iam_policies
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.handles import MONITOR_HANDLER, REPROTECT_HANDLER, RUNTIME, Stack
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.pricing import estimate_cost
from dr_infra.stack.spec import StackSpec

__all__ = ["RESTORED_TEMPLATE", "describe_plan"]

RESTORED_TEMPLATE = "{table}-restored-{incident}"
"""The change monitor's default ``DR_RESTORED_TABLE_TEMPLATE``."""


def describe_plan(
    region: str, account: str, table_gb: float, run_id: str | None = None, spec: StackSpec | None = None
) -> dict[str, Any]:
    """The whole plan as a JSON-ready dict: resources, IAM documents, tags and the cost estimate.

    Pure: no client, no network. ``run_id`` defaults to a fresh sample, because real names embed the run id
    of the run that creates them.
    """
    spec = spec or StackSpec()
    run_id = run_id or new_run_id()
    names = StackNames(run_id, 1, spec.logical_table)
    arn = {
        "table": f"arn:aws:dynamodb:{region}:{account}:table/{names.table}",
        "backup_role": f"arn:aws:iam::{account}:role/{names.backup_role}",
        "monitor_role": f"arn:aws:iam::{account}:role/{names.monitor_role}",
        "monitor_fn": f"arn:aws:lambda:{region}:{account}:function:{names.monitor_function}",
        "reprotect_fn": f"arn:aws:lambda:{region}:{account}:function:{names.reprotect_function}",
        "rule": f"arn:aws:events:{region}:{account}:rule/{names.restore_rule}",
    }
    # The same environment provisioning gives the functions, from a Stack that is never provisioned.
    sample = Stack(
        names,
        spec,
        region,
        account,
        Cleanups(),
        table_arn=arn["table"],
        backup_role_arn=arn["backup_role"],
        monitor_role_arn=arn["monitor_role"],
        vault_arn=f"arn:aws:backup:{region}:{account}:backup-vault:{names.vault}",
    )
    sample.monitor_function_arn = arn["monitor_fn"]
    environment = sample.monitor_environment()
    tags = names.tags()
    resources: list[dict[str, Any]] = [
        {
            "kind": "dynamodb table",
            "name": names.table,
            "arn": arn["table"],
            "settings": {
                "KeySchema": spec.key_schema(),
                "BillingMode": "PAY_PER_REQUEST",
                "StreamViewType": "NEW_AND_OLD_IMAGES (enabled after seeding, just before the first change)",
                "PointInTimeRecovery": "enabled",
            },
        },
        {
            "kind": "dynamodb table",
            "name": names.ledger_table,
            "role": "incident ledger (idempotency of restores)",
            "settings": {
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        },
        {
            "kind": "dynamodb table (created by restores)",
            "name": RESTORED_TEMPLATE.format(table=names.table, incident="<incident>"),
            "role": "restored copies; deleted by teardown by name prefix (restores copy no tags)",
        },
        {"kind": "backup vault", "name": names.vault},
        {
            "kind": "backup plan",
            "name": names.plan,
            "settings": {
                "Rule": {
                    "RuleName": "every-12-hours",
                    "TargetBackupVaultName": names.vault,
                    "ScheduleExpression": spec.schedule_expression,
                    "Lifecycle": {"DeleteAfterDays": spec.retention_days},
                    "EnableContinuousBackup": True,
                }
            },
        },
        {
            "kind": "backup selection",
            "name": names.selection,
            "settings": {
                "IamRoleArn": arn["backup_role"],
                "Resources": [arn["table"], f"{arn['table']}-restored-*"],
            },
        },
        {
            "kind": "iam role",
            "name": names.backup_role,
            "arn": arn["backup_role"],
            "settings": {"trusts": iam_policies.BACKUP_SERVICE, "inline policy": "drdrill"},
        },
        {
            "kind": "iam role",
            "name": names.monitor_role,
            "arn": arn["monitor_role"],
            "settings": {"trusts": iam_policies.LAMBDA_SERVICE, "inline policy": "drdrill"},
        },
    ]
    for function, handler, role in (
        (names.monitor_function, MONITOR_HANDLER, "change monitor (stream -> restore)"),
        (names.reprotect_function, REPROTECT_HANDLER, "re-protects restored tables"),
    ):
        resources.append(
            {
                "kind": "log group",
                "name": names.log_group(function),
                "settings": {"retentionInDays": spec.log_retention_days},
            }
        )
        resources.append(
            {
                "kind": "lambda function",
                "name": function,
                "role": role,
                "settings": {
                    "Runtime": RUNTIME,
                    "Handler": handler,
                    "Role": arn["monitor_role"],
                    "Timeout": spec.function_timeout_s,
                    "MemorySize": 256,
                    "Environment": environment,
                },
            }
        )
    resources += [
        {
            "kind": "event source mapping",
            "name": f"{names.table} stream -> {names.monitor_function}",
            "settings": {
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": spec.esm_batch_size,
                "MaximumBatchingWindowInSeconds": 0,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumRetryAttempts": spec.esm_max_retry_attempts,
                "MaximumRecordAgeInSeconds": spec.esm_max_record_age_s,
                "BisectBatchOnFunctionError": True,
            },
        },
        {
            "kind": "eventbridge rule",
            "name": names.restore_rule,
            "arn": arn["rule"],
            "settings": {
                "EventPattern": {
                    "source": ["aws.backup"],
                    "detail-type": ["Restore Job State Change"],
                    "detail": {"status": ["COMPLETED"]},
                },
                "Target": arn["reprotect_fn"],
                "Lambda permission": "drdrill-restore-completed (events.amazonaws.com, this rule only)",
            },
        },
    ]
    resources = plan_definition.adjust(resources, spec, sample)
    monitor_permissions = plan_definition.monitor_permissions(
        spec, sample, iam_policies.monitor_role_policy(names, region, account)
    )
    return {
        "sample_run_id": run_id,
        "region": region,
        "account": account,
        "logical_table": spec.logical_table,
        "resources": resources,
        "iam": {
            names.backup_role: {
                "trust": iam_policies.trust_policy(iam_policies.BACKUP_SERVICE),
                "permissions": iam_policies.backup_role_policy(names, region, account, spec.user_monitor),
            },
            names.monitor_role: {
                "trust": iam_policies.trust_policy(iam_policies.LAMBDA_SERVICE),
                "permissions": monitor_permissions,
            },
        },
        "definition": spec.definition.describe() if spec.definition is not None else None,
        "tags": tags,
        "untaggable": ["backup selection", "event source mapping", "restored tables (AWS copies no tags)"],
        "cost": estimate_cost(table_gb),
    }
