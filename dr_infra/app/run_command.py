"""``drdrill run``: the scenarios under pytest with drdrill's plugin, then the exit code from the journal.

Exit codes (a public contract): 0 every guarantee met, 1 a guarantee violated (or nothing measured),
2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from dr_infra.app.run_schedule import longest_first_plugin
from dr_infra.app.run_workers import WorkerChoice, choose_workers
from dr_infra.app.shipped import shipped_features
from dr_infra.app.streams import HeldStdout as _HeldStdout
from dr_infra.app.streams import PytestErrorFilter as _PytestErrorFilter
from dr_infra.bdd.forked_workers import ForkedWorkers
from dr_infra.bdd.options import pytest_args
from dr_infra.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_VIOLATED, DrDrillError


def _check_paths(args: argparse.Namespace) -> None:
    for path in args.paths or []:
        if not Path(path).exists():
            raise DrDrillError(f"no such feature file or folder: {path}")


def _pytest_args(args: argparse.Namespace) -> list[str]:
    paths = args.paths or [str(shipped_features())]  # each one exists: run() checked them first (_check_paths)
    argv = [
        *paths,
        "-p",
        "no:cacheprovider",
        # plugins a drill never needs that cost seconds at the session's end: hypothesis (when installed)
        # imports itself for its terminal summary, and the unraisable-exception check runs a full garbage
        # collection over the embedded target's heap
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:unraisableexception",
        # the plan's estimate (-n's default, --max-duration) parsed the features with pytest-bdd before pytest
        # started, so pytest cannot rewrite pytest-bdd's asserts: nothing a drill relies on (steps assert plainly)
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "-o",
        "python_files=",
        "--rootdir",
        str(Path.cwd()),
    ]
    argv += pytest_args(args)  # every drill option, from the table the plugin's options come from
    argv.append(f"--dr-progress={'off' if args.quiet else 'auto'}")
    if getattr(args, "verbose", False):
        argv += ["-v", "--tb=short"]  # pytest's own lines and tracebacks, for debugging drdrill or a step
    else:
        argv += ["-q", "--tb=no", "-rN", "--no-header"]  # drdrill's scenario lines say it (dr_infra.app.terminal)
    return argv


class _Collector:
    """Captures the drill session at the end of the pytest run, to compute the exit code from the journal;
    releases the held stdout when the first scenario starts."""

    def __init__(self, stdout: _HeldStdout | None = None) -> None:
        self.session: object | None = None
        self.stdout = stdout

    @pytest.hookimpl(tryfirst=True)  # before xdist's own sessionstart brings its workers up and says so
    def pytest_sessionstart(self, session: Any) -> None:
        """(Not pytest_configure: pytest's terminal reporter may not be registered yet when this plugin's runs.)"""
        if not session.config.getoption("verbose") > 0:
            from dr_infra.bdd.bdd_internals import silence_keyboard_interrupt_banner, silence_xdist_status

            silence_keyboard_interrupt_banner(session.config)  # drdrill's own line says it (_say_interrupted)
            silence_xdist_status(session.config)  # drdrill's own line says how many drills run at once

    def pytest_runtest_logstart(self) -> None:
        if self.stdout is not None:
            self.stdout.release()

    def pytest_sessionfinish(self, session: object) -> None:
        from dr_infra.bdd.session import SESSION_KEY

        config = session.config  # type: ignore[attr-defined]
        self.session = config.stash.get(SESSION_KEY, None)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def write_step_summary(data: dict[str, object], report_dir: str | None) -> None:
    """Append the compact summary to ``$GITHUB_STEP_SUMMARY`` when GitHub Actions sets it (a job's summary page,
    https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from dr_infra.report.markdown import render_summary

    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(render_summary(data, report_dir) + "\n")
    except OSError as exc:
        print(f"drdrill: cannot write the step summary to {target}: {exc.strerror or exc}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from dr_infra.bdd.bdd_version import check_version  # an unsupported pytest-bdd is one line, before anything

    check_version()
    from dr_infra.app.terminal import NoProgressLetters, RunTerminal

    _check_paths(args)
    choice = _check_before_start(args)
    argv = _pytest_args(args)
    if choice.chosen and choice.workers is not None and not args.quiet:
        print(f"drdrill: {choice.reason}", flush=True)
    stdout = _HeldStdout(sys.stdout)
    collector = _Collector(stdout)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    stderr = _PytestErrorFilter(sys.stderr)
    code: int | pytest.ExitCode = pytest.ExitCode.INTERNAL_ERROR
    forked = _forked_workers(args)  # the workers' fork server imports while pytest starts here
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            terminal = NoProgressLetters() if args.quiet else RunTerminal(sys.stdout)
            plugins: list[object] = [collector, terminal]
            schedule = longest_first_plugin(args, Path.cwd())  # -n N: the longest drills first (run_schedule)
            if schedule is not None:
                plugins.append(schedule)
            if forked is not None:
                plugins.append(forked)
            code = pytest.main(argv, plugins=plugins)
    finally:
        if forked is not None:
            forked.close()  # also when pytest never got to its unconfigure
        signal.signal(signal.SIGTERM, previous)
        if code == pytest.ExitCode.USAGE_ERROR or _usage_errors(collector.session):
            stdout.discard()  # before any scenario ran: drdrill's one line says it all
        stdout.release()
    ds = collector.session
    early = _exit_before_verdict(code, ds, stderr)
    if early is not None:
        return early
    return _finish(args, ds)


def _forked_workers(args: argparse.Namespace) -> ForkedWorkers | None:
    """With workers (``-n N``), their fork server (:mod:`dr_infra.bdd.forked_workers`); ``DRDRILL_FORK_WORKERS=0``
    starts each as a plain new interpreter, as pytest-xdist does by itself."""
    if not getattr(args, "workers", None) or os.environ.get("DRDRILL_FORK_WORKERS", "1") == "0":
        return None
    return ForkedWorkers.spawn()


def _check_before_start(args: argparse.Namespace) -> WorkerChoice:
    """Refuse in one line, before any target starts: a malformed policy, an unknown embedded profile or a bad
    scale, a run whose estimate exceeds --max-duration. Sets the run's ``-n`` (``args.workers``) and says why."""
    from dr_infra.app.plan import check_max_duration, run_timing
    from dr_infra.drill.policy import load_policy

    load_policy(args.policy)  # a malformed policy is one line before anything starts
    run_timing(args)  # an unknown profile or a bad scale is one line before anything starts (as drdrill plan's)
    choice = choose_workers(args)
    args.workers = choice.workers
    check_max_duration(args)  # the plan's estimate against --max-duration, before any target starts
    return choice


def _exit_before_verdict(code: int, ds: Any, stderr: _PytestErrorFilter) -> int | None:
    """The exit code of a run that reached no verdict (interrupted, usage errors, nothing ran); None otherwise."""
    journal = getattr(ds, "journal", None)
    if code == pytest.ExitCode.INTERRUPTED and journal is not None and journal.status == "interrupted":
        _say_interrupted(ds)
        return EXIT_INTERRUPTED
    if journal is not None and journal.usage_errors:
        for line in journal.usage_errors[:10]:
            print(f"drdrill: {line}", file=sys.stderr)
        return EXIT_USAGE
    for line in stderr.usage_errors[:10]:
        print(f"drdrill: {line}", file=sys.stderr)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        return EXIT_USAGE  # an interrupted run whose journal says so returned above
    if journal is None or journal.status == "running":
        print("drdrill: no scenario ran: check the paths and the -k/--tags filters", file=sys.stderr)
        return EXIT_USAGE
    return None


def _finish(args: argparse.Namespace, ds: Any) -> int:
    """A run with a verdict: the summary, the step summary, the Cucumber annotations; the verdict's exit code."""
    from dr_infra.app.terminal import print_summary

    journal = ds.journal
    out = ds.config.stash.get(_report_key(), None)
    data = journal.to_dict()
    if not args.quiet:
        print_summary(data, str(out) if out is not None else None)
    write_step_summary(data, str(out) if out is not None else None)
    cucumber = Path(args.cucumberjson) if getattr(args, "cucumberjson", None) else None
    if cucumber is not None and cucumber.is_file():
        from dr_infra.report.cucumber import annotate

        annotate(cucumber, data)
    if out is not None:
        print(f"drdrill: report written to {out}/ (verdict: {journal.status})")
    return {"met": EXIT_OK, "interrupted": EXIT_INTERRUPTED}.get(journal.status, EXIT_VIOLATED)


def _say_interrupted(ds: object | None) -> None:
    """After Ctrl-C: what happened to the stack and where the report is."""
    out = ds.config.stash.get(_report_key(), None) if ds is not None else None  # type: ignore[attr-defined]
    journal = getattr(ds, "journal", None)
    leaks = list(getattr(journal, "leaks", None) or [])
    stack = "teardown abandoned, resources left (see above)" if leaks else "every stack torn down"
    where = f"; report written to {out}/" if out is not None else "; no report written"
    print(f"drdrill: interrupted: {stack}{where}", file=sys.stderr)


def _usage_errors(ds: object | None) -> list[str]:
    return list(getattr(getattr(ds, "journal", None), "usage_errors", None) or [])


def _report_key() -> object:
    from dr_infra.bdd.report_output import REPORT_DIR_KEY

    return REPORT_DIR_KEY
