"""Time to Live changes are asynchronous: ENABLING / DISABLING first, and one change per table per hour.

What AWS does: UpdateTimeToLive answers at once, but "it can take up to one hour for the change to fully
process. Any additional UpdateTimeToLive calls for the same table during this one hour duration result in a
ValidationException"; meanwhile DescribeTimeToLive reports ``TimeToLiveStatus`` ``ENABLING`` or ``DISABLING``
(its values: ENABLING, DISABLING, ENABLED, DISABLED), and expired items are deleted only once TTL is enabled.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TimeToLiveDescription.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-how-to.html

What moto 5.2.5 does instead: ENABLED or DISABLED at once, and any number of changes.

What is modelled here, for changes the embedded server serves: after UpdateTimeToLive the status is
``ENABLING`` / ``DISABLING`` for :func:`transition_seconds` (0.2 s on ``instant``; the documented hour times
``scale`` on ``aws-scaled``), worked out when it is read, then what moto stored; the TTL sweeper deletes
nothing until then (:mod:`ttl_sweeper` reads :func:`status`). A second UpdateTimeToLive of the same table
within the hour (times ``scale`` on ``aws-scaled``; a whole hour on ``instant``, as on AWS) is
``ValidationException`` "Time to live has been modified multiple times within a fixed interval" (AWS's
wording), and nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import has_request_context
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

from dr_infra.targets.embedded import moto_patch, process_state

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.responses.DynamoHandler.update_time_to_live",
    "moto.dynamodb.models.DynamoDBBackend.describe_time_to_live",
    "moto.dynamodb.exceptions.MockValidationException",
)
"""It also reads and sets attributes of moto's ``Table`` instances (``ttl``, ``_drdrill_ttl_*``)."""

AWS_CHANGE_SECONDS = 3600.0
INSTANT_TRANSITION_SECONDS = 0.2
_SETTLES = "_drdrill_ttl_settles_at"
_CHANGED = "_drdrill_ttl_changed_at"


def transition_seconds() -> float:
    """How long ENABLING / DISABLING lasts under the current profile."""
    current = process_state.current_settings()
    if current.latency_profile == "aws-scaled":
        return AWS_CHANGE_SECONDS * current.scale
    return INSTANT_TRANSITION_SECONDS


def lockout_seconds() -> float:
    """How long after a change another change is refused (AWS: one hour; scaled under aws-scaled)."""
    current = process_state.current_settings()
    return AWS_CHANGE_SECONDS * (current.scale if current.latency_profile == "aws-scaled" else 1.0)


def status(table: Any, now: float | None = None) -> str:
    """The table's TimeToLiveStatus now (ENABLING / DISABLING while a change is processing)."""
    stored = str((getattr(table, "ttl", None) or {}).get("TimeToLiveStatus") or "DISABLED")
    settles = table.__dict__.get(_SETTLES)
    at = time.monotonic() if now is None else now
    if settles is not None and at < settles:
        return "ENABLING" if stored == "ENABLED" else "DISABLING"
    return stored


def _wrap_update(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @wraps(original)
    def update_time_to_live(self: DynamoHandler) -> Any:
        if not has_request_context():
            return original(self)
        body = self.body if isinstance(self.body, dict) else {}
        name = str(body.get("TableName") or "").split(":table/")[-1]
        table = self.dynamodb_backend.tables.get(name)
        now = time.monotonic()
        changed = table.__dict__.get(_CHANGED) if table is not None else None
        if changed is not None and now - changed < lockout_seconds():
            raise MockValidationException("Time to live has been modified multiple times within a fixed interval")
        result = original(self)
        if table is not None:
            table.__dict__[_CHANGED] = now
            table.__dict__[_SETTLES] = now + transition_seconds()
        return result

    return update_time_to_live


def _wrap_describe(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @wraps(original)
    def describe_time_to_live(self: DynamoDBBackend, table_name: str) -> dict[str, Any]:
        described = dict(original(self, table_name))
        table = self.get_table(table_name)
        if "TimeToLiveStatus" in described:
            described["TimeToLiveStatus"] = status(table)
        return described

    return describe_time_to_live


def install() -> None:
    """Wrap UpdateTimeToLive's handler and DescribeTimeToLive."""
    moto_patch.wrap(DynamoHandler, "update_time_to_live", _wrap_update, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "describe_time_to_live", _wrap_describe, by=__name__)
