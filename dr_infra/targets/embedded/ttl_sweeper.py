"""Time to Live: expired items are deleted by DynamoDB itself, within a bounded delay, as service deletions.

What AWS does (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html): with TTL enabled on
an attribute, an item whose attribute is a Number holding an epoch time in seconds that has passed is deleted by
the service, "typically within a few days of their expiration time", at no cost; until then it can still be read.
Items whose TTL value is more than five years in the past are not deleted; non-Number values are ignored. The
deletion is an ordinary REMOVE in the table's stream (and in backups), with ``userIdentity`` ``{"type":
"Service", "principalId": "dynamodb.amazonaws.com"}`` (:mod:`stream_records`).

What is modelled: a daemon sweeper (while an embedded server runs) deletes every expired item of every table
with TTL ``ENABLED`` once ``ttl_delete_delay_seconds`` have passed since its expiry (settings: 1 s on the
``instant`` profile, two days x scale on ``aws-scaled``; AWS documents no upper bound, so the delay is a model:
an expired item is deleted between that delay and that delay plus one sweep interval after it expires), once
the table's TTL is ``ENABLED`` (not while it is ``ENABLING``: :mod:`ttl_status`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from dr_infra.targets.embedded import item_store, process_state, stream_records, ttl_status

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.Table.delete_item",
    "moto.dynamodb.models.table.Table.all_items",
)
"""It also reads ``Table.ttl`` (``TimeToLiveStatus``, ``AttributeName``) and ``Item.attrs`` / ``hash_key`` /
``range_key``."""

FIVE_YEARS_S = 5 * 365 * 24 * 3600
_running = threading.Event()
_thread: threading.Thread | None = None
_endpoints: set[str] = set()
_lock = threading.Lock()


def _expiry(item: Any, attribute: str) -> float | None:
    if isinstance(item, item_store.LazyItem):  # a packed item: read the one attribute, build nothing
        value = item.attribute_json(attribute)
        kind, number = next(iter(value.items())) if value else (None, None)
    else:
        found = item.attrs.get(attribute)
        kind, number = (found.type, found.value) if found is not None else (None, None)
    if kind != "N" or number is None:
        return None
    try:
        return float(number)
    except (TypeError, ValueError):
        return None


def _tables() -> list[Any]:
    found = []
    for accounts in list(dict.values(dynamodb_backends)):
        for backend in list(dict.values(accounts)):
            for table in list(backend.tables.values()):
                ttl = getattr(table, "ttl", None) or {}
                if ttl.get("AttributeName") and ttl_status.status(table) == "ENABLED":
                    found.append(table)
    return found


def sweep(now: float | None = None) -> int:
    """Delete the items due now (expired at least the configured delay ago); returns how many."""
    now = time.time() if now is None else now
    delay = process_state.current_settings().ttl_delete_delay
    deleted = 0
    for table in _tables():
        attribute = table.ttl["AttributeName"]
        due = []
        for item in list(table.all_items()):
            expiry = _expiry(item, attribute)
            if expiry is not None and now - FIVE_YEARS_S <= expiry <= now - delay:
                due.append(item)
        for item in due:
            with stream_records.service_deletions():
                if table.delete_item(item.hash_key, item.range_key) is not None:
                    deleted += 1
    return deleted


def _interval() -> float:
    return max(0.05, min(1.0, process_state.current_settings().ttl_delete_delay / 4))


def _run() -> None:
    while _running.is_set():
        with contextlib.suppress(Exception):  # a moto reset mid-sweep: the next sweep sees the new state
            sweep()
        time.sleep(_interval())


def server_started(endpoint: str) -> None:
    """The first running server starts the sweeper."""
    global _thread
    with _lock:
        _endpoints.add(endpoint)
        if _running.is_set():
            return
        _running.set()
        _thread = threading.Thread(target=_run, name="ttl-sweeper", daemon=True)
        _thread.start()


def server_stopped(endpoint: str) -> None:
    """The last server to stop ends the sweeper."""
    global _thread
    with _lock:
        _endpoints.discard(endpoint)
        if _endpoints or not _running.is_set():
            return
        _running.clear()
        thread, _thread = _thread, None
    if thread is not None:
        thread.join(timeout=5)


def install() -> None:
    """Nothing to patch: the sweeper runs from :func:`server_started`."""
