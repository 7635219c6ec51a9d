"""What a collected pytest item is to drdrill: its scenario's steps, its journal record, why it would be skipped.

The plugin's hooks call these so that they stay a thin dispatcher; ``drdrill plan`` counts and skips by the same
rules (:mod:`dr_infra.bdd.needs`), so a plan and a run cannot disagree about a scenario.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

from dr_infra.bdd import needs
from dr_infra.bdd.bdd_internals import EXAMPLE_PARAM
from dr_infra.bdd.collect import template_of
from dr_infra.bdd.definitions import scenario_definition
from dr_infra.bdd.provenance import relative
from dr_infra.bdd.session import DrillSession
from dr_infra.drill.plan_runs import skip_before_provisioning
from dr_infra.drill.state import Drill
from dr_infra.errors import DrDrillError
from dr_infra.report.journal import ScenarioRecord
from dr_infra.stack import safety
from dr_infra.stack.definition import StackDefinition

RECORD_KEY = pytest.StashKey[ScenarioRecord]()
"""The item's scenario record (the journal's), from its setup to its teardown report."""


def is_scenario(item: pytest.Item) -> bool:
    """Whether ``item`` is a Gherkin scenario (not a plain test in the same session)."""
    return template_of(item) is not None


def scenario_steps(item: pytest.Item) -> list[tuple[str, str]]:
    """The ``(type, text)`` steps of the scenario behind ``item``, its Examples row filled in."""
    template = template_of(item)
    if template is None:
        return []
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get(EXAMPLE_PARAM, {}) if callspec is not None else {}
    scenario = template.render(example if isinstance(example, dict) else {})
    return [(step.type, step.name) for step in scenario.steps]


def restores(item: pytest.Item) -> bool:
    """Whether the scenario behind ``item`` starts a restore (the same rule ``drdrill plan`` counts by)."""
    return needs.starts_restore(scenario_steps(item))


def known_skip(ds: DrillSession, item: pytest.Item) -> str | None:
    """Why the target will skip ``item``, known before it starts (aws, embedded; LocalStack is probed at start)."""
    from dr_infra.targets.capabilities import AWS_CAPABILITIES, EMBEDDED_CAPABILITIES

    known = {"aws": AWS_CAPABILITIES, "embedded": EMBEDDED_CAPABILITIES}.get(ds.target_name)
    if ds.target_name == "embedded" and ds.timing.scaled:
        from dr_infra.targets.embedded.target import AWS_SCALED_WITHOUT

        known = EMBEDDED_CAPABILITIES - AWS_SCALED_WITHOUT  # aws-scaled rehearses aws: no fault switches
    if known is None:
        return None
    steps = scenario_steps(item)
    return needs.skip_reason(steps, ds.target_name, known) or _plan_wait(
        item, steps, known, ds.definition, ds.policy.backup_job_timeout_seconds
    )


def _plan_wait(
    item: pytest.Item,
    steps: list[tuple[str, str]],
    capabilities: Collection[str],
    run_definition: StackDefinition | None,
    limit_s: float,
) -> str | None:
    """On a target without a plan clock: why waiting for the plan's own runs skips the scenario (its stack's plan
    comes from the definition its step names, else the run's, else the seed's: :mod:`dr_infra.drill.plan_runs`)."""
    definition = scenario_definition(str(item.path), steps, run_definition)
    return skip_before_provisioning(steps, capabilities, definition, limit_s)


def check_cost_cap(ds: DrillSession, scenarios: int, restoring: int) -> None:
    """On the aws target, refuse (one line, exit 2) a run whose estimated cost exceeds --dr-max-cost: the
    estimate ``drdrill plan`` prints for the same scenarios (:func:`dr_infra.stack.pricing.estimate_run`)."""
    try:
        cap = safety.parse_max_cost(ds.config.getoption("--dr-max-cost"))
        if ds.target_name == "aws" and cap is not None:
            safety.check_cost(cap, scenarios, restoring)
    except DrDrillError as exc:
        ds.journal.usage_errors.append(str(exc))
        raise pytest.UsageError(str(exc)) from None


def skip_before_first_step(item: pytest.Item, drill: Drill) -> None:
    """Skip a scenario the target cannot run before its first step creates anything (the reason its step's
    :meth:`Drill.require` would give later): on AWS a chaos scenario would otherwise provision a stack and wait
    minutes for a backup job only to skip at its fault step, and a plan-cadence scenario would provision one only
    to find that the plan's runs are hours away. ``drdrill plan`` marks the same scenarios."""
    steps = scenario_steps(item)
    capabilities = drill.target.capabilities
    reason = needs.skip_reason(steps, drill.target.name, capabilities) or _plan_wait(
        item, steps, capabilities, drill.definition, drill.policy.backup_job_timeout_seconds
    )
    if reason is not None:
        drill.record.skip_reason = reason
        pytest.skip(reason)


def _guarantee(path: Path) -> str:
    return path.parent.name or "features"


def new_record(item: pytest.Item) -> ScenarioRecord:
    """A fresh journal record for the scenario behind ``item`` (name, feature, file, guarantee, tags, line)."""
    template = template_of(item)
    path = Path(str(item.path))
    name = template.name if template is not None else item.name
    feature = template.feature.name if template is not None else path.stem
    tags = sorted(template.tags) if template is not None else []
    return ScenarioRecord(
        id=item.nodeid,
        name=name,
        feature=feature,
        feature_file=relative(path, item.config.rootpath),
        guarantee=_guarantee(path),
        tags=tags,
        line=template.line_number if template is not None else None,
    )
