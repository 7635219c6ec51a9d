"""Then steps: the guarantees, measured (RTO phase by phase, RPO from canaries) and proven (equivalence).

Each step parses its Gherkin and calls one function: the measuring and proving live in ``dr_infra.drill``
(:mod:`~dr_infra.drill.rpo`, :mod:`~dr_infra.drill.proof`, :mod:`~dr_infra.drill.monitor_checks`, recovery).
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from dr_infra.bdd.step_checks import checks
from dr_infra.drill import monitor_checks, proof, recovery, rpo
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError

SECONDS = r"(?P<seconds>-?\d+)"
MAX_SECONDS = 86_400
"""Longest time limit a step accepts (24 hours): AWS restores of the largest tables finish well within it, and a
bigger number is almost always a typo that would make a drill wait forever."""


def _seconds(value: str) -> float:
    number = int(value)
    if number < 0:
        raise ConfigError(f"{number} seconds: a time limit cannot be negative")
    if number > MAX_SECONDS:
        raise ConfigError(f"{number} seconds is beyond drdrill's cap of {MAX_SECONDS:,} seconds (24 hours) per step")
    return float(number)


@then(parsers.re(rf"a restore job completes within {SECONDS} seconds?"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    if drill.strategy == "item":
        raise ConfigError("the item strategy repairs in place: use 'the table is repaired in place within N seconds'")
    recovery.recover_within(drill, _seconds(seconds))


@then(parsers.re(rf"the table is repaired in place within {SECONDS} seconds?"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    if drill.strategy != "item":
        raise ConfigError('in-place repair needs the "item" strategy')
    recovery.repair_within(drill, _seconds(seconds))


def _policy_rto(drill: Drill) -> float:
    if drill.rto_target is None:
        raise ConfigError("no RTO target: add 'Given the DR policy requires ...' or rto_seconds to the --policy file")
    if drill.rto_target > MAX_SECONDS:
        raise ConfigError(f"the policy's RTO of {drill.rto_target:g} s is beyond drdrill's cap of {MAX_SECONDS:,} s")
    return float(drill.rto_target)


@then("a restore job completes within the DR policy's RTO")
def _(drill: Drill) -> None:
    """The time limit comes from the policy, so one feature file suits the embedded target and real AWS alike."""
    if drill.strategy == "item":
        raise ConfigError("the item strategy repairs in place: use 'the table is repaired in place within ...'")
    recovery.recover_within(drill, _policy_rto(drill))


@then("the table is repaired in place within the DR policy's RTO")
def _(drill: Drill) -> None:
    if drill.strategy != "item":
        raise ConfigError('in-place repair needs the "item" strategy')
    recovery.repair_within(drill, _policy_rto(drill))


@then("the restored table matches the table as it was before the change")
def _(drill: Drill) -> None:
    proof.check_restored_data(drill)


@then(parsers.re(r"exactly (?P<count>-?\d+) restore jobs? started"))
def _(drill: Drill, count: str) -> None:
    expected = int(count)
    if expected < 0:
        raise ConfigError("a number of restore jobs cannot be negative")
    monitor_checks.check_restore_count(drill, expected)


@then(parsers.re(r"the change monitor logged the (?P<event>INSERT|MODIFY|REMOVE) event"))
def _(drill: Drill, event: str) -> None:
    monitor_checks.wait_logged_event(drill, event)


@then("no data written before the change was lost")
def _(drill: Drill) -> None:
    rpo.check_no_data_lost(drill)


@then(parsers.re(rf"at most {SECONDS} seconds? of writes (?:was|were) lost"))
@checks(seconds=_seconds)
def _(drill: Drill, seconds: str) -> None:
    rpo.check_rpo_within(drill, _seconds(seconds))


@then(parsers.re(r"at most the DR policy's RPO of writes (?:was|were) lost"))
def _(drill: Drill) -> None:
    if drill.rpo_target is None:
        raise ConfigError("no RPO target: add 'Given the DR policy requires ...' or rpo_seconds to the --policy file")
    rpo.check_rpo_within(drill, drill.rpo_target, "the policy's ")


@then("the restored table is protected again")
def _(drill: Drill) -> None:
    from dr_infra.drill import reprotection, user_monitor

    if user_monitor.is_user_monitor(drill):
        reason = "re-protection is drdrill's own monitor's (on_restore_completed); this definition's monitor has none"
        user_monitor.not_applicable(drill, "the restored table is protected again", reason)
        return

    reprotection.verify(drill)


@then("the RTO and RPO meet the DR policy")
def _(drill: Drill) -> None:
    proof.check_policy_measures(drill)


@then("the restore started from the right point")
def _(drill: Drill) -> None:
    """Backup: the newest COMPLETED recovery point created before the change. PITR: the change's second."""
    proof.check_restore_point(drill)
