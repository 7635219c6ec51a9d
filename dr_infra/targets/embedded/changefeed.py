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

What is modelled here: ``StreamShard.add`` only appends the record (sequence numbers grow forever, nothing
is cleared, nothing is delivered inside the write). Delivery to functions is the poller's job
(``esm_poller``). Subscribers registered with :func:`subscribe` see every (table, old, new, record) change
in write order; the point-in-time history uses this.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.table import StreamRecord, StreamShard

ChangeListener = Callable[[Any, Any, Any, StreamRecord], None]
"""Called as ``listener(table, old_item, new_item, stream_record)`` after each write."""

_listeners: list[ChangeListener] = []
_lock = threading.Lock()
_installed = False


def subscribe(listener: ChangeListener) -> None:
    """Register ``listener`` for every later write to any table that has a stream."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def _append_only_add(self: StreamShard, old: Any, new: Any) -> None:
    """Replacement for ``StreamShard.add``: append, notify, never deliver or clear."""
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
        record = StreamRecord(self.table, stream_type, event_name, old, new, seq)
        self.items.append(record)
        listeners = list(_listeners)
    for listener in listeners:
        listener(self.table, old, new, record)


def install() -> None:
    """Patch moto's stream shard (idempotent)."""
    global _installed
    if _installed:
        return
    StreamShard.add = _append_only_add  # type: ignore[method-assign]
    _installed = True
