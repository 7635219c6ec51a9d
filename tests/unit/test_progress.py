"""Progress of long waits: one line per phase in CI, never one per poll; silent when off."""

from __future__ import annotations

import io

import pytest

from dr_infra.bdd import progress
from dr_infra.drill import waits


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_observer_after() -> object:
    yield
    waits.set_observer(None)


def test_plain_progress_prints_one_line_per_phase_not_per_poll() -> None:
    out = io.StringIO()
    progress.install("plain", out)
    clock = FakeClock()
    states = iter(["RUNNING 10%", "RUNNING 50%", "RUNNING 90%", "COMPLETED"])

    def probe() -> waits.Probe:
        state = next(states)
        return waits.Probe(state == "COMPLETED", state)

    waits.WaitPolicy("restore job CREATED/RUNNING -> COMPLETED", 60).run(probe, sleep=clock.sleep, clock=clock)
    lines = [line for line in out.getvalue().splitlines() if line]
    assert lines == [
        "[drdrill] waiting: restore job CREATED/RUNNING -> COMPLETED (now RUNNING 10%)",
        lines[1],
    ]
    assert "done after" in lines[1] and lines[1].endswith("COMPLETED")


def test_plain_progress_says_when_a_wait_gives_up() -> None:
    out = io.StringIO()
    progress.install("plain", out)
    clock = FakeClock()
    with pytest.raises(waits.WaitTimeout):
        waits.WaitPolicy("restored table CREATING -> ACTIVE", 5).run(
            lambda: waits.Probe(False, "CREATING"), sleep=clock.sleep, clock=clock
        )
    assert "restored table CREATING -> ACTIVE gave up after" in out.getvalue()


def test_off_is_silent_and_unknown_modes_are_refused() -> None:
    assert progress.choose("off") is None
    with pytest.raises(ValueError, match="unknown progress mode"):
        progress.choose("loud")


def test_auto_is_plain_when_the_stream_is_not_a_terminal() -> None:
    out = io.StringIO()
    observer = progress.choose("auto", out)
    assert observer is not None
    observer.poll("phase", waits.Probe(False, "x"), 0.0)
    assert out.getvalue().startswith("\n[drdrill] waiting: phase")
