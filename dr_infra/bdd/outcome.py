"""The journal's step and scenario records, filled from pytest-bdd's step hooks and pytest's test reports.

Why here and not in the hooks: the rules (a skipped step is never recorded as passed, a configuration error is
a usage error, a recorded violation fails the scenario, a cleanup leak is an error) are drdrill's verdict and
deserve one readable place; the plugin's hooks only call them.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import pytest

from dr_infra.bdd.scenario_items import RECORD_KEY
from dr_infra.bdd.session import drill_session
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError, DrDrillError
from dr_infra.report.journal import ScenarioRecord, StepRecord, iso, utcnow
from dr_infra.report.verdict import unexpected_violations

SCENARIO_T0 = pytest.StashKey[float]()
"""When the item's setup started (monotonic): the scenario's duration runs from here to its teardown."""

STEP_T0 = pytest.StashKey[float]()
"""When the running step started (monotonic)."""


def one_line(exc: BaseException) -> str:
    """An exception as the journal's one line: drdrill's own message as it is, anything else with its type."""
    text = str(exc).strip()
    if isinstance(exc, pytest.skip.Exception):
        text = str(exc.msg)
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if isinstance(exc, AssertionError | DrDrillError) else f"{type(exc).__name__}: {first}"


def step_started(request: pytest.FixtureRequest) -> None:
    request.node.stash[STEP_T0] = time.monotonic()


def step_record(request: pytest.FixtureRequest, step: Any, status: str, error: str | None = None) -> None:
    """Append the step that just ended to its scenario's record."""
    record = request.node.stash.get(RECORD_KEY, None)
    if record is None:
        return
    started = request.node.stash.get(STEP_T0, time.monotonic())
    duration = round(time.monotonic() - started, 3)
    line = getattr(step, "line_number", None)
    record.steps.append(StepRecord(step.keyword, step.name, status, duration, error, line))


def step_passed(request: pytest.FixtureRequest, step: Any, step_func_args: dict[str, Any] | None) -> None:
    """A step that returned: passed, or skipped with its reason when it said it does not apply to this monitor."""
    drill = (step_func_args or {}).get("drill")
    reason = getattr(drill, "step_skip_reason", None)
    if reason:  # not applicable to this monitor: recorded as skipped with the reason, never as passed
        drill.step_skip_reason = None  # type: ignore[union-attr]
        step_record(request, step, "skipped", reason)
        return
    step_record(request, step, "passed")


def step_failed(request: pytest.FixtureRequest, step: Any, exception: BaseException) -> None:
    status = "skipped" if isinstance(exception, pytest.skip.Exception) else "failed"
    step_record(request, step, status, one_line(exception))


def scenario_report(
    item: pytest.Item, call: pytest.CallInfo[Any], report: pytest.TestReport, record: ScenarioRecord
) -> bool:
    """Fold one of pytest's reports (setup, call, teardown) into the record; True once the teardown is in."""
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _call_outcome(item, call, report, record)
    if report.when == "call" and report.passed:
        judge_measurements(item, record, report)
    if report.when != "teardown":
        return False
    if report.failed and record.status == "passed":
        record.status = "error"
        record.failure = one_line(call.excinfo.value) if call.excinfo else "teardown failed"
    if record.cleanup.get("failed"):
        record.status = "error" if record.status == "passed" else record.status
        record.failure = record.failure or f"cleanup left resources behind: {record.cleanup['failed'][0]}"
    record.finished_at = iso(utcnow())
    record.duration_s = round(time.monotonic() - item.stash.get(SCENARIO_T0, time.monotonic()), 3)
    drill_session(item.config).journal.scenarios.append(record)
    return True


def _call_outcome(item: pytest.Item, call: pytest.CallInfo[Any], report: pytest.TestReport, record: Any) -> None:
    if report.skipped:
        record.status = "skipped"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        record.skip_reason = str(reason).removeprefix("Skipped: ")
        return
    if not report.failed:
        return
    record.status = "failed" if report.when == "call" else "error"
    record.failure = one_line(call.excinfo.value) if call.excinfo else "failed"
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, ConfigError):
        record.status = "error"
        drill_session(item.config).journal.usage_errors.append(f"{record.name}: {record.failure}")
    if isinstance(error, DrDrillError):
        report.longrepr = f"{item.path}: {record.name}: {record.failure}"  # drdrill's line, no traceback
    if isinstance(error, KeyboardInterrupt):
        record.status = "interrupted"


def _live_drill(item: pytest.Item, record: ScenarioRecord) -> Drill | None:
    return next((d for d in drill_session(item.config).live if d.record is record), None)


def judge_measurements(item: pytest.Item, record: ScenarioRecord, report: pytest.TestReport) -> None:
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
