"""The in-place repair probe (``await_item_repair``) and BatchGetItem's ``UnprocessedKeys``.

BatchGetItem may leave keys unread (throttling, its 16 MB cap) and say so in ``UnprocessedKeys``. A key the
reply does not answer says nothing about the table: counting it as repaired would let the drill report a repair
(and its RTO) at a moment it never saw the item restored. For an *insert* the repaired state is "absent", which
is exactly what an unanswered key looks like, so these tests use inserted items: they fail if the probe stops
reading ``UnprocessedKeys``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dr_infra.drill import recovery
from dr_infra.drill.incident import Incident
from dr_infra.drill.inject import Injection
from dr_infra.drill.items import key_of
from dr_infra.drill.oracle import Oracle, Write
from dr_infra.drill.policy import Policy
from dr_infra.drill.state import Drill
from dr_infra.errors import WaitTimeout
from dr_infra.report.journal import ScenarioRecord
from dr_infra.stack.spec import StackSpec

CHANGE = datetime(2025, 3, 1, 10, 0, 5, tzinfo=UTC)
TABLE = "drdrill-run-1-orders"
#: More than one BatchGetItem's worth, so a poll is two calls and the unanswered key sits in the second.
INSERTED = recovery.BATCH_GET_LIMIT + 20


class _Table:
    """A fake DynamoDB client holding one table; ``unprocessed(call)`` says which keys a call leaves unread."""

    def __init__(self, items: dict[Any, dict[str, Any] | None], oracle: Oracle, unprocessed: Any) -> None:
        self.items, self.oracle, self.unprocessed = items, oracle, unprocessed
        self.calls = 0
        self.asked: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        assert table == TABLE and request["ConsistentRead"] is True
        assert len(request["Keys"]) <= recovery.BATCH_GET_LIMIT
        self.calls += 1
        self.asked.append(len(request["Keys"]))
        skipped = [k for k in request["Keys"] if self.oracle.key(k) in self.unprocessed(self.calls)]
        found = [self.items.get(self.oracle.key(k)) for k in request["Keys"] if k not in skipped]
        reply: dict[str, Any] = {"Responses": {TABLE: [item for item in found if item is not None]}}
        if skipped:
            reply["UnprocessedKeys"] = {TABLE: {"Keys": skipped, "ConsistentRead": True}}
        return reply


def _drill(monkeypatch: pytest.MonkeyPatch) -> tuple[Drill, Oracle, list[dict[str, Any]]]:
    """A drill whose harmful change inserted ``INSERTED`` items into a table seeded with three."""
    oracle = Oracle(hash_key="LockId")
    oracle.seed_count, oracle.seeded_at = 3, CHANGE - timedelta(minutes=1)
    inserted = [oracle.seed(1_000_000 + i) for i in range(INSERTED)]
    end = CHANGE + timedelta(milliseconds=50)
    for item in inserted:
        oracle.record(Write(oracle.key(item), item, CHANGE, end, harmful=True))
    target = SimpleNamespace(capabilities=set(), client=None, max_poll_interval=0.01)
    drill = Drill(
        target=target,  # type: ignore[arg-type]
        run_id="run",
        record=ScenarioRecord(id="s", name="s", feature="f", feature_file="f.feature", guarantee="deletion"),
        policy=Policy(),
        stack_counter=lambda: 1,
    )
    drill.stack = SimpleNamespace(names=SimpleNamespace(table=TABLE), spec=StackSpec())  # type: ignore[assignment]
    drill.oracle = oracle
    keys = [key_of(item, oracle.key_attributes) for item in inserted]
    drill.incident = Incident(change_at=CHANGE)
    drill.incident.injection = Injection("insert", INSERTED, CHANGE, end, keys)
    # The evidence read after the wait (the monitor's log lines) is not what these tests are about.
    monkeypatch.setattr(recovery, "note_invocation", lambda _drill: None)
    monkeypatch.setattr(recovery, "decisions", lambda _drill: [])
    return drill, oracle, inserted


def test_a_key_left_unprocessed_is_not_repaired_until_a_later_poll_answers_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drill, oracle, inserted = _drill(monkeypatch)
    last = oracle.key(inserted[-1])
    # The monitor has deleted every inserted item but the last; the first poll's second call leaves that one
    # unread. Between polls the monitor deletes it, and the next poll reads it (gone).
    items: dict[Any, dict[str, Any] | None] = {oracle.key(i): None for i in inserted}
    items[last] = inserted[-1]
    table = _Table(items, oracle, unprocessed=lambda call: {last} if call == 2 else set())
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        items[last] = None

    drill.target.client = lambda service: table  # type: ignore[misc]
    recovery.await_item_repair(drill, timeout=30, sleep=sleep)

    # the first poll (two calls) did not count the unread key repaired; the second asked only for it (one call),
    # then one sweep of every key (two calls) saw them all repaired at once
    assert table.calls == 5
    assert table.asked == [100, 20, 1, 100, 20]
    assert len(sleeps) == 1
    assert drill.incident.repaired_at is not None


def test_keys_that_stay_unprocessed_end_the_wait_not_repaired(monkeypatch: pytest.MonkeyPatch) -> None:
    drill, oracle, inserted = _drill(monkeypatch)
    stuck = {oracle.key(i) for i in inserted[-2:]}
    # The table is fully repaired, but two keys are never read: the drill cannot say so, so it does not.
    table = _Table({oracle.key(i): None for i in inserted}, oracle, unprocessed=lambda call: stuck)
    drill.target.client = lambda service: table  # type: ignore[misc]

    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=rf"2 of {INSERTED} items not yet repaired") as raised:
        recovery.await_item_repair(drill, timeout=0.3)
    assert time.monotonic() - started < 5
    assert raised.value.phase == recovery.PHASE_ITEM_REPAIRED
    assert table.calls > 2  # it kept asking until the deadline
    assert drill.incident.repaired_at is None


def test_answered_keys_all_repaired_end_the_wait_on_the_first_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control case: with nothing unprocessed, a repaired table is seen repaired at once."""
    drill, oracle, inserted = _drill(monkeypatch)
    table = _Table({oracle.key(i): None for i in inserted}, oracle, unprocessed=lambda call: set())
    drill.target.client = lambda service: table  # type: ignore[misc]
    recovery.await_item_repair(drill, timeout=30, sleep=lambda _s: pytest.fail("no second poll was needed"))
    assert table.calls == 2
    assert drill.incident.repaired_at is not None


def test_an_item_changed_again_after_it_was_seen_repaired_holds_the_repair_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Later polls ask only for the keys not yet seen repaired, but the repair is done only when one sweep sees
    every key as it was: an item the monitor repaired and something then changed again is not missed."""
    drill, oracle, inserted = _drill(monkeypatch)
    first, second = oracle.key(inserted[0]), oracle.key(inserted[1])
    items: dict[Any, dict[str, Any] | None] = {oracle.key(i): None for i in inserted}
    items[first] = inserted[0]  # not yet repaired at the first poll
    table = _Table(items, oracle, unprocessed=lambda call: set())
    moments = iter(
        [
            lambda: items.update({first: None, second: inserted[1]}),  # first repaired; second written again
            lambda: items.update({second: None}),  # and repaired again
        ]
    )
    drill.target.client = lambda service: table  # type: ignore[misc]
    recovery.await_item_repair(drill, timeout=30, sleep=lambda _s: next(moments)())

    # poll 1: every key (first wrong); poll 2: only first (right), then a sweep finds second wrong;
    # poll 3: only second (right), then a sweep finds every key right
    assert table.asked == [100, 20, 1, 100, 20, 1, 100, 20]
    assert drill.incident.repaired_at is not None
