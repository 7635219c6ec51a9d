"""One pytest session's shared drill state: target, policy, journal, live drills (``DrillSession``)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dr_infra.bdd import xdist as parallel
from dr_infra.bdd.definitions import run_definition
from dr_infra.drill.policy import Policy, load_policy
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.report.files import check_report_dir
from dr_infra.report.journal import Journal
from dr_infra.stack import safety
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.names import new_run_id
from dr_infra.targets import TARGET_NAMES, Target, make_target
from dr_infra.targets.aws import ALLOW_ENV, parse_allow_list
from dr_infra.targets.timing import Timing
from dr_infra.targets.timing import parse as parse_timing

EMBEDDED_ENDPOINT_ENV = "DRDRILL_EMBEDDED_ENDPOINT"
"""Attach the embedded target to a server that is already running (``drdrill serve``'s endpoint, e.g. one a stack
was deployed to with the aws CLI, to drill that deployed stack) instead of starting one."""

SESSION_KEY = pytest.StashKey["DrillSession"]()


class UncapturedStderr(io.TextIOBase):
    """stderr past pytest's capture, the way pytest's live logging writes (capture suspended per write)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _suspended(self) -> contextlib.AbstractContextManager[None]:
        capman = self.config.pluginmanager.getplugin("capturemanager")
        return capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext()

    def write(self, text: str) -> int:
        with self._suspended():
            sys.stderr.write(text)
            sys.stderr.flush()
        return len(text)

    def isatty(self) -> bool:
        with self._suspended():
            return sys.stderr.isatty()


@dataclass
class DrillSession:
    """Everything one pytest session shares between drills."""

    config: pytest.Config
    run_id: str
    target_name: str
    policy: Policy
    allowed_accounts: frozenset[str]
    region: str | None
    journal: Journal
    timing: Timing = field(default_factory=Timing)
    target: Target | None = None
    live: list[Drill] = field(default_factory=list)
    stacks: int = 0
    interrupted: bool = False
    stop: safety.StopGuard = field(default_factory=lambda: safety.StopGuard(None))
    definition: StackDefinition | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def halt_canaries(self) -> None:
        """The stop alarm fired: every running scenario's background writers stop writing at once."""
        for drill in list(self.live):
            for worker in list(drill.background):
                halt = getattr(worker, "halt", None)
                if halt is not None:
                    with contextlib.suppress(Exception):
                        halt()

    def next_stack(self) -> int:
        with self._lock:
            self.stacks += 1
            return parallel.stack_number(self.config, self.stacks)

    def start_target(self) -> Target:
        with self._lock:
            if self.target is None:
                shared = (
                    parallel.worker_endpoint(self.config) or os.environ.get(EMBEDDED_ENDPOINT_ENV) or None
                    if self.target_name == "embedded"
                    else None
                )
                target = make_target(
                    self.target_name, self.region, self.allowed_accounts, self.timing.as_tuple(), shared
                )
                target.start()
                self.target = target
                self.journal.target = target.describe()
            return self.target

    def report_dir(self) -> Path:
        option = self.config.getoption("--dr-report-dir")
        return Path(option) if option else Path("reports") / self.run_id


def build_session(config: pytest.Config) -> DrillSession:
    target_name = str(config.getoption("--dr-target"))
    if target_name not in TARGET_NAMES:
        raise ConfigError(
            f"unknown target {target_name!r}: use one of {', '.join(TARGET_NAMES)} (--dr-target / DRDRILL_TARGET)"
        )
    timing = parse_timing(
        config.getoption("--dr-embedded-profile"), config.getoption("--dr-embedded-scale"), target_name
    )
    policy_target = "aws" if timing.scaled else target_name  # aws-scaled rehearses the AWS policy by default
    policy = load_policy(config.getoption("--dr-policy"), policy_target)
    report_dir = config.getoption("--dr-report-dir")
    if report_dir and not config.option.collectonly:
        check_report_dir(Path(report_dir))  # before any AWS call: a drill must never end unable to report
    allowed = parse_allow_list(config.getoption("--dr-allow-account") or os.environ.get(ALLOW_ENV))
    # xdist workers run under the controller's run id (dr_infra.bdd.xdist)
    run_id = config.getoption("--dr-run-id") or parallel.worker_run_id(config) or new_run_id()
    journal = Journal(run_id=run_id, policy=policy.to_dict())
    record_provenance(journal, config, policy_target)
    ds = DrillSession(config, run_id, target_name, policy, allowed, config.getoption("--dr-region"), journal, timing)
    alarm = config.getoption("--dr-stop-alarm")
    ds.stop = safety.StopGuard(str(alarm) if alarm else None)
    ds.definition = run_definition(config.getoption("--dr-stack"), config.getoption("--dr-stack-from"))
    ds.stop.on_stop(ds.halt_canaries)
    return ds


def record_provenance(journal: Journal, config: pytest.Config, target_name: str) -> None:
    """The command line, the features' git commit, the CI run, and the policy file's path and SHA-256."""
    from dr_infra.bdd import provenance
    from dr_infra.drill.policy import default_policy_path

    journal.argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
    journal.provenance = provenance.collect(list(config.args), os.environ)
    option = config.getoption("--dr-policy")
    policy_file = Path(option) if option else default_policy_path(target_name)
    journal.policy["path"] = provenance.relative(policy_file)
    journal.policy["sha256"] = provenance.file_sha256(policy_file)


def drill_session(config: pytest.Config) -> DrillSession:
    return config.stash[SESSION_KEY]


_current: DrillSession | None = None
"""The running session's drill state, for the few hooks pytest calls without a config
(pytest_collectreport, pytest_keyboard_interrupt, pytest_runtest_logreport) and for the progress lines.
One pytest session per process; only :func:`running` sets it."""


@contextlib.contextmanager
def running(session: DrillSession) -> Iterator[DrillSession]:
    """Within the block, ``session`` is the process's running session (the plugin: pytest_sessionstart to
    pytest_unconfigure); the one before it (``None`` outside a run) is back when it ends, so a finished run's
    session never answers for a later one in the same process."""
    global _current
    previous, _current = _current, session
    try:
        yield session
    finally:
        _current = previous


def current() -> DrillSession | None:
    """The process's running session, or ``None`` outside a drdrill pytest session."""
    return _current
