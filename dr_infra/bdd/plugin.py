"""drdrill's pytest plugin (registered through the ``pytest11`` entry point).

Options (each with an environment variable): ``--dr-target`` (DRDRILL_TARGET: embedded | localstack | aws,
default embedded), ``--dr-report-dir`` (DRDRILL_REPORT_DIR, default ``reports/<run-id>``), ``--dr-policy``
(DRDRILL_POLICY), ``--dr-allow-account`` (DRDRILL_ALLOWED_ACCOUNTS), ``--dr-region`` (DRDRILL_REGION),
``--dr-redact`` (DRDRILL_REDACT=1), ``--dr-run-id`` (DRDRILL_RUN_ID), ``--dr-stack`` (DRDRILL_STACK: the stack
definition every "a DR-protected table" step creates), ``--dr-embedded-profile`` / ``--dr-embedded-scale``
(DRDRILL_EMBEDDED_PROFILE / DRDRILL_EMBEDDED_SCALE, :mod:`dr_infra.targets.timing`).

The plugin is inert in a pytest session that runs no drill: the target starts on first use, and a journal
and report are written only when at least one scenario ran. It collects ``.feature`` files, registers the
step vocabulary (``steps.*``), keeps one journal per run, and tears every drill down, also when a scenario
fails midway or the run is interrupted.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import pytest

from dr_infra import interrupts
from dr_infra.bdd import needs
from dr_infra.bdd import xdist as parallel
from dr_infra.bdd.collect import FeatureFile, template_of, unknown_steps
from dr_infra.bdd.definitions import check_referenced, run_definition
from dr_infra.drill.policy import Policy, load_policy
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError, DrDrillError
from dr_infra.report.files import check_report_dir
from dr_infra.report.journal import Journal, ScenarioRecord, StepRecord, iso, utcnow
from dr_infra.report.verdict import unexpected_violations
from dr_infra.stack import safety
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.names import new_run_id
from dr_infra.targets import TARGET_NAMES, Target, make_target
from dr_infra.targets.aws import ALLOW_ENV, parse_allow_list
from dr_infra.targets.timing import Timing
from dr_infra.targets.timing import parse as parse_timing

pytest_plugins = ["steps.posture", "steps.given", "steps.when", "steps.then", "steps.then_chaos"]

RECORD_KEY = pytest.StashKey[ScenarioRecord]()
SESSION_KEY = pytest.StashKey["DrillSession"]()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drdrill", "drdrill: DynamoDB disaster-recovery drills")
    group.addoption(
        "--dr-target",
        default=os.environ.get("DRDRILL_TARGET", "embedded"),
        help=f"where drills run: {', '.join(TARGET_NAMES)} (env DRDRILL_TARGET; default embedded)",
    )
    group.addoption(
        "--dr-report-dir",
        default=os.environ.get("DRDRILL_REPORT_DIR"),
        help="folder for the journal and report (env DRDRILL_REPORT_DIR; default reports/<run-id>)",
    )
    group.addoption(
        "--dr-policy", default=os.environ.get("DRDRILL_POLICY"), help="DR policy TOML file (env DRDRILL_POLICY)"
    )
    group.addoption(
        "--dr-allow-account",
        action="append",
        default=None,
        help=f"AWS account id the aws target may use; repeatable (env {ALLOW_ENV}, comma-separated)",
    )
    group.addoption("--dr-region", default=os.environ.get("DRDRILL_REGION"), help="AWS region (env DRDRILL_REGION)")
    group.addoption(
        "--dr-redact",
        action="store_true",
        default=_env_flag("DRDRILL_REDACT"),
        help="mask account ids and ARNs in every report file (env DRDRILL_REDACT=1)",
    )
    group.addoption(
        "--dr-stack",
        default=os.environ.get("DRDRILL_STACK") or None,
        help="stack definition TOML: what every 'a DR-protected table' step creates (env DRDRILL_STACK)",
    )
    group.addoption("--dr-run-id", default=os.environ.get("DRDRILL_RUN_ID"), help="reuse a run id (xdist workers)")
    group.addoption(
        "--dr-progress",
        default=os.environ.get("DRDRILL_PROGRESS", "off"),
        choices=("auto", "live", "plain", "off"),
        help="show long waits: live on a terminal, plain lines in CI (env DRDRILL_PROGRESS; drdrill run: auto)",
    )
    group.addoption(
        "--dr-history-dir", default=os.environ.get("DRDRILL_HISTORY_DIR"), help="earlier journals for trends"
    )
    group.addoption(
        "--dr-stop-alarm",
        default=os.environ.get(safety.STOP_ALARM_ENV) or None,
        help="CloudWatch alarm: once seen in ALARM, the run stops (no further step, canaries halt) "
        "(env DRDRILL_STOP_ALARM)",
    )
    group.addoption(
        "--dr-embedded-profile",
        default=os.environ.get("DRDRILL_EMBEDDED_PROFILE") or None,
        help="embedded target timing: instant (default) or aws-scaled, AWS's latencies times --dr-embedded-scale "
        "(env DRDRILL_EMBEDDED_PROFILE)",
    )
    group.addoption(
        "--dr-embedded-scale",
        default=os.environ.get("DRDRILL_EMBEDDED_SCALE") or None,
        help="aws-scaled: wall seconds per AWS second, 0.001-1 (default 0.01; env DRDRILL_EMBEDDED_SCALE)",
    )
    group.addoption(
        "--dr-share-target",
        default=os.environ.get("DRDRILL_SHARE_TARGET", "auto"),
        choices=("auto", "always", "never"),
        help="embedded with -n: workers share one server (auto: when there are more workers than cores) "
        "(env DRDRILL_SHARE_TARGET)",
    )
    group.addoption(
        "--dr-max-cost",
        default=os.environ.get(safety.MAX_COST_ENV) or None,
        help="refuse an aws run whose estimated cost exceeds this many USD (env DRDRILL_MAX_COST)",
    )


class _UncapturedStderr(io.TextIOBase):
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
                shared = parallel.worker_endpoint(self.config) if self.target_name == "embedded" else None
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


def _build_session(config: pytest.Config) -> DrillSession:
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
    _record_provenance(journal, config, policy_target)
    ds = DrillSession(config, run_id, target_name, policy, allowed, config.getoption("--dr-region"), journal, timing)
    alarm = config.getoption("--dr-stop-alarm")
    ds.stop = safety.StopGuard(str(alarm) if alarm else None)
    ds.definition = run_definition(config.getoption("--dr-stack"))
    ds.stop.on_stop(ds.halt_canaries)
    return ds


def _record_provenance(journal: Journal, config: pytest.Config, target_name: str) -> None:
    """The command line, the features' git commit, the CI run, and the policy file's path and SHA-256."""
    from dr_infra.bdd import provenance
    from dr_infra.drill.policy import default_policy_path

    journal.argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
    journal.provenance = provenance.collect(list(config.args), os.environ)
    option = config.getoption("--dr-policy")
    policy_file = Path(option) if option else default_policy_path(target_name)
    journal.policy["path"] = provenance.relative(policy_file)
    journal.policy["sha256"] = provenance.file_sha256(policy_file)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drdrill: a DR drill scenario")
    from dr_infra.bdd import progress

    progress.install(str(config.getoption("--dr-progress")), cast("IO[str]", _UncapturedStderr(config)))
    config.pluginmanager.register(progress.ScenarioTracker(), "drdrill-progress")  # lines name their scenario
    try:
        config.stash[SESSION_KEY] = _build_session(config)
    except DrDrillError as exc:
        raise pytest.UsageError(str(exc)) from None


def drill_session(config: pytest.Config) -> DrillSession:
    return config.stash[SESSION_KEY]


# -- collection ------------------------------------------------------------------------------------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".feature":
        return FeatureFile.from_parent(parent, path=file_path)
    return None


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # Not keyed on report.nodeid: a feature file outside the rootdir is collected with an empty node id.
    if report.failed:
        excinfo = getattr(report, "longrepr", None)
        text = str(excinfo)
        for line in text.splitlines():
            if "FeatureUsageError:" in line:
                message = line.split("FeatureUsageError:", 1)[1].strip()
                session = _current_session
                if session is not None and message not in session.journal.usage_errors:
                    session.journal.usage_errors.append(message)
                report.longrepr = message
                break


_current_session: DrillSession | None = None
"""The running session's drill state, for the few hooks pytest calls without a config
(pytest_collectreport, pytest_keyboard_interrupt, pytest_runtest_logreport). One pytest session per process."""


def pytest_sessionstart(session: pytest.Session) -> None:
    global _current_session
    _current_session = drill_session(session.config)
    interrupts.GUARD.reset()
    if _controls_workers(session.config):
        # -n N: this process only waits for its workers; Ctrl-C goes on to them, each stops in order and ships
        # its interrupted drills, and the merged report is written once they are all done
        pids = session.config.stash.setdefault(_WORKER_PIDS, [])
        interrupts.GUARD.on_first = lambda: _interrupt_workers(session.config, pids)
    interrupts.GUARD.install()  # Ctrl-C: an orderly stop that a burst of presses cannot cut short


def _controls_workers(config: pytest.Config) -> bool:
    return not parallel.is_worker(config) and bool(getattr(config.option, "numprocesses", None))


def _interrupt_workers(config: pytest.Config, pids: list[int]) -> None:
    drill_session(config).interrupted = True
    parallel.forward_interrupt(pids)


def pytest_unconfigure(config: pytest.Config) -> None:
    interrupts.GUARD.uninstall()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fail fast on step texts nothing implements, before any stack is created."""
    problems = unknown_steps(session, items) or check_referenced(items)
    if problems:
        ds = drill_session(config)
        ds.journal.usage_errors.extend(problems)
        if parallel.is_worker(config):  # run nothing; the errors reach the controller in workeroutput
            items.clear()
            return
        raise pytest.UsageError("\n".join(problems))
    ds = drill_session(config)
    scenarios = [item for item in items if _is_scenario(item) and _known_skip(ds, item) is None]
    _check_cost_cap(ds, len(scenarios), sum(1 for item in scenarios if _restores(item)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the target once the selected scenarios are known, before any of them runs: an unreachable
    endpoint, a refused account or missing credentials is a usage error (one line, no scenario output).

    xdist workers start theirs on first use (the ``dr_target`` fixture), like any run that skips this hook.
    """
    config = session.config
    if config.option.collectonly or parallel.is_worker(config) or not any(map(_is_scenario, session.items)):
        return
    ds = drill_session(config)
    if ds.journal.usage_errors:
        return
    try:
        ds.start_target()
    except DrDrillError as exc:
        ds.journal.usage_errors.append(str(exc))
        raise pytest.UsageError(str(exc)) from None


def _scenario_steps(item: pytest.Item) -> list[tuple[str, str]]:
    """The ``(type, text)`` steps of the scenario behind ``item``, its Examples row filled in."""
    template = template_of(item)
    if template is None:
        return []
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    scenario = template.render(example if isinstance(example, dict) else {})
    return [(step.type, step.name) for step in scenario.steps]


def _restores(item: pytest.Item) -> bool:
    """Whether the scenario behind ``item`` starts a restore (the same rule ``drdrill plan`` counts by)."""
    return needs.starts_restore(_scenario_steps(item))


def _known_skip(ds: DrillSession, item: pytest.Item) -> str | None:
    """Why the target will skip ``item``, known before it starts (aws, embedded; LocalStack is probed at start)."""
    from dr_infra.targets.capabilities import AWS_CAPABILITIES, EMBEDDED_CAPABILITIES

    known = {"aws": AWS_CAPABILITIES, "embedded": EMBEDDED_CAPABILITIES}.get(ds.target_name)
    if ds.target_name == "embedded" and ds.timing.scaled:
        from dr_infra.targets.embedded.target import AWS_SCALED_WITHOUT

        known = EMBEDDED_CAPABILITIES - AWS_SCALED_WITHOUT  # aws-scaled rehearses aws: no fault switches
    return None if known is None else needs.skip_reason(_scenario_steps(item), ds.target_name, known)


def _check_cost_cap(ds: DrillSession, scenarios: int, restoring: int) -> None:
    """On the aws target, refuse (one line, exit 2) a run whose estimated cost exceeds --dr-max-cost: the
    estimate ``drdrill plan`` prints for the same scenarios (:func:`dr_infra.stack.pricing.estimate_run`)."""
    try:
        cap = safety.parse_max_cost(ds.config.getoption("--dr-max-cost"))
        if ds.target_name == "aws" and cap is not None:
            safety.check_cost(cap, scenarios, restoring)
    except DrDrillError as exc:
        ds.journal.usage_errors.append(str(exc))
        raise pytest.UsageError(str(exc)) from None


# -- fixtures ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dr_session(pytestconfig: pytest.Config) -> DrillSession:
    """The run's shared state (target, journal, policy)."""
    return drill_session(pytestconfig)


@pytest.fixture(scope="session")
def dr_target(dr_session: DrillSession) -> Target:
    """The started target; a configuration problem stops the run with one line and exit code 2."""
    try:
        return dr_session.start_target()
    except DrDrillError as exc:
        dr_session.journal.usage_errors.append(str(exc))
        pytest.exit(str(exc), returncode=2)


@pytest.fixture
def drill(request: pytest.FixtureRequest, dr_session: DrillSession, dr_target: Target) -> Iterator[Drill]:
    """This scenario's drill; torn down whatever happens (cleanups, fault switches, background writers)."""
    record = request.node.stash.get(RECORD_KEY, None) or _new_record(request.node)
    request.node.stash[RECORD_KEY] = record
    policy_targets = dr_session.policy.targets_for(record.guarantee, None)
    drill = Drill(
        target=dr_target,
        run_id=dr_session.run_id,
        record=record,
        policy=dr_session.policy,
        stack_counter=dr_session.next_stack,
        rto_target=policy_targets.rto_seconds,
        rpo_target=policy_targets.rpo_seconds,
        definition=dr_session.definition,
    )
    dr_session.live.append(drill)
    try:
        _skip_before_first_step(request.node, drill)
        yield drill
    finally:
        _teardown_drill(drill)
        with contextlib.suppress(ValueError):
            dr_session.live.remove(drill)


def _skip_before_first_step(item: pytest.Item, drill: Drill) -> None:
    """Skip a scenario the target cannot run before its first step creates anything (the reason its step's
    :meth:`Drill.require` would give later): on AWS a chaos scenario would otherwise provision a stack and wait
    minutes for a backup job only to skip at its fault step. ``drdrill plan`` marks the same scenarios."""
    reason = needs.skip_reason(_scenario_steps(item), drill.target.name, drill.target.capabilities)
    if reason is not None:
        drill.record.skip_reason = reason
        pytest.skip(reason)


def _reset_scenario_faults(control: Any, drill: Drill) -> None:
    """Turn off this scenario's fault switches only: its stack's scope (and any other scope it set), so a
    parallel drill sharing the endpoint keeps its own; everything when the scenario set an unscoped switch."""
    scopes = set(control.fault_scopes())
    if None in scopes:
        control.reset_faults()
        return
    if drill.stack is not None:
        scopes.add(drill.stack.names.prefix)
    for scope in sorted(s for s in scopes if s is not None):
        control.reset_faults(scope=scope)


def _teardown_drill(drill: Drill) -> None:
    """Stop writers, reset this scenario's switches, judge, delete the stack: never cut short by a first Ctrl-C."""
    with interrupts.shielded("tearing down the stack"):
        for worker in drill.background:
            with contextlib.suppress(Exception):
                worker.stop()
        control = getattr(drill.target, "control", None)
        if control is not None:
            with contextlib.suppress(Exception):
                drill.record_throttles()  # before the reset zeroes the counts
            with contextlib.suppress(Exception):
                _reset_scenario_faults(control, drill)
                getattr(drill.target, "reset_settings", control.reset_settings)()  # keeps the run's timing profile
        with contextlib.suppress(Exception):
            drill.finish_measures()
        failures = drill.cleanups.run()
        drill.record.cleanup = {"deleted": len(drill.cleanups.done), "failed": failures}


# -- journal hooks -----------------------------------------------------------------------------------------------
def _guarantee(path: Path) -> str:
    return path.parent.name or "features"


def _new_record(item: pytest.Item) -> ScenarioRecord:
    template = template_of(item)
    path = Path(str(item.path))
    name = template.name if template is not None else item.name
    feature = template.feature.name if template is not None else path.stem
    tags = sorted(template.tags) if template is not None else []
    from dr_infra.bdd.provenance import relative

    return ScenarioRecord(
        id=item.nodeid,
        name=name,
        feature=feature,
        feature_file=relative(path, item.config.rootpath),
        guarantee=_guarantee(path),
        tags=tags,
        line=template.line_number if template is not None else None,
    )


def _is_scenario(item: pytest.Item) -> bool:
    return template_of(item) is not None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_scenario(item):
        record = _new_record(item)
        record.started_at = iso(utcnow())
        item.stash[RECORD_KEY] = record
        item.stash[_T0] = time.monotonic()


_T0 = pytest.StashKey[float]()
_STEP_T0 = pytest.StashKey[float]()


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    request.node.stash[_STEP_T0] = time.monotonic()


def _step_record(request: pytest.FixtureRequest, step: Any, status: str, error: str | None = None) -> None:
    record = request.node.stash.get(RECORD_KEY, None)
    if record is None:
        return
    started = request.node.stash.get(_STEP_T0, time.monotonic())
    duration = round(time.monotonic() - started, 3)
    line = getattr(step, "line_number", None)
    record.steps.append(StepRecord(step.keyword, step.name, status, duration, error, line))


def pytest_bdd_before_step_call(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    """The stop condition, before every step: before the Given step that provisions the stack, before every
    injection, before every check. Once the alarm has been seen in ALARM the run is stopped: this raises at
    once, without a call, so later scenarios fail at their first step and create nothing."""
    guard = drill_session(request.config).stop
    if guard.alarm is None:
        return
    guard.raise_if_stopped()
    target = drill_session(request.config).target
    if target is not None:
        guard.check(target.client("cloudwatch"))
        guard.watch(lambda: target.client("cloudwatch"))  # and between steps, during long waits


def pytest_bdd_after_step(
    request: pytest.FixtureRequest, step: Any, step_func_args: dict[str, Any] | None = None, **_: Any
) -> None:
    drill = (step_func_args or {}).get("drill")
    reason = getattr(drill, "step_skip_reason", None)
    if reason:  # not applicable to this monitor: recorded as skipped with the reason, never as passed
        drill.step_skip_reason = None  # type: ignore[union-attr]
        _step_record(request, step, "skipped", reason)
        return
    _step_record(request, step, "passed")


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any, exception: BaseException, **_: Any) -> None:
    status = "skipped" if isinstance(exception, pytest.skip.Exception) else "failed"
    _step_record(request, step, status, _one_line(exception))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, pytest.skip.Exception):
        text = str(exc.msg)
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if isinstance(exc, AssertionError | DrDrillError) else f"{type(exc).__name__}: {first}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    record = item.stash.get(RECORD_KEY, None)
    if record is None:
        return
    judge = report.when == "call" and report.passed
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.skipped:
            record.status = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            record.skip_reason = str(reason).removeprefix("Skipped: ")
        elif report.failed:
            record.status = "failed" if report.when == "call" else "error"
            record.failure = _one_line(call.excinfo.value) if call.excinfo else "failed"
            if call.excinfo is not None and isinstance(call.excinfo.value, ConfigError):
                record.status = "error"
                drill_session(item.config).journal.usage_errors.append(f"{record.name}: {record.failure}")
            if call.excinfo is not None and isinstance(call.excinfo.value, DrDrillError):
                report.longrepr = f"{item.path}: {record.name}: {record.failure}"  # drdrill's line, no traceback
            if call.excinfo is not None and isinstance(call.excinfo.value, KeyboardInterrupt):
                record.status = "interrupted"
    if judge:
        _judge_measurements(item, record, report)
    if report.when == "teardown":
        if report.failed and record.status == "passed":
            record.status = "error"
            record.failure = _one_line(call.excinfo.value) if call.excinfo else "teardown failed"
        if record.cleanup.get("failed"):
            record.status = "error" if record.status == "passed" else record.status
            record.failure = record.failure or f"cleanup left resources behind: {record.cleanup['failed'][0]}"
        record.finished_at = iso(utcnow())
        record.duration_s = round(time.monotonic() - item.stash.get(_T0, time.monotonic()), 3)
        ds = drill_session(item.config)
        ds.journal.scenarios.append(record)
        if parallel.is_worker(item.config):  # xdist: the controller writes the report
            _ship(item, report, record, ds)


def _live_drill(item: pytest.Item, record: ScenarioRecord) -> Drill | None:
    return next((d for d in drill_session(item.config).live if d.record is record), None)


def _judge_measurements(item: pytest.Item, record: ScenarioRecord, report: pytest.TestReport) -> None:
    """The verdict is the measurements: a scenario whose steps all passed but which recorded a guarantee as
    not met (and no injected fault explains it) fails here, whatever steps it has, so the terminal, the exit
    code, junit.xml and the report's banner all say violated (see :mod:`dr_infra.report.verdict`)."""
    drill = _live_drill(item, record)
    if drill is not None:
        drill.finish_measures()
    problems = unexpected_violations(asdict(record))
    if not problems:
        return
    line = "; ".join(problems.values()) + " (a guarantee recorded as violated fails the scenario)"
    report.outcome = "failed"
    report.longrepr = f"{item.path}: {record.name}: {line}"
    record.status = "failed"
    record.failure = line


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    session = _current_session
    if session is None:
        return
    session.interrupted = True
    for drill in list(session.live):
        drill.record.status = "interrupted"
        drill.record.failure = "interrupted before the scenario finished"
        if drill.record not in session.journal.scenarios:
            session.journal.scenarios.append(drill.record)
    try:
        for drill in list(session.live):
            _teardown_drill(drill)
    except interrupts.TeardownAbandoned:
        _report_abandoned(session)
    session.live.clear()


def _report_abandoned(session: DrillSession) -> None:
    """The operator abandoned the teardown: say exactly what is left and how to remove it."""
    left = [f"{d.record.name}: {what}" for d in session.live for what in d.cleanups.pending()]
    session.journal.leaks.extend(f"teardown abandoned: {line}" for line in left)
    if session.target_name == "embedded":
        how = "the embedded target lives in this process, so they vanish with it"
    else:
        how = f"remove them with: drdrill janitor --target {session.target_name} --older-than 0s --yes"
    print(f"drdrill: teardown abandoned; left behind: {'; '.join(left) or 'nothing'}; {how}", file=sys.stderr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ds = drill_session(session.config)
    for drill in list(ds.live):  # drills whose teardown never ran
        _teardown_drill(drill)
    ds.live.clear()
    ds.stop.close()
    if parallel.is_worker(session.config):
        shipped = session.config.stash.get(_SHIPPED, {})
        output = parallel.worker_output(ds.journal, set(shipped), shipped, ds.interrupted)
        session.config.workeroutput[parallel.OUTPUT_KEY] = output  # type: ignore[attr-defined]
    else:
        merger = session.config.stash.get(_MERGER, None)
        if merger is not None:
            ds.interrupted = ds.interrupted or merger.interrupted
            merger.finish(getattr(session.config.option, "numprocesses", None))
        with interrupts.shielded("writing the report"):
            write_reports(ds)
    if ds.target is not None:
        ds.target.stop()


# -- parallel drills (pytest-xdist): see dr_infra.bdd.xdist -------------------------------------------------
_SHIPPED = pytest.StashKey[dict[str, int]]()
_MERGER = pytest.StashKey[parallel.Merger]()
_WORKER_PIDS = pytest.StashKey[list[int]]()


def _ship(item: pytest.Item, report: pytest.TestReport, record: ScenarioRecord, ds: DrillSession) -> None:
    """Worker: attach the finished record to the teardown report, which xdist sends to the controller."""
    items = item.session.items
    order = items.index(item) if item in items else len(items) + len(ds.journal.scenarios)
    item.config.stash.setdefault(_SHIPPED, {})[record.id] = order
    payload = parallel.record_payload(record, order, ds.journal.target, ds.journal.usage_errors)
    setattr(report, parallel.REPORT_ATTR, payload)


def _merger(config: pytest.Config) -> parallel.Merger:
    if _MERGER not in config.stash:
        config.stash[_MERGER] = parallel.Merger(drill_session(config).journal)
    return config.stash[_MERGER]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller: every worker runs under the controller's run id, and shares its embedded server when there
    are more workers than cores (:func:`dr_infra.bdd.xdist.share_endpoint`)."""
    ds = drill_session(node.config)
    node.workerinput[parallel.RUN_ID_KEY] = ds.run_id
    pid = parallel.worker_pid(node)
    if pid is not None:
        node.config.stash.setdefault(_WORKER_PIDS, []).append(pid)
    workers = getattr(node.config.option, "numprocesses", None)
    setting = str(node.config.getoption("--dr-share-target"))
    if ds.target_name == "embedded" and parallel.share_endpoint(setting, workers, os.cpu_count() or 1):
        try:
            endpoint = ds.start_target().endpoint_url
        except DrDrillError as exc:
            raise pytest.UsageError(str(exc)) from None
        node.workerinput[parallel.ENDPOINT_KEY] = endpoint


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Controller: what a worker did not ship in its test reports (cut-short drills, usage errors, leaks)."""
    output = getattr(node, "workeroutput", None)
    if isinstance(output, dict):
        _merger(node.config).add_workeroutput(output)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Controller: a scenario record a worker attached to its teardown report joins the one journal."""
    payload = getattr(report, parallel.REPORT_ATTR, None)
    session = _current_session
    if payload is None or session is None or parallel.is_worker(session.config):
        return
    _merger(session.config).add_report(str(payload))


def write_reports(ds: DrillSession) -> Path | None:
    """Write the journal and every report format, if this run ran any drill (or hit a usage error)."""
    journal = ds.journal
    if not journal.scenarios and not journal.usage_errors:
        return None
    journal.finish(interrupted=ds.interrupted)
    out = ds.report_dir()
    from dr_infra.report import render_all

    history = ds.config.getoption("--dr-history-dir")
    if history is None and not ds.config.getoption("--dr-report-dir"):
        history = str(out.parent)  # reports/: earlier runs' journals give the trend with no set-up
    render_all(
        journal, out, history_dir=Path(history) if history else None, redact=bool(ds.config.getoption("--dr-redact"))
    )
    if not journal.usage_errors:  # a run that could not start leaves reports/latest on the last real report
        _point_latest(out, default_layout=not ds.config.getoption("--dr-report-dir"))
    ds.config.stash[REPORT_DIR_KEY] = out
    return out


REPORT_DIR_KEY = pytest.StashKey[Path]()


def _drdrill_latest(latest: Path) -> bool:
    """Whether ``latest`` is one drdrill made: a symlink to a sibling folder's name, or the text file written
    where links are not allowed (one line naming a sibling folder that holds a journal)."""
    try:
        if latest.is_symlink():
            target = str(latest.readlink())
            return bool(target) and Path(target).name == target  # a sibling's name, not a path elsewhere
        if latest.is_file() and latest.stat().st_size <= 256:
            name = latest.read_text(encoding="utf-8").strip()
            return bool(name) and Path(name).name == name and (latest.parent / name / "report.json").is_file()
    except (OSError, UnicodeDecodeError):
        return False
    return False


def _point_latest(out: Path, *, default_layout: bool) -> None:
    """``reports/latest`` points at the newest run (a symlink; a text file where links are not allowed).

    Maintained only in drdrill's own layout: the default ``reports/<run-id>``, or a folder where drdrill already
    keeps a ``latest``. A ``--report-dir`` elsewhere gets no ``latest`` beside it, and a user's own file or folder
    named ``latest`` is never replaced.
    """
    latest = out.parent / "latest"
    ours = _drdrill_latest(latest)
    if not (default_layout or ours):
        return
    with contextlib.suppress(OSError):
        if latest.is_symlink() or (ours and latest.is_file()):
            latest.unlink()
        elif latest.exists():
            return  # a user's regular file or folder: keep it
        try:
            latest.symlink_to(out.name, target_is_directory=True)
        except OSError:
            latest.write_text(out.name + "\n", encoding="utf-8")
