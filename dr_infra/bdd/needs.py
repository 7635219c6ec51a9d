"""What a scenario needs from a target, read from its step texts alone: capabilities, and whether it restores.

One rule for three readers: ``drdrill plan`` marks the scenarios a target will skip (and counts the restores
it bills), ``drdrill run`` skips such a scenario *before its first step*, so a chaos scenario on the aws target
no longer provisions a stack and waits minutes for an AWS Backup job only to skip at its fault step, and the
cost cap counts restores by :func:`starts_restore`. The steps themselves still call
:meth:`dr_infra.drill.state.Drill.require` with the same capabilities and reasons
(``tests/unit/test_needs.py`` keeps the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

__all__ = ["STEP_NEEDS", "StepNeed", "skip_reason", "starts_restore", "strategy_of"]

Steps = Iterable[tuple[str, str]]
"""A scenario's steps as ``(type, text)``: ``("given", 'a DR-protected table "orders" with 20 items')``."""

FAULT_SWITCHES = "restore-path chaos needs the embedded target's fault switches"


@dataclass(frozen=True)
class StepNeed:
    """The capabilities a step requires, in the order its step definition checks them, and why."""

    pattern: re.Pattern[str]
    needs: tuple[tuple[str, str], ...]
    """``(capability, why)`` pairs, checked in order (the first missing one names the skip)."""
    example: str
    """A step text the pattern matches (the drift test checks it against the step definition)."""


def _need(pattern: str, example: str, *needs: tuple[str, str]) -> StepNeed:
    return StepNeed(re.compile(pattern), tuple(needs), example)


STEP_NEEDS: tuple[StepNeed, ...] = (
    _need(r"^a recovery point of the table exists$", "a recovery point of the table exists",
          ("backup_jobs", "recovery points come from AWS Backup jobs")),
    _need(r"^the backup plan has run -?\d+ times?$", "the backup plan has run 3 times",
          ("backup_jobs", "the backup plan's runs are AWS Backup jobs")),
    _need(r"^restore jobs take -?\d+ seconds?$", "restore jobs take 3 seconds", ("restore_faults", FAULT_SWITCHES)),
    _need(r"^restore jobs fail$", "restore jobs fail", ("restore_faults", FAULT_SWITCHES)),
    _need(r"^starting a restore is denied$", "starting a restore is denied", ("restore_faults", FAULT_SWITCHES)),
    _need(r'^the "[^"]*" operation is throttled -?\d+ times?$', 'the "DescribeTable" operation is throttled 2 times',
          ("restore_faults", "throttling needs the embedded target's fault switches")),
    _need(r"^the change monitor (fails|times out on) its next -?\d+ invocations?$",
          "the change monitor fails its next 2 invocations",
          ("function_faults", "function errors need the embedded target's fault switches"),
          ("restore_faults", "function errors are injected by the embedded target's fault switches")),
    _need(r"^the change monitor's event source mapping is disabled$",
          "the change monitor's event source mapping is disabled",
          ("lambda_execution", "a disabled mapping is only observable when the monitor runs")),
    _need(r"^the last stream records are delivered again$", "the last stream records are delivered again",
          ("lambda_execution", "redelivery needs a running change monitor")),
    _need(r"^point-in-time recovery is enabled on the table$", "point-in-time recovery is enabled on the table",
          ("pitr", "point-in-time recovery settings cannot be read")),
    _need(r"^the backup plan runs every \d+ hours? and keeps recovery points for \d+ days?$",
          "the backup plan runs every 12 hours and keeps recovery points for 35 days",
          ("backup", "AWS Backup plans cannot be read")),
    _need(r"^the backup plan meets the DR policy$", "the backup plan meets the DR policy",
          ("backup", "AWS Backup plans cannot be read")),
    _need(r"^the backup selection covers the table$", "the backup selection covers the table",
          ("backup_selections", "AWS Backup selections cannot be created or read")),
    _need(r"^the change monitor can start restore jobs and pass only the backup restore role$",
          "the change monitor can start restore jobs and pass only the backup restore role",
          ("iam", "IAM policies cannot be read")),
    _need(r"^the event source mapping is enabled at LATEST with ReportBatchItemFailures$",
          "the event source mapping is enabled at LATEST with ReportBatchItemFailures",
          ("lambda", "event source mappings cannot be read")),
)  # fmt: skip
"""Every step that skips on a target lacking a capability (the strategy step is :data:`STRATEGY_NEEDS`)."""

STRATEGY_STEP = re.compile(r'^the change monitor restores with the "(?P<strategy>[^"]*)" strategy$')
STRATEGY_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "backup": (
        ("backup_jobs", "the backup strategy restores from AWS Backup recovery points"),
        ("lambda_execution", "the change monitor has to run to restore anything"),
    ),
    "pitr": (
        ("lambda_execution", "the change monitor has to run to restore anything"),
        ("pitr_time_travel", "the pitr strategy needs a real point-in-time restore"),
    ),
    "item": (("lambda_execution", "the change monitor has to run to restore anything"),),
}
"""What ``the change monitor restores with the "S" strategy`` requires, per strategy."""

TABLE_LOSS_STEP = "the table is deleted"
_NO_RESTORE_THEN = re.compile(r"could not be started|can start restore jobs|^exactly 0 restore jobs?")
_RESTORING_STRATEGIES = frozenset({"backup", "pitr"})


def step_needs(text: str) -> tuple[tuple[str, str], ...]:
    """The ``(capability, why)`` pairs the step with this text requires (empty for most steps)."""
    text = text.strip()
    chosen = STRATEGY_STEP.match(text)
    if chosen:
        return STRATEGY_NEEDS.get(chosen.group("strategy"), ())
    for need in STEP_NEEDS:
        if need.pattern.match(text):
            return need.needs
    return ()


def skip_reason(steps: Steps, target: str, capabilities: Collection[str]) -> str | None:
    """Why ``target`` (with these capabilities) skips the scenario, or ``None`` when it can run it.

    The same line :meth:`~dr_infra.drill.state.Drill.require` gives at the first step that needs a missing
    capability: ``target aws lacks restore_faults: restore-path chaos needs ...``.
    """
    for _, text in steps:
        missing = [(capability, why) for capability, why in step_needs(text) if capability not in capabilities]
        if missing:
            capability, why = missing[0]
            return f"target {target} lacks {capability}: {why}"
    return None


def strategy_of(steps: Steps) -> str:
    """The monitor's strategy the scenario chooses (``backup`` unless a strategy step says otherwise)."""
    strategy = "backup"
    for _, text in steps:
        chosen = STRATEGY_STEP.match(text.strip())
        if chosen:
            strategy = chosen.group("strategy")
    return strategy


def starts_restore(steps: Steps) -> bool:
    """Whether a scenario with these ``(type, text)`` steps starts a restore (a billed restore on AWS).

    Table loss (``When the table is deleted``) always does; otherwise the monitor's strategy must restore a
    table (``backup``, the default, or ``pitr``; ``item`` repairs in place), a When step must harm the table,
    and a Then step must wait for or inspect the restore (not ``the restore could not be started``, a denied
    start, nor the posture check of the monitor's permissions).
    """
    strategy, harmful, expects = "backup", False, False
    for kind, text in steps:
        if kind == "when" and text.strip() == TABLE_LOSS_STEP:
            return True
        chosen = STRATEGY_STEP.match(text.strip())
        if chosen:
            strategy = chosen.group("strategy")
        harmful = harmful or kind == "when"
        expects = expects or (kind == "then" and "restor" in text and not _NO_RESTORE_THEN.search(text.strip()))
    return harmful and expects and strategy in _RESTORING_STRATEGIES
