"""A function's output in CloudWatch Logs, written straight into moto's logs backend - if its role may.

Lambda writes a function's output to ``/aws/lambda/<name>`` with the function's execution role: only when the
role allows ``logs:CreateLogStream`` and ``logs:PutLogEvents`` (and ``logs:CreateLogGroup`` for a missing group)
do the lines arrive; otherwise they are lost and the function still runs
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html#monitoring-cloudwatchlogs-prereqs).
The decision is taken per (role, stream) and re-taken at most every :data:`RECHECK_SECONDS`, so a policy change
shows within a second. The invocation's log tail (``LogType=Tail``) is kept either way, as on AWS.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from moto.logs.models import logs_backends

from dr_infra.targets.embedded import execution_role, process_state
from dr_infra.targets.embedded.lambda_spec import FunctionSpec
from dr_infra.targets.embedded.moto_additions import AdditionKey

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.logs.models.logs_backends",
    "moto.logs.models.LogsBackend.ensure_log_group",
    "moto.logs.models.LogsBackend.create_log_stream",
    "moto.logs.models.LogsBackend.put_log_events",
)
RECHECK_SECONDS = 1.0

_log_lock = threading.Lock()
LOG_DECISIONS: AdditionKey[dict[tuple[str, str, str, bool], tuple[bool, float]]] = AdditionKey(
    "lambda_logs:decisions", dict
)


def _decisions() -> dict[tuple[str, str, str, bool], tuple[bool, float]]:
    """Whether each function may write its logs, decided per invocation and cached briefly."""
    return process_state.MOTO_ADDITIONS[LOG_DECISIONS]


def may_log(spec: FunctionSpec, stream: str, group_exists: bool) -> bool:
    """Does the function's role let its output reach ``stream``?"""
    key = (spec.role, spec.log_group, stream, group_exists)
    now = time.monotonic()
    cached = _decisions().get(key)
    if cached is not None and now - cached[1] < RECHECK_SECONDS:
        return cached[0]
    allowed = execution_role.can_write_logs(
        spec.role, spec.account_id, spec.region, spec.log_group, stream, group_exists
    )
    _decisions()[key] = (allowed, now)
    return allowed


def put_logs(spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
    """Deliver log lines to CloudWatch Logs, after ``EmbeddedSettings.log_delivery_seconds`` (aws-scaled:
    log delivery is asynchronous on AWS, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html)."""
    if not events:
        return
    delay = process_state.current_settings().log_delivery_seconds
    if delay > 0:
        timer = threading.Timer(delay, _deliver_logs, (spec, stream, events))
        timer.daemon = True
        timer.start()
        return
    _deliver_logs(spec, stream, events)


def _deliver_logs(spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
    backend = logs_backends[spec.account_id][spec.region]
    if not may_log(spec, stream, spec.log_group in backend.groups):
        return
    payload = [{"timestamp": ts, "message": msg} for ts, msg in events]
    with _log_lock:
        for attempt in range(2):
            try:
                backend.ensure_log_group(spec.log_group)
                group = backend.groups[spec.log_group]
                if stream not in group.streams:
                    backend.create_log_stream(spec.log_group, stream)
                backend.put_log_events(spec.log_group, stream, payload)
                return
            except Exception:
                if attempt:
                    return


def now_ms() -> int:
    return int(time.time() * 1000)


def iso_now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
