"""Waits with a fake clock: they complete, time out naming the phase, and fail fast on FAILED jobs."""

from __future__ import annotations

from typing import Any

import pytest

from dr_infra.drill.waits import PHASE_RESTORE_JOB, Probe, WaitPolicy, restore_job_probe
from dr_infra.errors import RestoreFailed, WaitTimeout


class FakeClock:
    """A clock that only moves when the wait sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeBackup:
    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.states = states
        self.calls = 0

    def describe_restore_job(self, RestoreJobId: str) -> dict[str, Any]:
        state = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        return {"RestoreJobId": RestoreJobId, **state}


def test_completes_when_the_probe_is_done() -> None:
    clock = FakeClock()
    results = iter([Probe(False, "CREATED"), Probe(False, "RUNNING"), Probe(True, "COMPLETED", "value")])
    polls: list[str] = []
    done = WaitPolicy("phase", timeout=60).run(
        lambda: next(results), sleep=clock.sleep, clock=clock, on_poll=lambda p, _t: polls.append(p.state)
    )
    assert done.value == "value"
    assert polls == ["CREATED", "RUNNING", "COMPLETED"]
    assert len(clock.sleeps) == 2


def test_times_out_naming_the_phase_and_the_last_state() -> None:
    clock = FakeClock()
    states = iter(f"RUNNING {p}%" for p in range(1000))
    with pytest.raises(WaitTimeout) as caught:
        WaitPolicy(PHASE_RESTORE_JOB, timeout=30, max_interval=2).run(
            lambda: Probe(False, next(states)), sleep=clock.sleep, clock=clock
        )
    error = caught.value
    assert error.phase == PHASE_RESTORE_JOB
    assert PHASE_RESTORE_JOB in str(error)
    assert error.last_state.startswith("RUNNING ")
    assert error.last_state in str(error)
    assert 30 <= error.waited < 33
    assert max(clock.sleeps) <= 2  # backoff is capped


def test_failed_restore_job_raises_at_once_quoting_its_status_message() -> None:
    clock = FakeClock()
    backup = FakeBackup(
        [{"Status": "RUNNING"}, {"Status": "FAILED", "StatusMessage": "KMS key disabled for table copy"}]
    )
    with pytest.raises(RestoreFailed) as caught:
        WaitPolicy(PHASE_RESTORE_JOB, timeout=3600).run(
            restore_job_probe(backup, "job-1"), sleep=clock.sleep, clock=clock
        )
    assert "KMS key disabled for table copy" in str(caught.value)
    assert "job-1" in str(caught.value)
    assert backup.calls == 2
    assert len(clock.sleeps) == 1  # no polling after FAILED


def test_aborted_restore_job_fails_too() -> None:
    clock = FakeClock()
    backup = FakeBackup([{"Status": "ABORTED"}])
    with pytest.raises(RestoreFailed, match="ABORTED"):
        WaitPolicy(PHASE_RESTORE_JOB, timeout=60).run(restore_job_probe(backup, "j"), sleep=clock.sleep, clock=clock)


def test_restore_job_probe_reports_progress() -> None:
    clock = FakeClock()
    backup = FakeBackup([{"Status": "RUNNING", "PercentDone": "40"}])
    with pytest.raises(WaitTimeout, match="RUNNING 40%"):
        WaitPolicy(PHASE_RESTORE_JOB, timeout=5).run(restore_job_probe(backup, "j"), sleep=clock.sleep, clock=clock)


def test_the_last_poll_is_at_the_deadline_and_no_sleep_crosses_it() -> None:
    clock = FakeClock()
    polled_at: list[float] = []

    def probe() -> Probe:
        polled_at.append(clock.now - 1000.0)
        return Probe(False, "RUNNING")

    with pytest.raises(WaitTimeout) as caught:
        WaitPolicy("phase", timeout=30, max_interval=7).run(probe, sleep=clock.sleep, clock=clock)
    assert sum(clock.sleeps) == pytest.approx(30.0)
    assert polled_at[-1] == pytest.approx(30.0) and all(t <= 30.0 + 1e-9 for t in polled_at)
    assert caught.value.waited == pytest.approx(30.0)


def test_a_phase_done_only_after_the_deadline_is_a_timeout_not_a_late_pass() -> None:
    clock = FakeClock()
    # Done from 31 s on: with 2 s backoff steps an uncut sleep would poll at ~31 s and pass "within 30 s" late.
    probe = lambda: Probe(clock.now - 1000.0 >= 31.0, "COMPLETED" if clock.now - 1000.0 >= 31.0 else "RUNNING")  # noqa: E731
    with pytest.raises(WaitTimeout):
        WaitPolicy("phase", timeout=30, max_interval=2).run(probe, sleep=clock.sleep, clock=clock)
    assert clock.now - 1000.0 == pytest.approx(30.0)


def test_done_exactly_at_the_deadline_passes() -> None:
    clock = FakeClock()
    probe = lambda: Probe(clock.now - 1000.0 >= 30.0, "state")  # noqa: E731
    assert WaitPolicy("phase", timeout=30, max_interval=7).run(probe, sleep=clock.sleep, clock=clock).done
