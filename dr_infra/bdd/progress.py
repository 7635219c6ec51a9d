"""Progress of long waits: a live line on a terminal (rich), plain lines in CI, each naming its scenario.

Real restores take 20 minutes or more; a silent terminal for that long looks like a hang, and CI systems kill jobs
that print nothing for a while. Every line names the scenario (and the xdist worker under ``-n``), the time since
the scenario started and, once the harmful change is made, the time left against its RTO. Where output is a log
(CI, a pipe) a line is printed once a phase has waited :data:`QUIET_S` seconds and when it ends, plus a heartbeat
every :data:`HEARTBEAT_S` seconds while it waits, late by at most :data:`~dr_infra.drill.waits.OBSERVER_SLICE_S`
however rarely the wait polls (a plan's own runs are polled once a minute): never 30 s without a line. A shorter wait
prints nothing (the scenario's own line says how it ended).
Output goes to the real stderr, past pytest's capture, because the person waiting is not pytest.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import pytest

from dr_infra.drill import waits
from dr_infra.report.fmt import fmt_seconds

MODES = ("auto", "live", "plain", "off")
#: A waiting scenario prints a line at least this often (CI systems kill jobs silent for minutes).
HEARTBEAT_S = 20.0
#: A wait shorter than this prints nothing (a plain log): only waits a person notices get lines.
QUIET_S = 2.0


@dataclass
class Scene:
    """The scenario whose waits are being reported: its name, worker, start and how to find its drill."""

    name: str
    worker: str | None
    started: float
    drill: Callable[[], Any]

    def label(self, now: float) -> str:
        """``gw0 | A deleted item is restored | 12.3 s in, RTO left 17.7 s``."""
        parts = [self.worker] if self.worker else []
        parts.append(self.name)
        timing = f"{fmt_seconds(now - self.started)} in"
        drill = self.drill()
        incident = getattr(drill, "incident", None)
        change_at = getattr(incident, "change_at", None)
        target = getattr(drill, "rto_target", None)
        if isinstance(change_at, datetime) and isinstance(target, int | float):
            since = (datetime.now(UTC) - change_at.astimezone(UTC)).total_seconds()
            left = target - since
            timing += f", RTO left {fmt_seconds(left)}" if left >= 0 else f", RTO exceeded by {fmt_seconds(-left)}"
        parts.append(timing)
        return " | ".join(parts)


#: The running scenario's label for a progress line, ``""`` outside a scenario (:meth:`ScenarioTracker.label`).
Label = Callable[[], str]


def no_label() -> str:
    """No scenario to name (library use, a test of the lines themselves)."""
    return ""


def _live_drill() -> Any:
    """The drill of the running scenario: the newest live one of this process (one scenario runs at a time per
    process; pytest-bdd requests the ``drill`` fixture from the steps, so it is not in the item's funcargs)."""
    from dr_infra.bdd.session import current

    session = current()
    live = list(session.live) if session is not None else []
    return live[-1] if live else None


class ScenarioTracker:
    """A pytest plugin object: knows which scenario is running, for the progress lines' :meth:`label` (the plugin
    registers it and hands its ``label`` to :func:`installed`)."""

    def __init__(self) -> None:
        self.scene: Scene | None = None

    def label(self) -> str:
        """The running scenario's label, or ``""`` outside a scenario."""
        scene = self.scene
        return scene.label(time.monotonic()) if scene is not None else ""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        from dr_infra.bdd.collect import template_of

        template = template_of(item)
        if template is None:
            return
        self.scene = Scene(
            name=template.name,
            worker=os.environ.get("PYTEST_XDIST_WORKER"),
            started=time.monotonic(),
            drill=_live_drill,
        )

    def pytest_runtest_logfinish(self) -> None:
        self.scene = None


def _with_scene(label: str, text: str) -> str:
    return f"[drdrill] {label} | {text}" if label else f"[drdrill] {text}"


class PlainProgress:
    """A line when a phase starts waiting, a heartbeat while it waits, a line when it ends; never one per poll."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic, label: Label = no_label) -> None:
        self.stream = stream
        self.clock = clock
        self.label = label
        self._phase: str | None = None
        self._announced = False
        self._last_line = 0.0
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        self.stream.write(_with_scene(self.label(), text) + "\n")
        self.stream.flush()
        self._last_line = self.clock()

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        with self._lock:
            if phase != self._phase:
                self._phase, self._announced = phase, False
            if probe.done:
                return
            if not self._announced:
                if elapsed >= QUIET_S:
                    self._announced = True
                    self._write(f"waiting: {phase} (now {probe.state}, {fmt_seconds(elapsed)} so far)")
            elif self.clock() - self._last_line >= HEARTBEAT_S:
                self._write(f"still waiting: {phase} (now {probe.state}) after {fmt_seconds(elapsed)}")

    def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None:
        with self._lock:
            announced = self._phase == phase and self._announced
            self._phase, self._announced = None, False
            if ok and not announced:
                return  # a short wait: nothing was said about it, nothing to close
            word = "done" if ok else "gave up"
            state = f": {probe.state}" if probe is not None else ""
            self._write(f"{phase} {word} after {fmt_seconds(elapsed)}{state}")


class LiveProgress:
    """A rich progress line, redrawn on each poll (no refresh thread: pytest's capture stays untouched)."""

    def __init__(self, stream: IO[str], label: Label = no_label) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=Console(file=stream, force_terminal=True),
            auto_refresh=False,
            transient=True,
        )
        self._task: Any = None
        self._phase: str | None = None
        self._lock = threading.Lock()
        self.label = label

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        percent = _percent(probe)
        with self._lock:
            if probe.done and self._phase != phase:
                return
            if self._phase != phase:
                if self._task is None:
                    self.progress.start()
                else:
                    self.progress.remove_task(self._task)
                self._task = self.progress.add_task(phase, total=100 if percent is not None else None, state="")
                self._phase = phase
            label = self.label()
            self.progress.update(
                self._task,
                description=f"{label} | {phase}" if label else phase,
                state=probe.state,
                completed=percent or 0,
            )
            self.progress.refresh()

    def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None:
        with self._lock:
            waited = self._phase == phase
            if self._task is not None:
                self.progress.stop()
                self.progress.remove_task(self._task)
                self._task = None
                self._phase = None
            if ok and not waited:
                return
            mark = "[green]done[/green]" if ok else "[red]gave up[/red]"
            label = self.label()
            where = f"{label} | " if label else ""
            self.progress.console.print(f"{where}{phase} {mark} after {fmt_seconds(elapsed)}", markup=True)


def _percent(probe: waits.Probe) -> float | None:
    """PercentDone of a job description (AWS gives it as a string such as "37.50%")."""
    value = probe.value.get("PercentDone") if isinstance(probe.value, dict) else None
    try:
        return float(str(value).rstrip("%")) if value is not None else None
    except ValueError:
        return None


def choose(
    mode: str, stream: IO[str] | None = None, label: Label = no_label
) -> PlainProgress | LiveProgress | AutoProgress | None:
    """The observer for ``mode``, its lines naming the scenario ``label`` gives; ``auto`` is live on a terminal
    and plain in CI or a pipe."""
    if mode not in MODES:
        raise ValueError(f"unknown progress mode {mode!r}: use one of {', '.join(MODES)}")
    out = stream or sys.__stderr__ or sys.stderr
    if mode == "off":
        return None
    if mode == "auto":
        return AutoProgress(out, label)
    return LiveProgress(out, label) if mode == "live" else PlainProgress(out, label=label)


class AutoProgress:
    """Decides live or plain at the first wait, when the stream's terminal-ness is known for sure.

    Under xdist (``-n``) it is always plain: several workers redrawing one terminal line would garble it.
    """

    def __init__(self, stream: IO[str], label: Label = no_label) -> None:
        self.stream = stream
        self.label = label
        self._chosen: PlainProgress | LiveProgress | None = None

    def _pick(self) -> PlainProgress | LiveProgress:
        if self._chosen is None:
            live = self.stream.isatty() and not os.environ.get("CI") and not os.environ.get("PYTEST_XDIST_WORKER")
            self._chosen = (
                LiveProgress(self.stream, self.label) if live else PlainProgress(self.stream, label=self.label)
            )
        return self._chosen

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        self._pick().poll(phase, probe, elapsed)

    def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None:
        self._pick().finish(phase, probe, elapsed, ok)


def stack_wait(phase: str, state: str, elapsed: float, finished: bool) -> None:
    """A stack-layer wait (a mapping starting, a restored table settling before DeleteTable) as a progress phase."""
    waits.report_progress(phase, state, elapsed, finished=finished)


@contextmanager
def installed(mode: str, stream: IO[str] | None = None, label: Label = no_label) -> Iterator[waits.WaitObserver | None]:
    """Within the block, make every :class:`~dr_infra.drill.waits.WaitPolicy`, and the stack layer's own waits (a
    mapping starting, teardown's DeleteTable waiting for a restored table to settle), report to the chosen observer;
    what reported before is back when the block ends (the plugin holds it from configure to unconfigure)."""
    from dr_infra.stack import wait_report

    observer = choose(mode, stream, label)
    with waits.observing(observer), wait_report.reporting(stack_wait if observer is not None else None):
        yield observer
