"""drdrill's pytest plugin (registered through the ``pytest11`` entry point).

Options: the ``--dr-*`` options of the option table (:mod:`dr_infra.bdd.options`), each with its environment
variable (``--dr-target`` / DRDRILL_TARGET, ``--dr-stack`` / DRDRILL_STACK, ...); ``drdrill run``'s are built
from the same records.

The plugin is inert in a pytest session that runs no drill: the target starts on first use, and a journal
and report are written only when at least one scenario ran. It collects ``.feature`` files, registers the
step vocabulary (``steps.*``), keeps one journal per run, and tears every drill down, also when a scenario
fails midway or the run is interrupted.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import pytest

from dr_infra import interrupts
from dr_infra.bdd import outcome, workers
from dr_infra.bdd import session as sessions
from dr_infra.bdd import xdist as parallel
from dr_infra.bdd.collect import FeatureFile, unknown_steps
from dr_infra.bdd.controller import start_for_workers
from dr_infra.bdd.definitions import check_referenced
from dr_infra.bdd.options import pytest_addoption as pytest_addoption
from dr_infra.bdd.report_output import REPORT_DIR_KEY as REPORT_DIR_KEY
from dr_infra.bdd.report_output import write_reports
from dr_infra.bdd.scenario_items import (
    RECORD_KEY,
    check_cost_cap,
    is_scenario,
    known_skip,
    new_record,
    restores,
    skip_before_first_step,
)
from dr_infra.bdd.session import SESSION_KEY as SESSION_KEY
from dr_infra.bdd.session import DrillSession, UncapturedStderr, build_session, drill_session
from dr_infra.bdd.shipped import shipped_tags
from dr_infra.bdd.teardown import open_switches, report_abandoned, teardown_drill
from dr_infra.drill.state import Drill
from dr_infra.errors import DrDrillError
from dr_infra.report.journal import iso, utcnow
from dr_infra.targets import Target

_RUN_SCOPE = pytest.StashKey[contextlib.ExitStack]()
pytest_plugins = ["steps.posture", "steps.given", "steps.when", "steps.then", "steps.then_chaos"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drdrill: a DR drill scenario")
    for tag in sorted(shipped_tags()):  # -m/--tags may name drdrill's own tags whatever is collected
        config.addinivalue_line("markers", f"{tag}: Gherkin tag of drdrill's shipped features")
    from dr_infra.bdd import progress

    tracker = progress.ScenarioTracker()  # the lines name their scenario
    config.pluginmanager.register(tracker, "drdrill-progress")
    scope = config.stash[_RUN_SCOPE] = contextlib.ExitStack()  # closed by pytest_unconfigure
    stream = cast("IO[str]", UncapturedStderr(config))
    scope.enter_context(progress.installed(str(config.getoption("--dr-progress")), stream, tracker.label))
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
                session = sessions.current()
                if session is not None and message not in session.journal.usage_errors:
                    session.journal.usage_errors.append(message)
                report.longrepr = message
                break


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_RUN_SCOPE].enter_context(sessions.running(drill_session(session.config)))
    interrupts.GUARD.reset()
    if workers.controls_workers(session.config):
        # -n N: this process only waits for its workers; Ctrl-C goes on to them, each stops in order and ships
        # its interrupted drills, and the merged report is written once they are all done
        pids = session.config.stash.setdefault(workers.WORKER_PIDS, [])
        interrupts.GUARD.on_first = lambda: workers.interrupt_workers(session.config, pids)
        start_for_workers(session.config)  # a refused target is one line before any worker starts
    interrupts.GUARD.install()  # Ctrl-C: an orderly stop that a burst of presses cannot cut short


def pytest_unconfigure(config: pytest.Config) -> None:
    interrupts.GUARD.uninstall()
    scope = config.stash.get(_RUN_SCOPE, None)
    if scope is not None:
        scope.close()  # the progress observer and the running session go: nothing outlives this run


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
    scenarios = [item for item in items if is_scenario(item) and known_skip(ds, item) is None]
    check_cost_cap(ds, len(scenarios), sum(1 for item in scenarios if restores(item)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the target once the selected scenarios are known, before any of them runs: an unreachable
    endpoint, a refused account or missing credentials is a usage error (one line, no scenario output).

    xdist workers start theirs on first use (the ``dr_target`` fixture), like any run that skips this hook.
    """
    config = session.config
    if config.option.collectonly or parallel.is_worker(config) or not any(map(is_scenario, session.items)):
        return
    ds = drill_session(config)
    if ds.journal.usage_errors:
        return
    try:
        ds.start_target()
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
    record = request.node.stash.get(RECORD_KEY, None) or new_record(request.node)
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
        cleanup_restored=bool(dr_session.config.getoption("--dr-cleanup-restored")),
    )
    switches = open_switches(dr_target)  # what the scenario sets on the target's switches, undone at teardown
    dr_session.live.append(drill)
    try:
        skip_before_first_step(request.node, drill)
        yield drill
    finally:
        teardown_drill(drill, switches)
        with contextlib.suppress(ValueError):
            dr_session.live.remove(drill)


# -- journal hooks (rules: dr_infra.bdd.outcome) -----------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if is_scenario(item):
        record = new_record(item)
        record.started_at = iso(utcnow())
        item.stash[RECORD_KEY] = record
        item.stash[outcome.SCENARIO_T0] = time.monotonic()


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    outcome.step_started(request)


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
    outcome.step_passed(request, step, step_func_args)


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any, exception: BaseException, **_: Any) -> None:
    outcome.step_failed(request, step, exception)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    result: Any = yield
    report: pytest.TestReport = result.get_result()
    record = item.stash.get(RECORD_KEY, None)
    if record is None:
        return
    if outcome.scenario_report(item, call, report, record) and parallel.is_worker(item.config):
        workers.ship(item, report, record, drill_session(item.config))  # xdist: the controller writes the report


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    session = sessions.current()
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
        workers.worker_output(session.config, ds)
    else:
        workers.finish_merge(session.config, ds)
        with interrupts.shielded("writing the report"):
            write_reports(ds)
    if ds.target is not None:
        ds.target.stop()


# -- parallel drills (pytest-xdist): dr_infra.bdd.workers, dr_infra.bdd.xdist -------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller: every worker runs under the controller's run id (:func:`dr_infra.bdd.workers.configure_node`)."""
    workers.configure_node(node)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Controller: what a worker did not ship in its test reports (cut-short drills, usage errors, leaks)."""
    output = getattr(node, "workeroutput", None)
    if isinstance(output, dict):
        workers.merger(node.config).add_workeroutput(output)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Controller: a scenario record a worker attached to its teardown report joins the one journal."""
    payload = getattr(report, parallel.REPORT_ATTR, None)
    session = sessions.current()
    if payload is None or session is None or parallel.is_worker(session.config):
        return
    workers.merger(session.config).add_report(str(payload))
