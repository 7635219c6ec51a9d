"""``drdrill plan``: what a run would create and what it would cost, touching nothing.

A DR owner (or a change board) wants to see the blast radius before the first drill against a staging
account: every resource and its name, the exact IAM documents the roles will carry, the tags the janitor
relies on, and an order-of-magnitude bill. Everything here is computed from the same declarations
provisioning uses (:class:`~dr_infra.stack.names.StackNames`, :class:`~dr_infra.stack.spec.StackSpec`,
:mod:`~dr_infra.stack.iam_policies`, the stack's own constants), so the plan cannot drift from what a
run creates, and no client is ever built: the target is not even started.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dr_infra.errors import EXIT_OK, ConfigError
from dr_infra.stack import iam_policies
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.stack.pricing import estimate_cost, estimate_run
from dr_infra.stack.provision import MONITOR_HANDLER, REPROTECT_HANDLER, RUNTIME, Stack
from dr_infra.stack.spec import StackSpec, monitor_timeout_for

__all__ = [
    "PlannedScenario",
    "describe_plan",
    "describe_run",
    "estimate_cost",
    "estimate_run",
    "plan",
    "plan_scenarios",
    "render_text",
    "starts_restore",
]

RESTORED_TEMPLATE = "{table}-restored-{incident}"
"""The change monitor's default ``DR_RESTORED_TABLE_TEMPLATE``."""


_STRATEGY_STEP = re.compile(r'^the change monitor restores with the "(?P<strategy>[^"]*)" strategy$')
_TABLE_LOSS_STEP = "the table is deleted"
_NO_RESTORE_THEN = re.compile(r"could not be started|can start restore jobs|^exactly 0 restore jobs?")
_RESTORING_STRATEGIES = frozenset({"backup", "pitr"})
_NORECURSE = frozenset({"build", "dist", "node_modules", "venv", "CVS", "_darcs", "{arch}"})
"""Folders pytest's default ``norecursedirs`` skips (with hidden ones and ``*.egg``), so plan counts what run runs."""


@dataclass(frozen=True)
class PlannedScenario:
    """One scenario a run would execute: one stack, and maybe a restore."""

    feature_file: str
    name: str
    restores: bool


def starts_restore(steps: Iterable[tuple[str, str]]) -> bool:
    """Whether a scenario with these ``(type, text)`` steps starts a restore (a billed restore on AWS).

    Table loss (``When the table is deleted``) always does; otherwise the monitor's strategy must restore a
    table (``backup``, the default, or ``pitr``; ``item`` repairs in place), a When step must harm the table,
    and a Then step must wait for or inspect the restore (not ``the restore could not be started``, a denied
    start, nor the posture check of the monitor's permissions).
    """
    strategy, harmful, expects = "backup", False, False
    for kind, text in steps:
        if kind == "when" and text.strip() == _TABLE_LOSS_STEP:
            return True
        chosen = _STRATEGY_STEP.match(text.strip())
        if chosen:
            strategy = chosen.group("strategy")
        harmful = harmful or kind == "when"
        expects = expects or (kind == "then" and "restor" in text and not _NO_RESTORE_THEN.search(text.strip()))
    return harmful and expects and strategy in _RESTORING_STRATEGIES


def _feature_files(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"no such feature file or folder: {raw}")
        if path.is_file():
            found.append(path)
            continue
        for candidate in sorted(path.rglob("*.feature")):
            folders = candidate.relative_to(path).parts[:-1]
            if any(p.startswith(".") or p in _NORECURSE or p.endswith(".egg") for p in folders):
                continue
            found.append(candidate)
    return list(dict.fromkeys(found))


def _compile(expression: str | None, option: str) -> Any:
    """A pytest ``-k`` / ``-m`` expression, compiled by pytest's own parser (what ``drdrill run`` passes on)."""
    if expression is None or not expression.strip():
        return None
    from _pytest.mark.expression import Expression

    try:
        return Expression.compile(expression)
    except SyntaxError as exc:  # pytest's ParseError before 8.4, SyntaxError since
        reason = " ".join(str(getattr(exc, "msg", None) or exc).split())
        raise ConfigError(f"{option} {expression!r} is not a valid expression: {reason}") from None


@dataclass(frozen=True)
class _KeywordMatch:
    """``-k``: a case-insensitive substring of any of the (lower-cased) names, as pytest's KeywordMatcher."""

    names: list[str]

    def __call__(self, sub: str, /, **_: Any) -> bool:
        return any(sub.lower() in name for name in self.names)


@dataclass(frozen=True)
class _TagMatch:
    """``--tags`` (pytest ``-m``): a tag name present on the scenario or its feature."""

    tags: set[str]

    def __call__(self, tag: str, /, **_: Any) -> bool:
        return tag in self.tags


