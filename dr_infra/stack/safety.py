"""Safety interlocks for drills on real accounts (issue 8): tag checks, a stop alarm, a cost cap.

* Tag check: before a destructive call (a When step's writes or DeleteTable, teardown's deletions) drdrill
  reads the target resource's tags and refuses, with :class:`~dr_infra.errors.UnsafeOperation`, unless they
  say ``drdrill:managed=true`` *and* ``drdrill:run-id`` is this run's id. A wrong table name can then never
  harm a table drdrill did not create in this very run.
* Stop alarm (``--dr-stop-alarm`` / ``DRDRILL_STOP_ALARM``): a CloudWatch alarm read before every step
  (so before a stack is provisioned and before every injection) and every :data:`STOP_POLL_SECONDS` while a
  scenario runs (:class:`StopGuard`). Once it is seen in ALARM the run is stopped for good: background canary
  writers stop at once, the running scenario fails with ``stopped: alarm X is in ALARM`` at its next step and
  is torn down, and every later scenario fails with the same line at its first step, creating nothing.
* Cost cap (``--dr-max-cost`` / ``DRDRILL_MAX_COST``, USD): on the aws target, the run is refused before
  anything is touched when ``drdrill plan``'s estimate for the selected scenarios
  (:func:`dr_infra.stack.pricing.estimate_run`) exceeds it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dr_infra.errors import ConfigError, DrDrillError, UnsafeOperation
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID
from dr_infra.stack.table_delete import delete_table_when_settled

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import TagTypeDef as IAMTagTypeDef
    from mypy_boto3_lambda import LambdaClient

STOP_ALARM_ENV = "DRDRILL_STOP_ALARM"
MAX_COST_ENV = "DRDRILL_MAX_COST"
COST_TABLE_GB = 1.0
"""The table size the cost cap assumes per scenario (``drdrill plan``'s default ``--table-gb``)."""
STOP_POLL_SECONDS = 10.0
"""How often :class:`StopGuard` reads the stop alarm while a scenario runs (between its step checks)."""


class StopConditionTriggered(DrDrillError):
    """The stop alarm is in ALARM: stop injecting, fail the scenario, tear down."""

    exit_code = 1


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or []}


def require_ours(tags: Any, run_id: str, what: str, action: str) -> None:
    """Raise :class:`UnsafeOperation` (one line) unless ``tags`` mark the resource as this run's."""
    found = _tag_dict(tags)
    if found.get(TAG_MANAGED) == "true" and found.get(TAG_RUN_ID) == run_id:
        return
    seen = ", ".join(f"{k}={found[k]}" for k in (TAG_MANAGED, TAG_RUN_ID) if k in found) or "no drdrill tags"
    raise UnsafeOperation(
        f"refusing to {action} {what}: it is not tagged {TAG_MANAGED}=true and {TAG_RUN_ID}={run_id} ({seen})"
    )


def table_tags(ddb: DynamoDBClient, table_arn: str) -> dict[str, str]:
    """Every tag of a DynamoDB table (ListTagsOfResource, following NextToken)."""
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": table_arn}
    while True:
        page = ddb.list_tags_of_resource(**kwargs)
        tags.update(_tag_dict(page.get("Tags", [])))
        token = page.get("NextToken")
        if not token:
            return tags
        kwargs["NextToken"] = token


def check_table(ddb: DynamoDBClient, table_arn: str, run_id: str, action: str = "change") -> None:
    """Refuse unless the table at ``table_arn`` is tagged as this run's."""
    require_ours(table_tags(ddb, table_arn), run_id, f"table {table_arn.rsplit('/', 1)[-1]}", action)


def check_drill_table(drill: Any, action: str = "change") -> None:
    """The When steps' guard: the drill's protected table must be this run's before it is harmed."""
    stack = drill.require_stack()
    if stack.spec.deployed:
        check_deployed_keys(drill, action)
        return
    check_table(drill.client("dynamodb"), stack.table_arn, drill.run_id, action)


def check_deployed_keys(drill: Any, action: str) -> None:
    """A deployed table is the user's: the drill may only ever harm its own items (hash key under its prefix),
    and never the table itself."""
    stack = drill.require_stack()
    if action == "delete":
        raise UnsafeOperation(
            f"refusing to delete the deployed table {stack.names.table}: drdrill drills a deployed stack with its own "
            "items only (table loss is drilled on a stack drdrill provisions)"
        )
    oracle = drill.require_oracle()
    prefix = oracle.items.key_prefix
    hash_key = oracle.hash_key
    for item in oracle.live_keys():
        value = next(iter(item[hash_key].values()))
        text = value.decode() if isinstance(value, bytes | bytearray) else str(value)
        if not prefix or not text.startswith(prefix):
            raise UnsafeOperation(
                f"refusing to {action} {stack.names.table}: item {text!r} is not one of the drill's ({prefix}*)"
            )


# -- guarded deletions (teardown) ---------------------------------------------------------------------------
def delete_table(ddb: DynamoDBClient, table_arn: str, run_id: str) -> None:
    check_table(ddb, table_arn, run_id, "delete")
    delete_table_when_settled(ddb, table_arn.rsplit("/", 1)[-1])


