"""Given steps: a protected table, its data, the monitor's strategy, the policy, canaries, chaos."""

from __future__ import annotations

import time

from pytest_bdd import given, parsers

from dr_infra.bdd.step_checks import checks
from dr_infra.drill import inject, monitor_faults, plan_runs, recovery_point, table_setup
from dr_infra.drill.canary import CanaryWriter
from dr_infra.drill.state import Drill
from dr_infra.errors import ConfigError
from dr_infra.stack.spec import TRIGGER_EVENTS, check_strategy
from dr_infra.targets.control_client import ControlClient

COUNT = r"(?P<count>-?\d+)"
RESTORE_FAILED_MESSAGE = "drdrill fault: restore job failed on purpose"
"""The StatusMessage an injected failing restore job ends with (the Then step compares against it)."""
START_DENIED_MESSAGE = "not authorized to perform: iam:PassRole"


@given(parsers.re(rf'a DR-protected table "(?P<name>[^"]*)" with {COUNT} items?'))
@checks(count=inject.seed_count)
def _(drill: Drill, name: str, count: str) -> None:
    number = inject.seed_count(count)
    table_setup.protect(drill, name)
    inject.seed(drill.client("dynamodb"), drill.table, drill.require_oracle(), number)


@given(parsers.re(rf'a DR-protected table "(?P<name>[^"]*)" (?:with {COUNT} items? )?as defined in "(?P<path>[^"]*)"'))
def _(drill: Drill, name: str, path: str, count: str | None) -> None:
    """The stack a user's definition file describes (path relative to the feature file): table, items, monitor, plan."""
    from dr_infra.bdd.definitions import definition_for

    definition = definition_for(drill.record.feature_file, path)
    number = inject.check_count(int(count) if count is not None else definition.count)
    table_setup.protect(drill, name, definition)
    inject.seed(drill.client("dynamodb"), drill.table, drill.require_oracle(), number)


@given(
    parsers.re(rf'the deployed table "(?P<name>[^"]*)"(?: with {COUNT} items?)?(?: as defined in "(?P<path>[^"]*)")?')
)
def _(drill: Drill, name: str, count: str | None, path: str | None) -> None:
    """A stack that exists, drilled in place: its [deployed] definition (the step's file, else --stack or
    --stack-from); posture checked, drdrill's items seeded under the reserved key prefix, nothing provisioned."""
    from dr_infra.bdd.definitions import definition_for
    from dr_infra.drill.deployed_items import use_deployed

    definition = definition_for(drill.record.feature_file, path) if path else drill.definition
    if definition is None or definition.deployed is None:
        where = f"{path} has no [deployed] section" if path else "no deployed stack named"
        raise ConfigError(
            f'\'the deployed table "{name}"\': {where}; give a definition with [deployed] table = "{name}" '
            "(--stack FILE, DRDRILL_STACK, --stack-from cloudformation:NAME, or 'as defined in \"FILE\"')"
        )
    number = inject.check_count(int(count) if count is not None else definition.count)
    use_deployed(drill, name, definition, named=name)
    inject.seed(drill.client("dynamodb"), drill.table, drill.require_oracle(), number)


@given(parsers.re(r'the table holds the item "(?P<key>[^"]*)"'))
def _(drill: Drill, key: str) -> None:
    oracle = drill.require_oracle()
    if drill.monitor_attached:
        raise ConfigError("'the table holds the item' must come before the first When step")
    item = oracle.items.named(key)
    item["kind"] = {"S": "named"}
    inject.put_item(drill.client("dynamodb"), drill.table, oracle, item)


@given(parsers.re(r'the change monitor restores with the "(?P<strategy>[^"]*)" strategy'))
def _(drill: Drill, strategy: str) -> None:
    drill.strategy = check_strategy(strategy)
    if "policy_step" not in drill.record.evidence:
        targets = drill.policy.targets_for(drill.record.guarantee, strategy)
        drill.rto_target, drill.rpo_target = targets.rto_seconds, targets.rpo_seconds
    if strategy == "backup":
        drill.require("backup_jobs", why="the backup strategy restores from AWS Backup recovery points")
    if strategy in {"backup", "pitr", "item"}:
        drill.require("lambda_execution", why="the change monitor has to run to restore anything")
    if strategy == "pitr":
        drill.require("pitr_time_travel", why="the pitr strategy needs a real point-in-time restore")
    drill.configure_monitor()


