"""``drdrill plan`` as readable text, in the order a reviewer reads it: run, time, resources, IAM, tags, cost."""

from __future__ import annotations

import json
from typing import Any

from dr_infra.app.plan_time import format_seconds

__all__ = ["render_text"]


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
    if described.get("duration_estimate_s") is not None:
        timing = {**described["duration_estimate_s"], "shards": described.get("shards")}
        out += ["", *_time_lines(timing, described.get("duration") or {}, target)]
    out += _definition_lines(described)
    out += ["", "Resources", *_resource_lines(described)]
    out += ["", "IAM policy documents", *_iam_lines(described["iam"])]
    out += ["", "Tags (on every taggable resource; drdrill janitor finds leftovers by them)"]
    out += [f"  {key} = {value}" for key, value in described["tags"].items()]
    out.append(f"  not taggable: {', '.join(described['untaggable'])}")
    out += ["", *_cost_lines(described["cost"])]
    if run is not None:
        out += ["", *_run_cost_lines(run["cost"])]
    if target != "aws":
        out.append(f"  (the {target} target bills nothing; this is what the same run costs with --target aws)")
    return "\n".join(out)


def _definition_lines(described: dict[str, Any]) -> list[str]:
    """The stack definition the resources follow, the other definitions scenarios name, and a deployed stack."""
    out: list[str] = []
    if described.get("definition"):
        source = described.get("definition_from") or "--stack"
        out += ["", f"Stack definition ({source}): {described['definition']['file']}; the resources below follow it"]
    others = [
        path for path in described.get("definitions") or {} if path != (described.get("definition") or {}).get("file")
    ]
    if others:
        out += [
            "",
            "Stack definitions named by scenarios (each scenario's stack follows its own; `drdrill plan --stack "
            "FILE` lists one's resources):",
        ]
        out += [f"  - {path}" for path in others]
    if described.get("deployed"):
        from dr_infra.app.plan_deployed import lines

        out += ["", *lines(described["deployed"])]
    return out


def _resource_lines(described: dict[str, Any]) -> list[str]:
    """Each resource with its role, ARN and settings."""
    out: list[str] = []
    if described.get("deployed") and not described["resources"]:
        out.append("  none: the deployed stack's own parts are drilled")
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
    return out


def _iam_lines(iam: dict[str, Any]) -> list[str]:
    """Each role's trust and permission policy documents."""
    out: list[str] = []
    for role, documents in iam.items():
        out.append(f"  role {role}")
        out.append("    trust policy:")
        out.append(_indent(_json(documents["trust"]), "      "))
        out.append("    permission policy (inline, named drdrill):")
        out.append(_indent(_json(documents["permissions"]), "      "))
    return out


def _cost_lines(cost: dict[str, Any]) -> list[str]:
    """One drill's estimated AWS cost, line by line, with its assumptions and sources."""
    out = [
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
    return out


def _run_cost_lines(total: dict[str, Any]) -> list[str]:
    """The whole run's estimated AWS cost: drills and restores."""
    return [
        f"Estimated cost of the run on AWS: ${total['total_usd']:,.4f} (ESTIMATE) = {total['scenarios']} "
        f"drill(s) x ${total['per_drill_usd']:,.4f} + {total['restoring']} restore(s) x "
        f"${total['per_restore_usd']:,.4f}",
        "  (the one-drill figure above includes one restore; --max-cost compares this run figure)",
    ]


def _run_lines(run: dict[str, Any]) -> list[str]:
    count, at_once = run["scenarios"], run["stacks_at_once"]
    how = "created and torn down one after another" if at_once <= 1 else f"up to {at_once} at once (-n)"
    paths = ", ".join(run["paths"])
    lines = [
        f"Run: {count} scenario(s) from {paths}",
        f"  stacks: {run['stacks']} (one per scenario that runs, each like the one below), {how}",
        f"  scenarios that start a restore: {run['restoring']} (the others repair in place, check posture or "
        "expect no restore)",
    ]
    if run.get("skipped"):
        lines.append(f"  skipped on this target: {run['skipped']} (before their first step: no stack, no cost)")
    if not run.get("capabilities_known", True):
        lines.append("  (this target's capabilities are probed when it starts: scenarios it lacks are skipped then)")
    for scenario in run["scenario_list"]:
        mark = "restore" if scenario["restores"] else "no restore"
        if scenario.get("skipped_on_target"):
            mark = "skipped"
        table = f", table {scenario['table']!r}" if scenario.get("table") else ""
        lines.append(f"  - [{mark}] {scenario['name']}  ({scenario['feature_file']}{table})")
        if scenario.get("skipped_on_target"):
            lines.append(f"      skipped: {scenario['skipped_on_target']}")
        elif scenario.get("estimate_s"):
            lines.append(f"      about {format_seconds(scenario['estimate_s'])}")
    return lines


def _time_lines(estimate: dict[str, Any], details: dict[str, Any], target: str) -> list[str]:
    """Wall time serial and with the workers, the slowest drill (the floor) and the -n a budget needs."""
    workers = estimate["workers"]
    lines = [
        f"Estimated wall time on {target} (ESTIMATE, {details.get('timings', target)})",
        f"  serial (one drill after another): {format_seconds(estimate['serial'])}",
        f"  with -n {workers}: {format_seconds(estimate['concurrent'])} "
        f"(slowest single drill {format_seconds(details.get('slowest_drill_s', 0.0))})",
        f"  at most {details.get('max_workers')} drills at once: {details.get('max_workers_why')}",
    ]
    budget = details.get("budget_s")
    if budget is not None:
        fit = details.get("workers_for_budget")
        if details.get("fits_budget"):
            lines.append(f"  fits --max-duration {format_seconds(budget)} with -n {fit}")
        else:
            lines.append(
                f"  does NOT fit --max-duration {format_seconds(budget)}, even with -n {fit}: "
                "select fewer scenarios, shard them over runners, or raise the budget"
            )
    lines.extend(
        f"  shard {shard['index']}: {shard['scenarios']} scenario(s), -n {shard['workers']}, "
        f"about {format_seconds(shard['estimate_s'])}: {' '.join(shard['paths'])}"
        for shard in estimate.get("shards") or []
    )
    if details.get("sources"):
        lines.append("  sources:")
        lines += [f"    {url}" for url in details["sources"]]
    return lines
