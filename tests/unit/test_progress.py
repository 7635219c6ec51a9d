"""Progress of long waits: one line per phase in CI, never one per poll; silent when off."""

from __future__ import annotations

import io
import itertools
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


def test_plain_progress_prints_one_line_per_phase_not_per_poll() -> None:
    out = io.StringIO()
    with progress.installed("plain", out):
        clock = FakeClock()
        states = iter(["RUNNING 10%", "RUNNING 50%", "RUNNING 90%", "COMPLETED"])

        def probe() -> waits.Probe:
            state = next(states)
            clock.now += 1.5  # each DescribeRestoreJob takes a while
            return waits.Probe(state == "COMPLETED", state)

        with waits.observing(progress.PlainProgress(out, clock=clock)):
            waits.WaitPolicy("restore job CREATED/RUNNING -> COMPLETED", 60).run(probe, sleep=clock.sleep, clock=clock)
            lines = [line for line in out.getvalue().splitlines() if line]
            assert lines == [
                "[drdrill] waiting: restore job CREATED/RUNNING -> COMPLETED (now RUNNING 50%, 3.0 s so far)",
                lines[1],
            ]
            assert "done after" in lines[1] and lines[1].endswith("COMPLETED")


def test_plain_progress_says_when_a_wait_gives_up() -> None:
    out = io.StringIO()
    with progress.installed("plain", out):
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
    with progress.installed("plain", out):
        waits.WaitPolicy("restored table CREATING -> ACTIVE", 5).run(lambda: waits.Probe(True, "ACTIVE"))
        states = iter([False, False, True])
        waits.WaitPolicy("restored table CREATING -> ACTIVE", 5).run(lambda: waits.Probe(next(states), "CREATING"))
        assert out.getvalue() == ""


def test_heartbeat_while_waiting_long() -> None:
    clock = FakeClock()
    out = io.StringIO()
    with waits.observing(progress.PlainProgress(out, clock=clock)):
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


def test_lines_name_the_scenario_worker_and_rto_left() -> None:
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    drill = SimpleNamespace(
        incident=SimpleNamespace(change_at=datetime.now(UTC) - timedelta(seconds=10)), rto_target=30.0
    )
    tracker = progress.ScenarioTracker()
    tracker.scene = progress.Scene("A deleted item is restored", "gw1", time.monotonic() - 12.0, lambda: drill)
    out = io.StringIO()
    observer = progress.choose("plain", out, tracker.label)
    assert observer is not None
    observer.poll("restore job CREATED/RUNNING -> COMPLETED", waits.Probe(False, "RUNNING"), 3.0)
    line = out.getvalue().strip()
    assert line.startswith("[drdrill] gw1 | A deleted item is restored | ")
    assert re.search(r"\| 12\.\d s in, RTO left (19\.\d|20\.0) s \|", line), line
    assert line.endswith("| waiting: restore job CREATED/RUNNING -> COMPLETED (now RUNNING, 3.0 s so far)")
    tracker.pytest_runtest_logfinish()  # the scenario ended: the next line names none
    observer.finish("restore job CREATED/RUNNING -> COMPLETED", waits.Probe(True, "COMPLETED"), 4.0, ok=True)
    assert out.getvalue().splitlines()[-1].startswith("[drdrill] restore job CREATED/RUNNING -> COMPLETED done")


def _slow_poll_wait(observer: waits.WaitObserver | None, clock: FakeClock, out: io.StringIO) -> tuple[int, list[float]]:
    """A wait polled once a minute (as the plan's own runs are) that ends after 5 minutes: (polls, line times)."""
    polls = [0]
    stamps: list[float] = []

    class Stamped(io.StringIO):
        def write(self, text: str) -> int:
            if text.strip():
                stamps.append(clock.now)
            return out.write(text)

    if observer is not None:
        observer.stream = Stamped()  # type: ignore[attr-defined]
    with waits.observing(observer):

        def probe() -> waits.Probe:
            polls[0] += 1
            return waits.Probe(clock.now >= 300, f"{polls[0]} polls")

        waits.WaitPolicy("backup plan's own runs", 600, first_interval=60.0, max_interval=60.0).run(
            probe, sleep=clock.sleep, clock=clock
        )
        return polls[0], stamps


def test_a_wait_that_polls_once_a_minute_still_has_a_heartbeat_under_30_s() -> None:
    clock = FakeClock()
    out = io.StringIO()
    polls, stamps = _slow_poll_wait(progress.PlainProgress(out, clock=clock), clock, out)
    gaps = [b - a for a, b in itertools.pairwise([0.0, *stamps, clock.now])]
    assert clock.now >= 300 and max(gaps) < 30, (gaps, out.getvalue())
    assert "still waiting: backup plan's own runs" in out.getvalue()
    # the heartbeat costs no extra calls: as many polls as the same wait makes unobserved
    silent_clock = FakeClock()
    assert _slow_poll_wait(None, silent_clock, io.StringIO())[0] == polls
    assert silent_clock.now == clock.now


def test_without_a_slice_the_same_wait_would_be_silent_for_a_minute() -> None:
    """The negative case: told only at polls (slices as long as the poll interval), lines are a minute apart."""
    clock = FakeClock()
    out = io.StringIO()
    original = waits.OBSERVER_SLICE_S
    waits.OBSERVER_SLICE_S = 60.0
    try:
        _, stamps = _slow_poll_wait(progress.PlainProgress(out, clock=clock), clock, out)
    finally:
        waits.OBSERVER_SLICE_S = original
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert gaps and max(gaps) >= 60


