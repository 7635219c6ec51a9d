"""Waiting for recovery, with tenacity only: one named policy per phase, injectable sleep and clock.

A timeout names the phase that stalled and the last state seen ("restore job CREATED/RUNNING -> COMPLETED
did not finish within 30.0 s (last state seen: RUNNING 40%)"); a FAILED or ABORTED job fails at once with
its StatusMessage. Because ``sleep`` and ``clock`` are parameters, waits are unit-tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from botocore.exceptions import ClientError
from tenacity import RetryCallState, Retrying, retry_if_result, wait_exponential

from dr_infra.errors import RestoreFailed, WaitTimeout

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
PHASE_RESTORE_JOB = "restore job CREATED/RUNNING -> COMPLETED"
PHASE_BACKUP_JOB = "backup job CREATED/RUNNING -> COMPLETED"
PHASE_TABLE_ACTIVE = "restored table CREATING -> ACTIVE"
PHASE_ITEM_REPAIRED = "item repaired in place"
PHASE_RESTORE_STARTED = "change monitor starts a restore"


@dataclass(frozen=True)
class Probe:
    """What one poll saw: ``done`` ends the wait, ``state`` is shown if the wait times out."""

    done: bool
    state: str
    value: Any = None


class WaitObserver(Protocol):
    """Told about every poll and the end of every wait (see :mod:`dr_infra.bdd.progress`)."""

    def poll(self, phase: str, probe: Probe, elapsed: float) -> None: ...

    def finish(self, phase: str, probe: Probe | None, elapsed: float, ok: bool) -> None: ...


_observer: WaitObserver | None = None


@contextmanager
def observing(observer: WaitObserver | None) -> Iterator[WaitObserver | None]:
    """Within the block, report progress of every wait to ``observer`` (``None``: silence); the observer before it
    is back when the block ends, so nothing outlives the scope that installed it (no test resets it by hand)."""
    global _observer
    previous, _observer = _observer, observer
    try:
        yield observer
    finally:
        _observer = previous


def report_progress(phase: str, state: str, elapsed: float, *, finished: bool = False) -> None:
    """Long work that is not a wait (seeding, a bulk change) reports through the same observer, so the
    terminal or CI log is never silent for long (see :class:`ProgressTicker`)."""
    observer = _observer
    if observer is None:
        return
    if finished:
        observer.finish(phase, Probe(True, state), elapsed, ok=True)
    else:
        observer.poll(phase, Probe(False, state), elapsed)


PROGRESS_EVERY_S = 10.0
"""Longest silence during seeding or a bulk change (CI systems kill jobs that print nothing for minutes)."""


class ProgressTicker:
    """Counts items done by several threads and reports at most every :data:`PROGRESS_EVERY_S` seconds."""

    def __init__(self, what: str, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.clock = what, total, clock
        self.started = self.last = clock()
        self.done = 0
        self.reported = False
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = self.clock()
            if now - self.last < PROGRESS_EVERY_S:
                return
            self.last, self.reported = now, True
            share = 100 * self.done / self.total if self.total else 100.0
            line = f"{self.what}: {self.done:,} of {self.total:,} items ({share:.0f} %)"
        report_progress(line, "in progress", now - self.started)

    def close(self) -> None:
        if self.reported:
            report_progress(f"{self.what}: {self.done:,} items", "done", self.clock() - self.started, finished=True)


#: Longest sleep between two words to the observer while a wait polls slowly (a plan's own runs are polled once a
#: minute): a long sleep is cut into slices this long and the observer is told, without a poll, after each one, so
#: its heartbeat (:data:`dr_infra.bdd.progress.HEARTBEAT_S`) never depends on the poll interval.
OBSERVER_SLICE_S = 5.0


@dataclass(frozen=True)
class WaitPolicy:
    """How long and how often to poll one phase."""

    phase: str
    timeout: float
    first_interval: float = 0.05
    max_interval: float = 2.0

    def run(
        self,
        probe: Callable[[], Probe],
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_poll: Callable[[Probe, float], None] | None = None,
    ) -> Probe:
        """Poll ``probe`` until done; raise :class:`WaitTimeout` naming this phase if it never is.

        The deadline is never crossed (tenacity's ``stop_before_delay`` semantics): a backoff sleep is cut short
        so the last poll starts at the deadline, and no sleep starts that would end after it; no poll starts after
        it. So a phase that finishes after the deadline is a timeout, never a late pass, and one that finishes
        just before it is seen (the Then steps judge the measured time, not the wait's).
        """
        started = clock()
        last: list[Probe] = [Probe(False, "not polled yet")]

        observer = _observer

        def poll() -> Probe:
            result = probe()
            last[0] = result
            if on_poll is not None:
                on_poll(result, clock() - started)
            if observer is not None:
                observer.poll(self.phase, result, clock() - started)
            return result

        def give_up(state: RetryCallState) -> Probe:
            if observer is not None:
                observer.finish(self.phase, last[0], clock() - started, ok=False)
            raise WaitTimeout(self.phase, last[0].state, clock() - started)

        def pause(seconds: float) -> None:
            """``sleep(seconds)``, in slices while someone listens: told the last state after each slice."""
            while observer is not None and seconds > OBSERVER_SLICE_S:
                sleep(OBSERVER_SLICE_S)
                seconds -= OBSERVER_SLICE_S
                observer.poll(self.phase, last[0], clock() - started)
            sleep(seconds)

        backoff = wait_exponential(multiplier=self.first_interval, max=self.max_interval)

        def wait(state: RetryCallState) -> float:
            return max(0.0, min(backoff(state), self.timeout - (clock() - started)))

        result: Probe = Retrying(
            retry=retry_if_result(lambda p: not p.done),
            stop=_stop_before(self.timeout, clock, started),
            wait=wait,
            sleep=pause,
            retry_error_callback=give_up,
            reraise=True,
        )(poll)
        if observer is not None:
            observer.finish(self.phase, result, clock() - started, ok=True)
        return result


def _stop_before(timeout: float, clock: Callable[[], float], started: float) -> Callable[[RetryCallState], bool]:
    """tenacity's ``stop_before_delay`` on an injectable clock: stop once the next sleep would cross the deadline
    (the sleeps are cut to the deadline, so this stops after the poll made at the deadline)."""

    def stop(state: RetryCallState) -> bool:
        elapsed = clock() - started
        return elapsed >= timeout or elapsed + state.upcoming_sleep > timeout + 1e-9

    return stop


def restore_job_probe(backup: BackupClient, job_id: str) -> Callable[[], Probe]:
    """Poll DescribeRestoreJob; FAILED/ABORTED raise :class:`RestoreFailed` at once."""

    def probe() -> Probe:
        job = backup.describe_restore_job(RestoreJobId=job_id)
        status = job.get("Status", "?")
        if status in {"FAILED", "ABORTED"}:
            raise RestoreFailed(
                f"restore job {job_id} ended {status}: {job.get('StatusMessage') or 'no status message'}"
            )
        percent = job.get("PercentDone")
        shown = f" {str(percent).rstrip('%')}%" if percent else ""
        return Probe(status == "COMPLETED", f"{status}{shown}", job)

    return probe


def backup_job_probe(backup: BackupClient, job_id: str) -> Callable[[], Probe]:
    """Poll DescribeBackupJob until COMPLETED."""

    def probe() -> Probe:
        job = backup.describe_backup_job(BackupJobId=job_id)
        state = job.get("State", "?")
        if state in {"FAILED", "ABORTED", "EXPIRED"}:
            raise RestoreFailed(f"backup job {job_id} ended {state}: {job.get('StatusMessage') or ''}".strip())
        return Probe(state == "COMPLETED", state, job)

    return probe


def table_active_probe(dynamodb: DynamoDBClient, table: str) -> Callable[[], Probe]:
    """Poll DescribeTable until ACTIVE (a missing table is a state, not an error)."""

    def probe() -> Probe:
        try:
            description = dynamodb.describe_table(TableName=table)["Table"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return Probe(False, f"table {table} does not exist yet")
            raise
        status = description.get("TableStatus", "?")
        return Probe(status == "ACTIVE", status, description)

    return probe
