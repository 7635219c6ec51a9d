"""Progress of long waits: one line per phase in CI, never one per poll; silent when off."""

from __future__ import annotations

import io
import re
import time

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
        clock.now += 1.5  # each DescribeRestoreJob takes a while
        return waits.Probe(state == "COMPLETED", state)

    waits.set_observer(progress.PlainProgress(out, clock=clock))
    waits.WaitPolicy("restore job CREATED/RUNNING -> COMPLETED", 60).run(probe, sleep=clock.sleep, clock=clock)
    lines = [line for line in out.getvalue().splitlines() if line]
    assert lines == [
        "[drdrill] waiting: restore job CREATED/RUNNING -> COMPLETED (now RUNNING 50%, 3.0 s so far)",
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
    observer.poll("phase", waits.Probe(False, "x"), 5.0)
    assert out.getvalue().startswith("[drdrill] waiting: phase")


def test_a_short_wait_prints_nothing() -> None:
    out = io.StringIO()
    progress.install("plain", out)
    waits.WaitPolicy("restored table CREATING -> ACTIVE", 5).run(lambda: waits.Probe(True, "ACTIVE"))
    states = iter([False, False, True])
    waits.WaitPolicy("restored table CREATING -> ACTIVE", 5).run(lambda: waits.Probe(next(states), "CREATING"))
    assert out.getvalue() == ""


def test_heartbeat_while_waiting_long() -> None:
    clock = FakeClock()
    out = io.StringIO()
    waits.set_observer(progress.PlainProgress(out, clock=clock))
    polls = iter(range(100))

    def probe() -> waits.Probe:
        n = next(polls)
        return waits.Probe(n >= 60, f"RUNNING {n}%")

    waits.WaitPolicy("restore job CREATED/RUNNING -> COMPLETED", 600, max_interval=2.0).run(
        probe, sleep=clock.sleep, clock=clock
    )
    lines = out.getvalue().splitlines()
    beats = [line for line in lines if "still waiting" in line]
    assert clock.now > 100 and len(beats) >= int(clock.now // progress.HEARTBEAT_S) - 1
    assert lines[0].startswith("[drdrill] waiting:") and "done after" in lines[-1]


def test_lines_name_the_scenario_worker_and_rto_left(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    drill = SimpleNamespace(
        incident=SimpleNamespace(change_at=datetime.now(UTC) - timedelta(seconds=10)), rto_target=30.0
    )
    scene = progress.Scene("A deleted item is restored", "gw1", time.monotonic() - 12.0, lambda: drill)
    monkeypatch.setattr(progress, "_scene", scene)
    out = io.StringIO()
    progress.install("plain", out)
    progress.choose("plain", out).poll("restore job CREATED/RUNNING -> COMPLETED", waits.Probe(False, "RUNNING"), 3.0)
    line = out.getvalue().strip()
    assert line.startswith("[drdrill] gw1 | A deleted item is restored | ")
    assert re.search(r"\| 12\.\d s in, RTO left (19\.\d|20\.0) s \|", line), line
    assert line.endswith("| waiting: restore job CREATED/RUNNING -> COMPLETED (now RUNNING, 3.0 s so far)")
