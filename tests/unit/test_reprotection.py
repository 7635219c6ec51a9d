"""Who re-protects a restored table: EventBridge (waited for), or the drill itself (and the journal says so).

Fakes stand in for the target: ``read`` returns what a fake table looks like now, ``invoke`` records calls, and
a fake clock only moves when the wait sleeps, so the EventBridge wait is tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from dr_infra.drill import reprotection

PROTECTED = {"stream NEW_AND_OLD_IMAGES": True, "point-in-time recovery ENABLED": True, "change monitor attached": True}
BARE = dict.fromkeys(PROTECTED, False)


@dataclass
class FakeWorld:
    """A restored table that becomes protected after ``protected_after`` seconds of (fake) time, if ever."""

    protected_after: float | None = None
    now: float = 0.0
    invocations: int = 0
    reads: int = 0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def read(self) -> dict[str, bool]:
        self.reads += 1
        delivered = self.protected_after is not None and self.now >= self.protected_after
        return dict(PROTECTED if delivered or self.invocations else BARE)

    def invoke(self) -> None:
        self.invocations += 1


def ensure(world: FakeWorld, *, pitr: bool, events: bool, wait_s: float = 420.0) -> str:
    return reprotection.ensure_reprotected(
        table="t-restored-1",
        pitr=pitr,
        events=events,
        read=world.read,
        invoke=world.invoke,
        wait_s=wait_s,
        sleep=world.sleep,
        clock=world.clock,
    )


@pytest.mark.parametrize("events", [True, False])
def test_a_pitr_restore_is_reprotected_by_the_drill_on_every_target(events: bool) -> None:
    world = FakeWorld(protected_after=1.0)  # even where EventBridge could deliver: nothing is sent for PITR

    note = ensure(world, pitr=True, events=events)

    assert world.invocations == 1
    assert world.sleeps == []  # nothing to wait for
    assert "the drill invoked re-protection of t-restored-1 itself" in note
    assert "AWS API Call via CloudTrail" in note
    assert "runbook step" in note


def test_without_eventbridge_delivery_the_drill_invokes_at_once_and_says_why() -> None:
    world = FakeWorld()

    note = ensure(world, pitr=False, events=False)

    assert world.invocations == 1
    assert world.sleeps == []
    assert note.startswith("the target has no EventBridge delivery: the drill invoked re-protection")


def test_a_backup_restore_waits_for_eventbridge_and_does_not_invoke_when_it_delivers() -> None:
    world = FakeWorld(protected_after=30.0)

    note = ensure(world, pitr=False, events=True)

    assert world.invocations == 0
    assert world.now >= 30.0 and world.reads > 1  # it polled until the rule's invocation showed up
    assert "re-protected by the stack's EventBridge rule" in note


def test_when_eventbridge_does_not_deliver_within_the_wait_the_drill_invokes_and_notes_it() -> None:
    world = FakeWorld(protected_after=None)

    note = ensure(world, pitr=False, events=True, wait_s=60.0)

    assert world.invocations == 1
    assert 60.0 <= world.now < 80.0  # waited the whole wait, not much longer
    assert note.startswith("EventBridge did not deliver")
    assert "within 60 s" in note
    assert "missing stream NEW_AND_OLD_IMAGES, point-in-time recovery ENABLED, change monitor attached" in note
    assert note.endswith("the drill invoked re-protection of t-restored-1 itself")


def test_the_default_wait_outlasts_aws_backups_five_minute_event_batches() -> None:
    assert reprotection.EVENTBRIDGE_WAIT_S > 300


def test_a_failed_invocation_is_not_hidden() -> None:
    def boom() -> None:
        raise AssertionError("re-protection failed: AccessDeniedException")

    with pytest.raises(AssertionError, match="AccessDeniedException"):
        reprotection.ensure_reprotected(
            table="t", pitr=True, events=False, read=lambda: BARE, invoke=boom, sleep=lambda s: None
        )