@given(parsers.re(r'the change monitor reacts to "(?P<events>[^"]*)" events?'))
def _(drill: Drill, events: str) -> None:
    chosen = tuple(e.strip().upper() for e in events.split(",") if e.strip())
    unknown = [e for e in chosen if e not in TRIGGER_EVENTS]
    if unknown or not chosen:
        raise ConfigError(f"unknown stream event {unknown[0] if unknown else events!r}: use INSERT, MODIFY or REMOVE")
    drill.trigger_events = chosen
    drill.configure_monitor()


@given("a recovery point of the table exists")
def _(drill: Drill) -> None:
    drill.require("backup_jobs", why="recovery points come from AWS Backup jobs")
    recovery_point.take_recovery_point(drill)


@given(parsers.re(rf"the backup plan has run {COUNT} times?"))
@checks(count=plan_runs.check_runs)
def _(drill: Drill, count: str) -> None:
    if drill.stack is not None and drill.stack.spec.deployed:
        raise ConfigError(
            "'the backup plan has run N times' moves a backup plan's clock or waits for its runs: not drilled on a "
            "deployed stack (its recovery points are the user's); use 'a recovery point of the table exists'"
        )
    plan_runs.run_plan(drill, plan_runs.check_runs(count))


def _target_seconds(text: str) -> float:
    if int(text) < 0:
        raise ConfigError(f"{text} s: an RTO or RPO target cannot be negative")
    return float(text)


def _canary_ms(text: str) -> int:
    interval = int(text)
    if not 10 <= interval <= 600_000:
        raise ConfigError(f"canary writes every {interval} ms: use 10 to 600000 milliseconds")
    return interval


@given(parsers.re(r"the DR policy requires an RTO of (?P<rto>-?\d+) seconds? and an RPO of (?P<rpo>-?\d+) seconds?"))
@checks(rto=_target_seconds, rpo=_target_seconds)
def _(drill: Drill, rto: str, rpo: str) -> None:
    _target_seconds(rto), _target_seconds(rpo)
    drill.rto_target, drill.rpo_target = float(rto), float(rpo)
    drill.record.evidence["policy_step"] = {"rto_seconds": float(rto), "rpo_seconds": float(rpo)}


@given(parsers.re(r"canary writes every (?P<ms>-?\d+) milliseconds?"))
@checks(ms=_canary_ms)
def _(drill: Drill, ms: str) -> None:
    interval = _canary_ms(ms)
    writer = CanaryWriter(drill.client("dynamodb"), drill.table, drill.require_oracle(), interval / 1000)
    drill.background.append(writer)
    drill.record.evidence["canary_interval_ms"] = interval
    writer.start()
    time.sleep(min(1.0, interval / 1000 * 3))


@given(parsers.re(r"restore jobs take (?P<seconds>-?\d+) seconds?"))
def _(drill: Drill, seconds: str) -> None:
    drill.require("restore_faults", why="restore-path chaos needs the embedded target's fault switches")
    if int(seconds) < 0:
        raise ConfigError("restore jobs cannot take a negative time")
    scope = _fault_scope(drill, "restore jobs take N seconds")
    control = getattr(drill.target, "control", None)
    assert control is not None
    control.set_fault("restore_job_duration", scope=scope, seconds=int(seconds))
    drill.faults["restore_job_duration"] = {"seconds": int(seconds)}
    drill.record.add_evidence("notes", f"fault: restore jobs take {seconds} s")