def delete_role(iam: IAMClient, role: str, run_id: str) -> None:
    tags: list[IAMTagTypeDef] = []
    kwargs: dict[str, Any] = {"RoleName": role}
    while True:
        page = iam.list_role_tags(**kwargs)
        tags += page.get("Tags", [])
        if not page.get("IsTruncated"):
            break
        kwargs["Marker"] = page["Marker"]
    require_ours(tags, run_id, f"role {role}", "delete")
    iam.delete_role(RoleName=role)


def delete_function(lam: LambdaClient, function_arn: str, run_id: str) -> None:
    tags = lam.list_tags(Resource=function_arn).get("Tags", {})
    require_ours(tags, run_id, f"function {function_arn.rsplit(':', 1)[-1]}", "delete")
    lam.delete_function(FunctionName=function_arn)


# -- stop alarm ---------------------------------------------------------------------------------------------
def check_stop_alarm(cloudwatch: CloudWatchClient, alarm: str | None) -> None:
    """Raise :class:`StopConditionTriggered` when ``alarm`` is in ALARM; a missing alarm is a usage error."""
    if not alarm:
        return
    found = cloudwatch.describe_alarms(AlarmNames=[alarm], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    if not alarms:
        raise ConfigError(f"stop alarm {alarm!r} does not exist: check --dr-stop-alarm / {STOP_ALARM_ENV}")
    if any(a.get("StateValue") == "ALARM" for a in alarms):
        raise StopConditionTriggered(f"stopped: alarm {alarm} is in ALARM")


class StopGuard:
    """The run's stop condition: once the stop alarm is seen in ALARM, the run stays stopped.

    :meth:`check` reads the alarm (one DescribeAlarms call) unless the run is already stopped, in which case it
    raises at once without calling anything: later scenarios fail fast and create nothing. Tripping calls
    every :meth:`on_stop` listener once (the plugin's stops the running scenarios' canary writers), from
    whichever thread saw the alarm. :meth:`watch` polls in a daemon thread, so an alarm raised during a long
    wait stops the canaries without waiting for the next step.
    """

    def __init__(self, alarm: str | None) -> None:
        self.alarm = alarm or None
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._halt = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def stopped(self) -> bool:
        return self.reason is not None

    def on_stop(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when the run stops (at once if it already has)."""
        with self._lock:
            self._listeners.append(listener)
            stopped = self.stopped
        if stopped:
            listener()

    def trip(self, reason: str) -> None:
        """Stop the run for good (idempotent); the listeners run once, on the first trip."""
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
            listeners = list(self._listeners)
        self._halt.set()
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener()

    def raise_if_stopped(self) -> None:
        if self.reason is not None:
            raise StopConditionTriggered(self.reason)

    def check(self, cloudwatch: CloudWatchClient) -> None:
        """Raise :class:`StopConditionTriggered` if the run is stopped or the alarm is in ALARM now."""
        self.raise_if_stopped()
        try:
            check_stop_alarm(cloudwatch, self.alarm)
        except StopConditionTriggered as exc:
            self.trip(str(exc))
            raise

    def watch(self, cloudwatch: Callable[[], CloudWatchClient], interval_s: float = STOP_POLL_SECONDS) -> None:
        """Read the alarm every ``interval_s`` in a daemon thread until stopped or :meth:`close` d.

        A failed read (throttling, a network blip) is ignored here: the check before the next step reports it.
        """
        if not self.alarm or self._watcher is not None:
            return

        def loop() -> None:
            while not self._halt.wait(interval_s):
                with contextlib.suppress(StopConditionTriggered, Exception):
                    self.check(cloudwatch())

        self._watcher = threading.Thread(target=loop, name="drdrill-stop-alarm", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        """End the watcher (the run is over); the guard's state is kept."""
        self._halt.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=5)


# -- cost cap -----------------------------------------------------------------------------------------------
def parse_max_cost(value: str | float | None) -> float | None:
    """``--dr-max-cost`` / ``DRDRILL_MAX_COST``: a positive number of US dollars, or nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        cap = float(value)
    except ValueError:
        cap = math.nan
    if not (math.isfinite(cap) and cap > 0):
        raise ConfigError(f"--dr-max-cost {value!r} must be a positive number of US dollars (e.g. 5 or 2.50)")
    return cap


def check_cost(
    cap: float | None, scenarios: int, restoring: int | None = None, table_gb: float = COST_TABLE_GB
) -> float:
    """The run's estimate (:func:`dr_infra.stack.pricing.estimate_run`, the figure ``drdrill plan`` prints for the
    same scenarios); raises :class:`ConfigError` (one line, exit 2) when it exceeds ``cap``.

    ``restoring``: how many of the scenarios start a restore (``None``: assume every one does).
    """
    from dr_infra.stack.pricing import estimate_run

    restores = scenarios if restoring is None else restoring
    run = estimate_run(scenarios, restores, table_gb)
    total = float(run["total_usd"])
    if cap is not None and total > cap:
        raise ConfigError(
            f"estimated AWS cost ${total:,.2f} ({scenarios} scenario(s), {restores} with a restore, drdrill plan's "
            f"{table_gb:g} GB estimate) exceeds the cost cap ${cap:,.2f} (--dr-max-cost / {MAX_COST_ENV}); "
            "select fewer scenarios or raise the cap"
        )
    return total
