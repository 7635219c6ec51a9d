"""The step-needs table (what ``drdrill plan`` marks as skipped, and what ``drdrill run`` skips before the first
step) agrees with what each step definition itself requires through ``Drill.require``."""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import pytest

import steps.given
import steps.posture
import steps.then
import steps.then_chaos
import steps.when
from dr_infra.bdd.needs import STEP_NEEDS, STRATEGY_NEEDS, skip_reason, starts_restore, step_needs
from dr_infra.drill import plan_runs
from dr_infra.targets.capabilities import AWS_CAPABILITIES, EMBEDDED_CAPABILITIES

MODULES = (steps.given, steps.when, steps.then, steps.then_chaos, steps.posture)


def _contexts() -> list[Any]:
    found = []
    for module in MODULES:
        for name, value in vars(module).items():
            if name.startswith("pytestbdd_stepdef_"):
                found.append(value._get_wrapped_function()())
    return found


HELPERS = {"run_plan": {"backup_jobs"}}
"""Helpers a step calls that require capabilities themselves (dr_infra.drill.plan_runs.run_plan)."""


def _required(function: Any) -> set[str]:
    """Capability literals the step function passes to ``drill.require(...)`` or ``_control(...)`` (which
    requires restore_faults), and what the :data:`HELPERS` it calls require."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found: set[str] = set()
    for name, needed in HELPERS.items():  # the helper still requires what the table says
        helper = getattr(plan_runs, name)
        assert needed <= {a.value for a in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(helper))))
                          if isinstance(a, ast.Constant) and isinstance(a.value, str)}  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        if isinstance(callee, ast.Attribute) and callee.attr == "require":
            found |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
        if isinstance(callee, ast.Name) and callee.id == "_control":
            found.add("restore_faults")
        if isinstance(callee, ast.Attribute) and callee.attr in HELPERS:
            found |= HELPERS[callee.attr]
    return found


@pytest.mark.parametrize("need", STEP_NEEDS, ids=lambda n: n.example)
def test_each_table_entry_names_exactly_what_its_step_definition_requires(need: Any) -> None:
    assert need.pattern.match(need.example)
    matching = [c for c in _contexts() if c.parser.is_matching(need.example)]
    assert len(matching) == 1, f"{need.example!r} matches {len(matching)} step definitions"
    assert _required(matching[0].step_func) == {capability for capability, _ in need.needs}


def test_every_step_definition_that_requires_a_capability_is_in_the_table() -> None:
    """A new step calling ``drill.require`` without a table entry would skip only at that step, after a stack."""
    examples = [need.example for need in STEP_NEEDS] + ['the change monitor restores with the "backup" strategy']
    for context in _contexts():
        if _required(context.step_func):
            assert any(context.parser.is_matching(text) for text in examples), context.parser


def test_strategy_needs_follow_the_strategy_step() -> None:
    required = _required(next(c for c in _contexts() if c.parser.is_matching(
        'the change monitor restores with the "pitr" strategy')).step_func)  # fmt: skip
    assert required == {c for needs in STRATEGY_NEEDS.values() for c, _ in needs}
    assert [c for c, _ in step_needs('the change monitor restores with the "pitr" strategy')] == [
        "lambda_execution",
        "pitr_time_travel",
    ]


def test_aws_skips_chaos_with_the_reason_require_gives_and_embedded_runs_it() -> None:
    chaos = [
        ("given", 'a DR-protected table "orders" with 20 items'),
        ("given", 'the change monitor restores with the "backup" strategy'),
        ("given", "a recovery point of the table exists"),
        ("given", "the change monitor fails its next 2 invocations"),
        ("when", "1 item is deleted"),
        ("then", "a restore job completes within 30 seconds"),
    ]
    reason = skip_reason(chaos, "aws", AWS_CAPABILITIES)
    assert reason == "target aws lacks function_faults: function errors need the embedded target's fault switches"
    assert skip_reason(chaos, "embedded", EMBEDDED_CAPABILITIES) is None
    plain = [s for s in chaos if "fails its next" not in s[1]]
    assert skip_reason(plain, "aws", AWS_CAPABILITIES) is None
    assert starts_restore(plain) and not starts_restore([s for s in plain if s[0] != "when"])