@given("restore jobs fail")
def _(drill: Drill) -> None:
    drill.require("restore_faults", why="restore-path chaos needs the embedded target's fault switches")
    scope = _fault_scope(drill, "restore jobs fail")
    control = getattr(drill.target, "control", None)
    assert control is not None
    control.set_fault("restore_job_fails", scope=scope, message=RESTORE_FAILED_MESSAGE)
    drill.faults["restore_job_fails"] = {"message": RESTORE_FAILED_MESSAGE}
    drill.record.add_evidence("notes", "fault: restore jobs fail")


@given(parsers.re(r"starting a restore is denied"))
def _(drill: Drill) -> None:
    drill.require("restore_faults", why="restore-path chaos needs the embedded target's fault switches")
    scope = _fault_scope(drill, "starting a restore is denied")
    control = getattr(drill.target, "control", None)
    assert control is not None
    control.set_fault("start_restore_denied", scope=scope, message=START_DENIED_MESSAGE)
    drill.faults["start_restore_denied"] = {"message": START_DENIED_MESSAGE}
    drill.record.add_evidence("notes", "fault: StartRestoreJob denied")


def _fault_scope(drill: Drill, step: str) -> str:
    """The stack's name prefix: a chaos step's switch applies only to this scenario's resources.

    Parallel drills sharing one endpoint (``drdrill serve``) then never steer each other's restores, and the
    plugin resets only this scope after the scenario."""
    if drill.stack is None:
        raise ConfigError(
            f"'{step}' must come after 'Given a DR-protected table ...': "
            "its fault applies only to that table's stack (so parallel drills sharing a target stay apart)"
        )
    if drill.stack.spec.deployed:
        raise ConfigError(
            f"'{step}' injects a fault into a stack drdrill provisions; a deployed stack is drilled as it behaves "
            "(drill chaos scenarios without --stack / the deployed table)"
        )
    return drill.stack.names.prefix


def _control(drill: Drill, why: str) -> ControlClient:
    drill.require("restore_faults", why=why)
    control = getattr(drill.target, "control", None)
    assert isinstance(control, ControlClient)
    return control


@given(parsers.re(r'the "(?P<operation>[^"]*)" operation is throttled (?P<count>-?\d+) times?'))
def _(drill: Drill, operation: str, count: str) -> None:
    """ThrottlingException on the next N calls of one API operation about this stack's resources (whoever
    calls it: the drill or the monitor); botocore retries."""
    if not operation.isalnum() or not operation[:1].isupper():
        raise ConfigError(f"{operation!r} is not an API operation name (e.g. DescribeRestoreJob)")
    number = int(count)
    if not 1 <= number <= 20:
        raise ConfigError(f"throttled {number} times: use 1 to 20 (botocore gives up after a few retries)")
    control = _control(drill, "throttling needs the embedded target's fault switches")
    scope = _fault_scope(drill, f'the "{operation}" operation is throttled {number} times')
    control.set_fault("throttle", count=number, scope=scope, operation=operation)
    drill.record.add_evidence("notes", f"fault: {operation} throttled {number} time(s)")


@given(parsers.re(r"the change monitor (?P<how>fails|times out on) its next (?P<count>-?\d+) invocations?"))
def _(drill: Drill, how: str, count: str) -> None:
    """The monitor function errors (or times out) on its next N invocations; the mapping retries the batch."""
    number = int(count)
    if not 1 <= number <= 100:
        raise ConfigError(f"{number} failing invocations: use 1 to 100")
    drill.require("function_faults", why="function errors need the embedded target's fault switches")
    control = _control(drill, "function errors are injected by the embedded target's fault switches")
    fault = "function_error" if how == "fails" else "function_timeout"
    scope = _fault_scope(drill, f"the change monitor {how} its next {number} invocations")
    function = drill.require_stack().names.monitor_function
    control.set_fault(fault, count=number, scope=scope, function=function)
    drill.record.add_evidence("notes", f"fault: the change monitor {how} its next {number} invocation(s)")


@given("the change monitor's event source mapping is disabled")
def _(drill: Drill) -> None:
    """Attach the monitor now, then disable its mapping (UpdateEventSourceMapping Enabled=False)."""
    drill.require("lambda_execution", why="a disabled mapping is only observable when the monitor runs")
    monitor_faults.disable_mapping(drill)
