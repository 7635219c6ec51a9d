"""``drdrill plan``: what a run would create, how long it would take and what it would cost, touching nothing.

A DR owner (or a change board) wants to see the blast radius before the first drill against a staging
account: every resource and its name, the exact IAM documents the roles will carry, the tags the janitor
relies on, which scenarios the target would skip and why, the run's wall time serial and with ``-n`` workers
(and the ``-n`` that fits a time budget), and an order-of-magnitude bill. No client is ever built: the target
is not even started. The jobs live apart: :mod:`~dr_infra.app.plan_scenarios` (which scenarios),
:mod:`~dr_infra.app.plan_stack` (the stack), :mod:`~dr_infra.app.plan_time` (the wall time),
:mod:`~dr_infra.app.plan_text` (the text rendering).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dr_infra.app import plan_definition
from dr_infra.app.plan_scenarios import PlannedScenario, plan_scenarios
from dr_infra.app.plan_stack import RESTORED_TEMPLATE, describe_plan
from dr_infra.app.plan_text import render_text
from dr_infra.app.plan_time import (
    Timings,
    estimate,
    format_seconds,
    parse_duration,
    scenario_seconds,
    timings_for,
)
from dr_infra.app.plan_validate import table_of, validate_steps
from dr_infra.bdd.needs import starts_restore
from dr_infra.bdd.options import MAX_DURATION
from dr_infra.errors import EXIT_OK, ConfigError
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.pricing import estimate_cost, estimate_run
from dr_infra.stack.spec import StackSpec, monitor_timeout_for
from dr_infra.targets.capabilities import AWS_CAPABILITIES, EMBEDDED_CAPABILITIES
from dr_infra.targets.timing import Timing
from dr_infra.targets.timing import parse as parse_timing

__all__ = [
    "RESTORED_TEMPLATE",
    "PlannedScenario",
    "check_max_duration",
    "describe_plan",
    "describe_run",
    "estimate_cost",
    "estimate_for_run",
    "estimate_run",
    "plan",
    "plan_scenarios",
    "render_text",
    "run_estimate",
    "run_timing",
    "scenario_estimates",
    "starts_restore",
    "target_capabilities",
]


def target_capabilities(target: str, profile: str | None = None) -> frozenset[str] | None:
    """What ``target`` can run, known without starting it (``None`` for LocalStack: probed at start).

    The embedded target under ``aws-scaled`` rehearses the aws target, so it has no fault switches either."""
    if target == "embedded" and profile == "aws-scaled":
        from dr_infra.targets.embedded.target import AWS_SCALED_WITHOUT

        return EMBEDDED_CAPABILITIES - AWS_SCALED_WITHOUT
    return {"aws": AWS_CAPABILITIES, "embedded": EMBEDDED_CAPABILITIES}.get(target)


def describe_run(
    scenarios: Sequence[PlannedScenario],
    table_gb: float,
    workers: int | None = None,
    paths: Sequence[str] = (),
    target: str = "aws",
    timings: Timings | None = None,
    profile: str | None = None,
    run_stack: str | None = None,
    wait_limit_s: float | None = None,
) -> dict[str, Any]:
    """The run as a whole: one stack per scenario, how many at once, which skip, how many restore, the cost.

    ``stack_definition`` per scenario: the definition its step names, else the run's (``--stack``), else ``None``."""
    capabilities = target_capabilities(target, profile)
    timings = timings or timings_for(target)
    rows: list[dict[str, Any]] = []
    for s in scenarios:
        definition_file = plan_definition.scenario_definition(s.feature_file, s.steps) or run_stack
        skipped = s.skipped_on(target, capabilities) or _plan_wait_skip(
            s.steps, capabilities, definition_file, wait_limit_s
        )
        estimate_s = 0.0 if skipped else scenario_seconds(s.steps, timings)
        rows.append(
            {
                "feature_file": s.feature_file,
                "name": s.name,
                "table": table_of(s.steps),
                "restores": s.restores,
                "skipped_on_target": skipped,
                "estimate_s": estimate_s,
                "stack_definition": definition_file,
            }
        )
    running = [row for row in rows if not row["skipped_on_target"]]
    stacks = len(running)
    count = len(scenarios)
    restoring = sum(1 for row in running if row["restores"])
    at_once = max(1, min(workers or 1, count)) if count else 0
    return {
        "paths": list(paths),
        "scenarios": count,
        "stacks": stacks,
        "stacks_at_once": at_once,
        "restoring": restoring,
        "skipped": count - len(running),
        "capabilities_known": capabilities is not None,
        "cost": estimate_run(len(running), restoring, table_gb),
        "scenario_list": rows,
    }


