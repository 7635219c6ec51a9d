"""Every DynamoDB write on the embedded target, observed once, in order.

What AWS does: a table's stream holds each item-level change for 24 hours, and any number of readers
(an event source mapping's poller, the DynamoDB Streams API, Kinesis adapters) read it independently;
reading never removes records. Lambda is invoked *asynchronously* by the mapping's poller, never inside
the write request.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html

What moto 5.2.5 does instead (``moto/dynamodb/models/table.py::StreamShard.add``): it delivers the records
to every attached Lambda mapping synchronously inside the write request (trying Docker, which fails here),
then clears ``StreamShard.items`` so no other reader sees them, and sequence numbers repeat.

What AWS also does: a PutItem or UpdateItem that changes nothing writes no stream record ("If you perform a
PutItem or UpdateItem operation that does not change any data in an item, DynamoDB Streams does not write a
stream record for that operation", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html),
and every write - single, batch or transactional - writes exactly one record per item it changed. moto writes a
MODIFY for a no-op write, and two INSERTs for an UpdateItem that creates its item (its internal put of the empty
item, then the update).

What is modelled here: ``StreamShard.add`` only appends the record (sequence numbers grow forever, nothing
is cleared, nothing is delivered inside the write), and skips a change whose old and new item are equal.
``DynamoDBBackend.update_item`` is wrapped so its writes collapse into one record (the item before the call,
the item after it). Each record is corrected by :mod:`stream_records` (eventVersion, region, SizeBytes,
userIdentity) and then packed into the shard's :class:`stream_store.RecordLog` (pickled, trimmed after 24 hours).
Delivery to functions is the poller's job (``esm_poller``). Subscribers registered with
:func:`subscribe` see every recorded (table, old, new, record) change in write order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamRecord, StreamShard

from dr_infra.targets.embedded import esm_events, moto_patch, stream_records, stream_store

HOOKED_INTERNALS: tuple[str, ...] = ("moto.dynamodb.models.DynamoDBBackend.update_item",)

ChangeListener = Callable[[Any, Any, Any, stream_store.PackedRecord], None]
"""Called as ``listener(table, old_item, new_item, stream_record)`` after each write."""

_listeners: list[ChangeListener] = []
_lock = threading.Lock()
_pending = threading.local()
"""Inside ``update_item``: the (shard, old, new) adds of the call, written as one record when it returns."""


def subscribe(listener: ChangeListener) -> None:
    """Register ``listener`` for every later write to any table that has a stream."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def _same(old: Any, new: Any) -> bool:
    return old is not None and new is not None and old.to_json()["Attributes"] == new.to_json()["Attributes"]


def _append_only_add(self: StreamShard, old: Any, new: Any) -> None:
    """Replacement for ``StreamShard.add``: append, notify, never deliver or clear; no record for a no-op write."""
    adds = getattr(_pending, "adds", None)
    if adds is not None:
        adds.append((self, old, new))
        return
    _write(self, old, new)


def _write(self: StreamShard, old: Any, new: Any) -> None:
    if _same(old, new):
        return
    spec = self.table.stream_specification or {}
    stream_type = spec.get("StreamViewType", "NEW_AND_OLD_IMAGES")
    if old is None:
        event_name = "INSERT"
    elif new is None:
        event_name = "REMOVE"
    else:
        event_name = "MODIFY"
    with _lock:
        seq = len(self.items) + self.starting_sequence_number
        built = stream_records.amend(StreamRecord(self.table, stream_type, event_name, old, new, seq), self.table)
        created = esm_events.epoch_seconds(built.record["dynamodb"]["ApproximateCreationDateTime"])
        record = stream_store.pack(built, created)
        self.items.append(record)  # type: ignore[arg-type]
        listeners = list(_listeners)
    for listener in listeners:
        listener(self.table, old, new, record)


def _one_record_per_update(update_item: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(update_item)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getattr(_pending, "adds", None) is not None:  # nested: the outer call writes the record
            return update_item(*args, **kwargs)
        adds: list[tuple[StreamShard, Any, Any]] = []
        _pending.adds = adds
        try:
            result = update_item(*args, **kwargs)
        finally:
            _pending.adds = None
        if adds:
            shard, old, _ = adds[0]
            _write(shard, old, adds[-1][2])
        return result

    return wrapper


def install() -> None:
    """Patch moto's stream shard and UpdateItem."""
    moto_patch.replace(StreamShard, "add", _append_only_add, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "update_item", _one_record_per_update, by=__name__)
