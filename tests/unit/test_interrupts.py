"""The interrupt guard's rules: first press stops, shielded sections defer it, bursts count once, only
deliberate repeated presses abandon a teardown."""

from __future__ import annotations

import io

import pytest

from dr_infra.interrupts import ABANDON_AFTER, DEBOUNCE_S, InterruptGuard, TeardownAbandoned


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _guard() -> tuple[InterruptGuard, Clock, io.StringIO]:
    clock, out = Clock(), io.StringIO()
    return InterruptGuard(out=out, clock=clock), clock, out


def test_the_first_press_outside_a_shield_interrupts_at_once() -> None:
    guard, _, _ = _guard()
    with pytest.raises(KeyboardInterrupt):
        guard.handle(2)
    assert guard.stopping


def test_a_first_press_inside_a_shield_is_deferred_to_its_end() -> None:
    guard, _, out = _guard()
    finished = []
    with pytest.raises(KeyboardInterrupt), guard.shielded("provisioning the stack"):
        guard.handle(2)  # no raise here: the create and its clean-up registration finish first
        finished.append("provisioned")
    assert finished == ["provisioned"]
    assert "finishing provisioning the stack first" in out.getvalue()


def test_a_burst_during_teardown_is_one_press_and_never_abandons_it() -> None:
    guard, clock, out = _guard()
    with pytest.raises(KeyboardInterrupt):
        guard.handle(2)
    with guard.shielded("tearing down the stack"):
        for _ in range(25):  # 1.25 s of presses 0.05 s apart
            clock.now += 0.05
            guard.handle(2)
    assert guard.counted == 2  # the first press, then one burst
    assert "press Ctrl-C once more" in out.getvalue()


def test_deliberate_presses_a_second_apart_abandon_the_teardown() -> None:
    guard, clock, _ = _guard()
    with pytest.raises(KeyboardInterrupt):
        guard.handle(2)
    with pytest.raises(TeardownAbandoned), guard.shielded("tearing down the stack"):
        for _ in range(ABANDON_AFTER - 1):
            clock.now += DEBOUNCE_S + 0.1
            guard.handle(2)


def test_later_presses_outside_any_section_never_raise() -> None:
    guard, clock, _ = _guard()
    with pytest.raises(KeyboardInterrupt):
        guard.handle(2)
    for _ in range(5):
        clock.now += 2
        guard.handle(2)  # e.g. while pytest unwinds: reported nowhere, raised nowhere