def _plan_wait_skip(
    steps: Sequence[tuple[str, str]],
    capabilities: frozenset[str] | None,
    definition_file: str | None,
    limit_s: float | None,
) -> str | None:
    """``the backup plan has run N times`` on a target without a plan clock: skipped before the first step when
    the plan's next N runs are further away than the policy allows (:func:`plan_runs.skip_before_provisioning`,
    the rule ``drdrill run`` applies, from now and the plan's own schedule)."""
    if capabilities is None or limit_s is None:
        return None
    from dr_infra.bdd.definitions import run_definition
    from dr_infra.drill.plan_runs import skip_before_provisioning

    return skip_before_provisioning(steps, capabilities, run_definition(definition_file), limit_s)


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


def run_timing(args: argparse.Namespace) -> Timing:
    """The embedded timing ``args`` ask for (the environment's defaults included, dr_infra.bdd.options), checked
    once for ``drdrill run`` and ``drdrill plan`` alike (:func:`dr_infra.targets.timing.parse`): an unknown profile,
    a bad scale, or aws-scaled on a target other than embedded is the same one line (exit 2) from both, so a plan
    never estimates a run that ``drdrill run`` would refuse."""
    return parse_timing(
        getattr(args, "embedded_profile", None), getattr(args, "embedded_scale", None), str(args.target)
    )


def _budget(args: argparse.Namespace) -> float | None:
    """``--max-duration`` in seconds (``None``: no budget); the value may be its environment default (the option
    table's), so a bad one names the variable when that is where it came from."""
    text = getattr(args, "max_duration", None)
    env = MAX_DURATION.env
    given = env if env and text is not None and os.environ.get(env) == text else "--max-duration"
    return parse_duration(text, given)


def _job_timeout(policy: str | None, target: str) -> float:
    """The policy's ``backup.job_timeout_seconds`` (the run's ``--policy``, else the target's default policy)."""
    from dr_infra.drill.policy import load_policy

    return float(load_policy(policy, target).backup_job_timeout_seconds)


def run_estimate(
    run: dict[str, Any], timings: Timings, workers: int | None, budget_s: float | None, cores: int
) -> dict[str, Any]:
    """The run's ``duration_estimate_s`` (serial, concurrent, workers, with ``details``) from its scenario rows."""
    durations = [row["estimate_s"] for row in run["scenario_list"] if row["estimate_s"] > 0]
    return estimate(durations, timings, workers, budget_s, cores)


def _plan_stack(
    args: argparse.Namespace, scenarios: list[PlannedScenario], lag: float
) -> tuple[StackDefinition | None, StackSpec, bool]:
    """The definition and stack the plan describes, and whether the scenarios chose it: ``--stack`` /
    ``--stack-from``; else, when every scenario names one definition ('as defined in'), that one (the stack they
    all build); else the seed's. The table takes the first scenario's name, as in a run."""
    from dr_infra.bdd.definitions import run_definition

    given = getattr(args, "stack", None), getattr(args, "stack_from", None)
    named = {plan_definition.scenario_definition(s.feature_file, s.steps) for s in scenarios}
    shared = named.pop() if not any(given) and len(named) == 1 else None
    definition = run_definition(shared) if shared else run_definition(*given)
    spec = StackSpec.from_definition(definition)
    if not spec.user_monitor:  # a user's monitor keeps the timeout it declares
        spec = StackSpec.from_definition(definition, function_timeout_s=monitor_timeout_for(lag))
    first_table = next((table for s in scenarios if (table := table_of(s.steps))), None)
    if first_table and (definition is None or definition.deployed is None):
        spec = StackSpec(**{**vars(spec), "logical_table": first_table})
    return definition, spec, shared is not None


