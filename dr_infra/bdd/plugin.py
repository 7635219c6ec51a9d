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
import os
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, cast

import pytest

from dr_infra import interrupts
from dr_infra.bdd import needs
from dr_infra.bdd import xdist as parallel
from dr_infra.bdd.collect import FeatureFile, template_of, unknown_steps
from dr_infra.bdd.controller import start_for_workers
from dr_infra.bdd.definitions import check_referenced
from dr_infra.bdd.options import pytest_addoption as pytest_addoption
from dr_infra.bdd.report_output import REPORT_DIR_KEY as REPORT_DIR_KEY
from dr_infra.bdd.report_output import write_reports
from dr_infra.bdd.session import SESSION_KEY as SESSION_KEY
from dr_infra.bdd.session import DrillSession, UncapturedStderr, build_session, drill_session
from dr_infra.bdd.teardown import report_abandoned, teardown_drill
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError, DrDrillError
from dr_infra.report.journal import ScenarioRecord, StepRecord, iso, utcnow
from dr_infra.report.verdict import unexpected_violations
from dr_infra.stack import safety
from dr_infra.targets import Target

pytest_plugins = ["steps.posture", "steps.given", "steps.when", "steps.then", "steps.then_chaos"]

RECORD_KEY = pytest.StashKey[ScenarioRecord]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drdrill: a DR drill scenario")
    from dr_infra.bdd import progress

    progress.install(str(config.getoption("--dr-progress")), cast("IO[str]", UncapturedStderr(config)))
    config.pluginmanager.register(progress.ScenarioTracker(), "drdrill-progress")  # lines name their scenario
    try:
        config.stash[SESSION_KEY] = build_session(config)
    except DrDrillError as exc:
        raise pytest.UsageError(str(exc)) from None


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
        start_for_workers(session.config)  # a refused target is one line before any worker starts
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
        teardown_drill(drill)
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
            teardown_drill(drill)
    except interrupts.TeardownAbandoned:
        report_abandoned(session)
    session.live.clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ds = drill_session(session.config)
    for drill in list(ds.live):  # drills whose teardown never ran
        teardown_drill(drill)
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
