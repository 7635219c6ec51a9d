"""Progress of long waits: a live line on a terminal (rich), one plain line per phase change in CI.

Real restores take 20 minutes or more; a silent terminal for that long looks like a hang. On a TTY the
current phase, the time spent in it and the job's PercentDone are shown live with rich; where output is a
log (CI, a pipe), one line is printed each time the phase or its state changes, never a line per poll.
Output goes to the real stderr, past pytest's capture, because the person waiting is not pytest.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import IO, Any

from dr_infra.drill import waits

MODES = ("auto", "live", "plain", "off")


class PlainProgress:
    """One line when a phase starts and one when it ends: readable in a CI log, never a line per poll."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._last: str | None = None
        self._lock = threading.Lock()

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        with self._lock:
            if phase == self._last:
                return
            self._last = phase
            self.stream.write(f"\n[drdrill] waiting: {phase} (now {probe.state})\n")
            self.stream.flush()

    def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None:
        with self._lock:
            self._last = None
            word = "done" if ok else "gave up"
            state = f": {probe.state}" if probe is not None else ""
            self.stream.write(f"[drdrill] {phase} {word} after {elapsed:.1f} s{state}\n")
            self.stream.flush()


class LiveProgress:
    """A rich progress line, redrawn on each poll (no refresh thread: pytest's capture stays untouched)."""

    def __init__(self, stream: IO[str]) -> None:
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

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        percent = _percent(probe)
        with self._lock:
            if self._phase != phase:
                if self._task is None:
                    self.progress.start()
                else:
                    self.progress.remove_task(self._task)
                self._task = self.progress.add_task(phase, total=100 if percent is not None else None, state="")
                self._phase = phase
            self.progress.update(self._task, state=probe.state, completed=percent or 0)
            self.progress.refresh()

    def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None:
        with self._lock:
            if self._task is not None:
                self.progress.stop()
                self.progress.remove_task(self._task)
                self._task = None
                self._phase = None
            mark = "[green]done[/green]" if ok else "[red]gave up[/red]"
            self.progress.console.print(f"{phase} {mark} after {elapsed:.1f} s")


def _percent(probe: waits.Probe) -> float | None:
    """PercentDone of a job description (AWS gives it as a string such as "37.50%")."""
    value = probe.value.get("PercentDone") if isinstance(probe.value, dict) else None
    try:
        return float(str(value).rstrip("%")) if value is not None else None
    except ValueError:
        return None


def choose(mode: str, stream: IO[str] | None = None) -> PlainProgress | LiveProgress | AutoProgress | None:
    """The observer for ``mode``; ``auto`` is live on a terminal and plain in CI or a pipe."""
    if mode not in MODES:
        raise ValueError(f"unknown progress mode {mode!r}: use one of {', '.join(MODES)}")
    out = stream or sys.__stderr__ or sys.stderr
    if mode == "off":
        return None
    if mode == "auto":
        return AutoProgress(out)
    return LiveProgress(out) if mode == "live" else PlainProgress(out)


class AutoProgress:
    """Decides live or plain at the first wait, when the stream's terminal-ness is known for sure."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._chosen: PlainProgress | LiveProgress | None = None

    def _pick(self) -> PlainProgress | LiveProgress:
        if self._chosen is None:
            live = self.stream.isatty() and not os.environ.get("CI")
            self._chosen = LiveProgress(self.stream) if live else PlainProgress(self.stream)
        return self._chosen

    def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None:
        self._pick().poll(phase, probe, elapsed)

    def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None:
        self._pick().finish(phase, probe, elapsed, ok)


def install(mode: str, stream: IO[str] | None = None) -> None:
    """Make every :class:`~dr_infra.drill.waits.WaitPolicy` report to the chosen observer."""
    waits.set_observer(choose(mode, stream))
