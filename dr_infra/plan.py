"""``drdrill plan``: what a run would create and what it would cost, touching nothing.

A DR owner (or a change board) wants to see the blast radius before the first drill against a staging
account: every resource and its name, the exact IAM documents the roles will carry, the tags the janitor
relies on, and an order-of-magnitude bill. Everything here is computed from the same declarations
provisioning uses (:class:`~dr_infra.naming.StackNames`, :class:`~dr_infra.provisioning.spec.StackSpec`,
:mod:`~dr_infra.provisioning.iam_policies`, the stack's own constants), so the plan cannot drift from what a
run creates, and no client is ever built: the target is not even started.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from dr_infra.cleanup import Cleanups
from dr_infra.errors import EXIT_OK, ConfigError
from dr_infra.naming import StackNames, new_run_id
from dr_infra.pricing import estimate_cost
from dr_infra.provisioning import iam_policies
from dr_infra.provisioning.spec import StackSpec, monitor_timeout_for
from dr_infra.provisioning.stack import MONITOR_HANDLER, REPROTECT_HANDLER, RUNTIME, Stack

__all__ = ["describe_plan", "estimate_cost", "plan", "render_text"]

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
    sample = Stack(names, spec, region, account, Cleanups(), backup_role_arn=arn["backup_role"])
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
                "StreamViewType": "NEW_AND_OLD_IMAGES",
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
                "StartingPosition": "LATEST",
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
    return {
        "sample_run_id": run_id,
        "region": region,
        "account": account,
        "logical_table": spec.logical_table,
        "resources": resources,
        "iam": {
            names.backup_role: {
                "trust": iam_policies.trust_policy(iam_policies.BACKUP_SERVICE),
                "permissions": iam_policies.backup_role_policy(names, region, account),
            },
            names.monitor_role: {
                "trust": iam_policies.trust_policy(iam_policies.LAMBDA_SERVICE),
                "permissions": iam_policies.monitor_role_policy(names, region, account),
            },
        },
        "tags": tags,
        "untaggable": ["backup selection", "event source mapping", "restored tables (AWS copies no tags)"],
        "cost": estimate_cost(table_gb),
    }


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_text(described: dict[str, Any], target: str) -> str:
    """The plan as readable text, in the order a reviewer reads it: what, who may do what, tags, cost."""
    out: list[str] = [
        f"drdrill plan: one DR stack for table {described['logical_table']!r} on target {target!r}",
        f"(names use a sample run id, {described['sample_run_id']}; every run gets its own; "
        f"ARNs shown for account {described['account']} in {described['region']})",
        "Nothing was created, read or called to produce this plan.",
        "",
        "Resources",
    ]
    for resource in described["resources"]:
        line = f"  - {resource['kind']}: {resource['name']}"
        if resource.get("role"):
            line += f"  ({resource['role']})"
        out.append(line)
        if resource.get("arn"):
            out.append(f"      arn: {resource['arn']}")
        for key, value in resource.get("settings", {}).items():
            rendered = value if isinstance(value, str | int | bool) else json.dumps(value)
            out.append(f"      {key}: {rendered}")
    out += ["", "IAM policy documents"]
    for role, documents in described["iam"].items():
        out.append(f"  role {role}")
        out.append("    trust policy:")
        out.append(_indent(_json(documents["trust"]), "      "))
        out.append("    permission policy (inline, named drdrill):")
        out.append(_indent(_json(documents["permissions"]), "      "))
    out += ["", "Tags (on every taggable resource; drdrill janitor finds leftovers by them)"]
    out += [f"  {key} = {value}" for key, value in described["tags"].items()]
    out.append(f"  not taggable: {', '.join(described['untaggable'])}")
    cost = described["cost"]
    out += [
        "",
        f"Estimated cost of one drill on AWS for a {cost['table_gb']:g} GB table "
        f"(ESTIMATE, {cost['region']} list prices)",
    ]
    width = max(len(line["item"]) for line in cost["lines"])
    for line in cost["lines"]:
        amount = f"${line['usd']:>9,.4f}"
        out.append(f"  {line['item']:<{width}}  {amount}  ({line['quantity']:,.4f} at {line['list_price']})")
    out.append(f"  {'total':<{width}}  ${cost['total_usd']:>9,.4f}")
    assumptions = ", ".join(f"{k}={v}" for k, v in cost["assumptions"].items())
    out += [f"  assumptions: {assumptions}", f"  note: {cost['note']}", "  sources:"]
    out += [f"    {url}" for url in cost["sources"]]
    if target != "aws":
        out.append(f"  (the {target} target bills nothing; this is what the same drill costs with --target aws)")
    return "\n".join(out)


def plan(args: argparse.Namespace) -> int:
    """The CLI entry: print the plan for ``args.target``; never starts the target."""
    table_gb = float(args.table_gb)
    if not (math.isfinite(table_gb) and table_gb > 0):
        raise ConfigError(f"--table-gb {args.table_gb!r} must be a positive number of gigabytes (e.g. 1 or 0.5)")
    account = str(args.account)
    if not (len(account) == 12 and account.isdigit()):
        raise ConfigError(f"--account {account!r} is not a 12-digit AWS account id")
    # The monitor's Timeout follows the target's PITR lag, as in a run (dr_infra.drill.Drill.create_stack).
    lag = 1.0 if args.target == "embedded" else 300.0
    spec = StackSpec(function_timeout_s=monitor_timeout_for(lag))
    described = describe_plan(str(args.region), account, table_gb, spec=spec)
    if getattr(args, "format", "text") == "json":
        print(_json(described))
    else:
        print(render_text(described, str(args.target)))
    return EXIT_OK