def plan_scenarios(
    paths: Sequence[str], keyword: str | None = None, tags: str | None = None, root: Path | None = None
) -> list[PlannedScenario]:
    """The scenarios ``drdrill run PATHS [-k ...] [--tags ...]`` would run, from the feature files alone.

    Parsed with drdrill's own collector (:func:`~dr_infra.bdd.collect.load_feature` and its lint), so a
    malformed feature is the same one-line usage error. ``-k`` matches, as pytest does, a case-insensitive
    substring of the scenario's test name (``test_<scenario name>``), its feature file's name, the folders
    below ``root`` (default: the current directory, run's rootdir) and its tags; ``--tags`` matches tag names.
    Each row of a Scenario Outline's Examples is one scenario.
    """
    from pytest_bdd.scenario import make_python_name

    from dr_infra.bdd.collect import FeatureUsageError, lint_feature, load_feature

    keyword_expr, tags_expr = _compile(keyword, "-k"), _compile(tags, "--tags")
    root = (root or Path.cwd()).resolve()
    planned: list[PlannedScenario] = []
    for path in _feature_files(paths):
        try:
            feature = load_feature(path)
            lint_feature(path, feature)
        except FeatureUsageError as exc:
            raise ConfigError(str(exc)) from None
        resolved = path.resolve()
        folders = resolved.parent.relative_to(root).parts if resolved.is_relative_to(root) else resolved.parent.parts
        used: set[str] = set()
        for name, template in feature.scenarios.items():
            base = f"test_{make_python_name(name) or 'scenario'}"
            test_name, n = base, 1
            while test_name in used:
                n += 1
                test_name = f"{base}_{n}"
            used.add(test_name)
            marks = set(template.tags) | set(feature.tags)
            names = [n.lower() for n in (test_name, path.name, *folders, *marks)]
            if keyword_expr is not None and not keyword_expr.evaluate(_KeywordMatch(names)):
                continue
            if tags_expr is not None and not tags_expr.evaluate(_TagMatch(marks)):
                continue
            contexts: list[dict[str, Any]] = [
                dict(context) for examples in template.examples for context in examples.as_contexts()
            ] or [{}]
            for context in contexts:
                scenario = template.render(context)
                steps = [(step.type, step.name) for step in scenario.steps]
                planned.append(PlannedScenario(str(path), scenario.name, starts_restore(steps)))
    return planned


def describe_run(
    scenarios: Sequence[PlannedScenario], table_gb: float, workers: int | None = None, paths: Sequence[str] = ()
) -> dict[str, Any]:
    """The run as a whole: one stack per scenario, how many at once, how many restore, and what it all costs."""
    count = len(scenarios)
    restoring = sum(1 for s in scenarios if s.restores)
    at_once = max(1, min(workers or 1, count)) if count else 0
    return {
        "paths": list(paths),
        "scenarios": count,
        "stacks": count,
        "stacks_at_once": at_once,
        "restoring": restoring,
        "cost": estimate_run(count, restoring, table_gb),
        "scenario_list": [asdict(s) for s in scenarios],
    }


def _workers(value: str | None) -> int | None:
    if value is None:
        return None
    if value == "auto":
        return os.cpu_count() or 1
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if workers < 1:
        raise ConfigError(f"-n {value!r} must be a number of parallel workers (1 or more, or auto)")
    return workers


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
    ]
    run = described.get("run")
    if run is not None:
        out += ["", *_run_lines(run)]
    out += ["", "Resources"]
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
    if run is not None:
        total = run["cost"]
        out += [
            "",
            f"Estimated cost of the run on AWS: ${total['total_usd']:,.4f} (ESTIMATE) = {total['scenarios']} "
            f"drill(s) x ${total['per_drill_usd']:,.4f} + {total['restoring']} restore(s) x "
            f"${total['per_restore_usd']:,.4f}",
            "  (the one-drill figure above includes one restore; --max-cost compares this run figure)",
        ]
    if target != "aws":
        out.append(f"  (the {target} target bills nothing; this is what the same run costs with --target aws)")
    return "\n".join(out)


def _run_lines(run: dict[str, Any]) -> list[str]:
    count, at_once = run["scenarios"], run["stacks_at_once"]
    how = "created and torn down one after another" if at_once <= 1 else f"up to {at_once} at once (-n)"
    paths = ", ".join(run["paths"])
    lines = [
        f"Run: {count} scenario(s) from {paths}",
        f"  stacks: {run['stacks']} (one per scenario, each like the one below), {how}",
        f"  scenarios that start a restore: {run['restoring']} (the others repair in place, check posture or "
        "expect no restore)",
    ]
    for scenario in run["scenario_list"]:
        mark = "restore" if scenario["restores"] else "no restore"
        lines.append(f"  - [{mark}] {scenario['name']}  ({scenario['feature_file']})")
    return lines


def plan(args: argparse.Namespace) -> int:
    """The CLI entry: print the plan for ``args.target``; never starts the target."""
    table_gb = float(args.table_gb)
    if not (math.isfinite(table_gb) and table_gb > 0):
        raise ConfigError(f"--table-gb {args.table_gb!r} must be a positive number of gigabytes (e.g. 1 or 0.5)")
    account = str(args.account)
    if not (len(account) == 12 and account.isdigit()):
        raise ConfigError(f"--account {account!r} is not a 12-digit AWS account id")
    # The monitor's Timeout follows the target's PITR lag, as in a run (dr_infra.drill.state.Drill.create_stack).
    lag = 1.0 if args.target == "embedded" else 300.0
    spec = StackSpec(function_timeout_s=monitor_timeout_for(lag))
    workers = _workers(getattr(args, "workers", None))
    from dr_infra.app.cli import shipped_features

    paths = list(getattr(args, "paths", None) or [str(shipped_features())])
    scenarios = plan_scenarios(paths, getattr(args, "keyword", None), getattr(args, "tags", None))
    if not scenarios:
        raise ConfigError("no scenario would run: check the paths and the -k/--tags filters")
    described = describe_plan(str(args.region), account, table_gb, spec=spec)
    described["run"] = describe_run(scenarios, table_gb, workers, paths)
    if getattr(args, "format", "text") == "json":
        print(_json(described))
    else:
        print(render_text(described, str(args.target)))
    return EXIT_OK