class CreatingTable:
    """A DynamoDB client refusing DeleteTable (ResourceInUseException) while the table is CREATING."""

    def __init__(self, busy: int) -> None:
        self.busy, self.calls = busy, 0

    def delete_table(self, TableName: str) -> dict[str, object]:
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.calls <= self.busy:
            error = {"Code": "ResourceInUseException", "Message": f"Table is being created: {TableName}"}
            raise ClientError({"Error": error}, "DeleteTable")
        return {"TableDescription": {"TableName": TableName, "TableStatus": "DELETING"}}


def test_a_teardown_waiting_for_a_restored_table_to_settle_says_so() -> None:
    """A restore still running when the drill ends holds its table CREATING: teardown's wait for it is a phase."""
    from dr_infra.stack.table_delete import delete_table_when_settled

    out = io.StringIO()
    with progress.installed("plain", out):
        clock = FakeClock()
        client = CreatingTable(busy=6)  # refused for 0.2 + 0.4 + ... + 6.4 s: past the quiet 2 s
        delete_table_when_settled(client, "orders-restored-1", sleep=clock.sleep, clock=clock)
        lines = out.getvalue().splitlines()
        assert client.calls == 7 and len(lines) == 2, lines
        assert lines[0].startswith(
            "[drdrill] waiting: table orders-restored-1 settles before DeleteTable (now CREATING"
        )
        assert "table orders-restored-1 settles before DeleteTable done after" in lines[1] and lines[1].endswith(
            "deleted"
        )


def test_a_table_deleted_at_once_or_without_progress_prints_nothing() -> None:
    from dr_infra.stack.table_delete import delete_table_when_settled

    out = io.StringIO()
    with progress.installed("plain", out):
        delete_table_when_settled(CreatingTable(busy=0), "t")
        assert out.getvalue() == ""
        with progress.installed("off", out):
            clock = FakeClock()
            client = CreatingTable(busy=6)
            delete_table_when_settled(client, "t", sleep=clock.sleep, clock=clock)
            assert client.calls == 7 and out.getvalue() == ""


class StartingMapping:
    """A Lambda client whose event source mapping is Creating for ``creating`` GetEventSourceMapping calls."""

    def __init__(self, creating: int) -> None:
        self.creating, self.calls = creating, 0

    def get_event_source_mapping(self, UUID: str) -> dict[str, str]:
        self.calls += 1
        return {"UUID": UUID, "State": "Creating" if self.calls <= self.creating else "Enabled"}


def test_a_mapping_that_takes_long_to_start_is_reported_then_done() -> None:
    """On AWS a new mapping can take minutes to start polling: the provisioning wait speaks like a restore's."""
    from dr_infra.stack import protect, wait_report

    told: list[tuple[str, float, bool]] = []
    with wait_report.reporting(lambda phase, state, elapsed, finished: told.append((phase, elapsed, finished))):
        protect.wait_mapping_state(StartingMapping(creating=3), "m-1", "Enabled", timeout=5, max_interval=0.01)  # type: ignore[arg-type]
        assert [f for _, _, f in told] == [False, False, False, True]
        assert {p for p, _, _ in told} == {"event source mapping m-1 becoming Enabled"}
        told.clear()
        protect.wait_mapping_state(StartingMapping(creating=0), "m-2", "Enabled", timeout=5)  # type: ignore[arg-type]
        assert told == []  # ready at once: nothing to say
        with pytest.raises(protect.NotArmed):
            protect.wait_mapping_state(
                StartingMapping(creating=10**6), "m-3", "Enabled", timeout=0.2, max_interval=0.01
            )  # type: ignore[arg-type]
        assert told and not any(f for _, _, f in told)  # a wait that gave up is never reported done


def test_progress_install_routes_stack_waits_to_the_progress_lines() -> None:
    from dr_infra.stack import wait_report

    out = io.StringIO()
    with progress.installed("plain", out):
        assert wait_report._reporter is progress.stack_wait
        wait_report._reporter("event source mapping m-1 becoming Enabled", "not yet", 3.0, False)
        assert out.getvalue().startswith("[drdrill] waiting: event source mapping m-1 becoming Enabled (now not yet")
        with progress.installed("off", out):
            assert wait_report._reporter is None


def test_an_observer_lasts_only_as_long_as_its_scope_even_when_the_block_fails() -> None:
    """Nothing a run or a test installs outlives it: the observer (and stack reporter) before it is back."""
    from dr_infra.stack import wait_report

    outer, inner = io.StringIO(), io.StringIO()
    with progress.installed("plain", outer):
        with pytest.raises(RuntimeError), progress.installed("plain", inner):
            raise RuntimeError("a drill that blew up")
        waits.report_progress("seeding", "10 of 250 items", 12.0)
        assert wait_report._reporter is progress.stack_wait
    assert inner.getvalue() == "" and outer.getvalue().startswith("[drdrill] waiting: seeding")
    with progress.installed("plain", outer):
        pass
    assert waits._observer is None and wait_report._reporter is None
    waits.report_progress("seeding", "20 of 250 items", 24.0)  # silent now: nothing left installed
    assert "20 of 250" not in outer.getvalue()
