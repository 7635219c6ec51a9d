"""When steps: the harmful changes (and a redelivery of stream records)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pytest_bdd import parsers, when

from dr_infra.bdd.step_checks import checks
from dr_infra.drill import inject
from dr_infra.drill.items import Item
from dr_infra.drill.oracle import Oracle
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.stack import safety

COUNT = r"(?P<count>-?\d+)"


def _prepare(drill: Drill, count: int) -> None:
    """Attach the monitor and leave a quiet second before the change (PITR's granularity)."""
    inject.check_count(count, minimum=1)
    safety.check_drill_table(drill, "change items of")
    drill.ensure_monitor_attached()
    inject.wait_for_quiet_second(drill.require_oracle(), also_after=drill.incident.recovery_point_at)


def _pick(drill: Drill, count: int, keys_only: bool = False) -> list[Item]:
    chosen = drill.require_oracle().live_keys(limit=count, keys_only=keys_only)
    if len(chosen) < count:
        raise ConfigError(f"cannot change {count} items: the table holds only {len(chosen)}")
    return chosen


def _harm(
    drill: Drill, harm: Callable[[Any, str, Oracle, Sequence[Item]], inject.Injection], items: list[Item]
) -> None:
    """Apply a harmful change to ``items`` and record it as the incident."""
    drill.mark_change(harm(drill.client("dynamodb"), drill.table, drill.require_oracle(), items))


@when(parsers.re(rf"{COUNT} items? (?:is|are) deleted"))
@checks(count=inject.harm_count)
def _(drill: Drill, count: str) -> None:
    number = inject.harm_count(count)
    _prepare(drill, number)
    _harm(drill, inject.delete_items, _pick(drill, number, keys_only=True))


@when(parsers.re(rf"{COUNT} items? (?:is|are) modified"))
@checks(count=inject.harm_count)
def _(drill: Drill, count: str) -> None:
    number = inject.harm_count(count)
    _prepare(drill, number)
    _harm(drill, inject.modify_items, _pick(drill, number))


@when(parsers.re(rf"{COUNT} items? (?:is|are) inserted"))
@checks(count=inject.harm_count)
def _(drill: Drill, count: str) -> None:
    number = inject.harm_count(count)
    _prepare(drill, number)
    drill.mark_change(inject.insert_items(drill.client("dynamodb"), drill.table, drill.require_oracle(), number))


def _named(drill: Drill, key: str) -> Item:
    oracle = drill.require_oracle()
    wanted = oracle.items.named(key)[oracle.hash_key]
    for item in oracle.state_at()():
        if item[oracle.hash_key] == wanted:
            return item
    raise ConfigError(f'the table has no item "{key}": add "Given the table holds the item "{key}"" first')


@when(parsers.re(r'the item "(?P<key>[^"]*)" is deleted'))
def _(drill: Drill, key: str) -> None:
    _prepare(drill, 1)
    _harm(drill, inject.delete_items, [_named(drill, key)])


@when(parsers.re(r'the item "(?P<key>[^"]*)" is modified'))
def _(drill: Drill, key: str) -> None:
    _prepare(drill, 1)
    _harm(drill, inject.modify_items, [_named(drill, key)])


@when("the table is deleted")
def _(drill: Drill) -> None:
    """DeleteTable emits no REMOVE records: the drill runs the recovery runbook itself (and says so).

    On AWS, detection would be an EventBridge rule on CloudTrail's DeleteTable event.
    """
    from dr_infra.drill import runbook

    runbook.lose_table(drill)


@when("the last stream records are delivered again")
def _(drill: Drill) -> None:
    """Re-invoke the monitor with the stream records of the change, as a retried batch would be."""
    drill.require("lambda_execution", why="redelivery needs a running change monitor")
    from dr_infra.drill import runbook

    runbook.redeliver_last_records(drill)