def plan(args: argparse.Namespace) -> int:
    """The CLI entry: print the plan for ``args.target``; never starts the target."""
    table_gb = float(args.table_gb)
    if not (math.isfinite(table_gb) and table_gb > 0):
        raise ConfigError(f"--table-gb {args.table_gb!r} must be a positive number of gigabytes (e.g. 1 or 0.5)")
    account = str(args.account)
    if not (len(account) == 12 and account.isdigit()):
        raise ConfigError(f"--account {account!r} is not a 12-digit AWS account id")
    budget_s = _budget(args)
    timing = run_timing(args)  # refused as drdrill run refuses it (unknown profile, bad scale, aws-scaled off embedded)
    profile = timing.profile
    # The monitor's Timeout follows the target's PITR lag, as in a run (dr_infra.drill.state.Drill.create_stack).
    lag = 1.0 if args.target == "embedded" else 300.0
    workers = _workers(getattr(args, "workers", None))
    from dr_infra.app.shipped import shipped_features

    paths = list(getattr(args, "paths", None) or [str(shipped_features())])
    scenarios = plan_scenarios(paths, getattr(args, "keyword", None), getattr(args, "tags", None))
    if not scenarios:
        raise ConfigError("no scenario would run: check the paths and the -k/--tags filters")
    validate_steps(paths, str(args.target))
    definition, spec, shared = _plan_stack(args, scenarios, lag)
    cores = os.cpu_count() or 1
    timings = timings_for(str(args.target), profile, cores, timing.scale)
    deployed = definition is not None and definition.deployed is not None
    described = describe_plan(str(args.region), account, table_gb, spec=StackSpec() if deployed else spec)
    if definition is not None and deployed:  # drilled in place: no resource of drdrill's, no IAM document
        from dr_infra.app.plan_deployed import touches

        cleanup = bool(getattr(args, "cleanup_restored", False))
        described["deployed"] = touches(definition, described["sample_run_id"], cleanup)
        described["resources"], described["iam"] = [], {}
    if definition is not None:
        given = "--stack" if getattr(args, "stack", None) else "--stack-from"
        described["definition_from"] = "every scenario's 'as defined in' step" if shared else given
    run_stack = str(Path(args.stack).resolve()) if getattr(args, "stack", None) else None
    limit = _job_timeout(None, str(args.target))
    described["run"] = describe_run(
        scenarios, table_gb, workers, paths, str(args.target), timings, profile, run_stack=run_stack, wait_limit_s=limit
    )
    described["definitions"] = plan_definition.referenced(described["run"]["scenario_list"])
    full = run_estimate(described["run"], timings, workers, budget_s, cores)
    details = full.pop("details")
    described["duration_estimate_s"] = full
    described["duration"] = details
    shards = getattr(args, "shards", None)
    if shards is not None:
        from dr_infra.app.plan_shards import shard_run

        described["shards"] = shard_run(described["run"]["scenario_list"], int(shards), timings, budget_s, cores)
    if getattr(args, "format", "text") == "json":
        print(json.dumps(described, indent=2, sort_keys=False))
    else:
        print(render_text(described, str(args.target)))
    return EXIT_OK


def _run_described(args: argparse.Namespace, workers: int | None) -> tuple[list[Any], dict[str, Any], Timings, int]:
    """What ``drdrill run ARGS`` would run, described as ``drdrill plan`` describes it: the same scenarios
    (paths, ``-k``, ``--tags``), target, profile and scale; with the timings and the machine's cores."""
    from dr_infra.app.shipped import shipped_features

    paths = list(getattr(args, "paths", None) or [str(shipped_features())])
    scenarios = plan_scenarios(paths, getattr(args, "keyword", None), getattr(args, "tags", None))
    cores = os.cpu_count() or 1
    target = str(args.target)
    timing = run_timing(args)
    profile = timing.profile
    timings = timings_for(target, profile, cores, timing.scale)
    limit = _job_timeout(getattr(args, "policy", None), target)
    run = describe_run(scenarios, 1.0, workers or 1, paths, target, timings, profile, wait_limit_s=limit)
    return scenarios, run, timings, cores


def estimate_for_run(args: argparse.Namespace, workers: int | None, budget_s: float | None = None) -> dict[str, Any]:
    """The plan's ``duration_estimate_s`` for what ``drdrill run ARGS`` would run; ``workers`` as given
    (``None``: the plan's own choice, the fewest that fit ``budget_s`` when given)."""
    _, run, timings, cores = _run_described(args, workers)
    result = run_estimate(run, timings, workers, budget_s, cores)
    result["details"]["scenarios"] = len(run["scenario_list"]) - run["skipped"]
    return result


def scenario_estimates(args: argparse.Namespace) -> list[tuple[str, str, float]]:
    """``(feature file, test name, estimated seconds)`` of every scenario ``drdrill run ARGS`` would run, as
    ``drdrill plan`` estimates each (0 for one the target skips): what the run's scheduler orders drills by."""
    scenarios, run, _, _ = _run_described(args, None)
    return [
        (scenario.feature_file, scenario.test_name, float(row["estimate_s"]))
        for scenario, row in zip(scenarios, run["scenario_list"], strict=True)
    ]


def check_max_duration(args: argparse.Namespace) -> float | None:
    """``drdrill run --max-duration``: refuse (one line, exit 2) before anything starts when the plan's estimate
    for the same scenarios, target and ``-n`` exceeds the budget. Returns the estimate (``None``: no budget)."""
    budget_s = _budget(args)
    if budget_s is None:
        return None
    workers = _workers(getattr(args, "workers", None)) or 1
    target = str(args.target)
    found = estimate_for_run(args, workers)
    wall = float(found["concurrent"])
    if wall > budget_s:
        fit = estimate_for_run(args, None, budget_s)
        hint = (
            f"use -n {fit['workers']} (drdrill plan --target {target} --max-duration {args.max_duration})"
            if fit["details"]["fits_budget"]
            else "select fewer scenarios or shard them over several runs"
        )
        raise ConfigError(
            f"estimated wall time {format_seconds(wall)} ({found['details']['scenarios']} scenario(s) "
            f"on {target} with -n {workers}) exceeds --max-duration {format_seconds(budget_s)}: {hint}"
        )
    return wall
