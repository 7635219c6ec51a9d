"""Each PITR-enabled table's change history, kept independently of any stream or stream reader.

What AWS does: with point-in-time recovery enabled, DynamoDB keeps continuous backups of a table for the
recovery period (``RecoveryPeriodInDays``, 1 to 35, default 35) and can restore it to any second between
``EarliestRestorableDateTime`` (when PITR was enabled, or the start of the recovery period, whichever is
later) and ``LatestRestorableDateTime`` (typically 5 minutes before now). This works whether or not the table
has a stream, and has nothing to do with who reads the stream. Disabling PITR discards the history. A table
deleted with PITR enabled can still be restored to a point in time within its recovery period, named by
``SourceTableArn`` (its name no longer resolves); for it ``LatestRestorableDateTime`` is the deletion time. (AWS
also makes a system backup of it, kept for 35 days.)
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html

What moto 5.2.5 does instead: nothing is recorded; a "point-in-time" restore copies today's items.

What is modelled here: when PITR is enabled on a table, a :class:`TableHistory` starts with a snapshot of the
table's items, then records every committed item change (key, new item or ``None`` for a delete) with a
strictly increasing wall-clock time in microseconds. Writes are caught where every write path of moto ends,
for tables with or without a stream:

* ``Table.put_item`` (PutItem, BatchWriteItem puts, transaction puts, PartiQL inserts and updates, imports);
* ``Table.delete_item`` (DeleteItem, batch and transaction deletes, PartiQL deletes);
* ``DynamoDBBackend.update_item`` (UpdateItem and transaction updates; its internal ``put_item`` of an empty
  new item is not recorded, only the finished item);
* ``DynamoDBBackend.transact_write_items``: the writes of one transaction are recorded together, with one
  time, only if the transaction commits (moto rolls a cancelled transaction back by swapping table objects).

The change feed (:mod:`changefeed`) is not used because it only sees tables that have a stream. Changes older
than the recovery period are folded into the snapshot, so memory is bounded by the table size plus the changes
of the recovery period. Each version is held packed (its DynamoDB JSON pickled, about 0.6 KB for a 0.5 KB item
where the dicts took 4.7 KB) under a key of plain values, and unpacked only when a restore asks for a point in
time; a change holds the whole new item, not a difference from the previous version. Disabling PITR or
creating a table of the same name drops its live history. Deleting a
table with PITR on moves its history (and the deleted ``Table`` object, for its key schema and indexes) to a
registry of deleted tables keyed by the table's ARN, stamped with the deletion time (:class:`DeletedTable`);
only the newest deletion of an ARN is kept, and it is forgotten once the deletion time leaves the recovery
period (looked up lazily, trimmed like a live history). The system backup AWS makes on delete is not
modelled. Writes to a table without PITR cost one dict lookup.
"""

from __future__ import annotations

import bisect
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from dr_infra.targets.embedded import moto_patch, process_state
from dr_infra.targets.embedded.moto_additions import AdditionKey

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.table.Table.put_item",
    "moto.dynamodb.models.table.Table.delete_item",
    "moto.dynamodb.models.table.Table.all_items",
    "moto.dynamodb.models.DynamoDBBackend.update_item",
    "moto.dynamodb.models.DynamoDBBackend.transact_write_items",
    "moto.dynamodb.models.DynamoDBBackend.create_table",
    "moto.dynamodb.models.DynamoDBBackend.delete_table",
    "moto.dynamodb.models.dynamo_type.Item.to_json",
    "moto.dynamodb.models.dynamo_type.DynamoType",
)

SECONDS_PER_DAY = 86_400
DEFAULT_RECOVERY_DAYS = 35

TableId = tuple[str, str, str]
"""(account id, region, table name)."""
ItemKey = tuple[Any, ...]
"""An item's primary key as plain values: (hash type, hash value) or (hash type, hash value, range type, range
value); DynamoType's own equality (type and value) without its objects."""
Packed = bytes
"""An item's DynamoDB JSON attributes, pickled: about a seventh of the dicts' memory, and a copy by nature."""


_clock_lock = threading.Lock()


def now() -> float:
    """Epoch seconds, microsecond resolution, strictly increasing even if the wall clock steps back."""
    kept = _kept()
    with _clock_lock:
        t = round(time.time(), 6)
        if t <= kept.last_time:
            t = round(kept.last_time + 1e-6, 6)
        kept.last_time = t
        return t


@dataclass(slots=True)
class Change:
    """One committed item change."""

    at: float
    key: ItemKey
    item: Packed | None  # the new item's DynamoDB JSON, packed (:func:`pack`); None when deleted


def pack(attributes: dict[str, Any]) -> Packed:
    return pickle.dumps(attributes, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(packed: Packed) -> dict[str, Any]:
    attributes: dict[str, Any] = pickle.loads(packed)  # noqa: S301 - bytes this process pickled itself
    return attributes


@dataclass
class TableHistory:
    """A snapshot at ``base_at`` plus every later change, oldest first."""

    enabled_at: float
    recovery_days: int
    base_at: float
    base: dict[ItemKey, Packed]
    changes: list[Change] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def window_seconds(self) -> float:
        return self.recovery_days * SECONDS_PER_DAY

    def earliest(self, at: float) -> float:
        """``EarliestRestorableDateTime`` as of ``at``."""
        return max(self.enabled_at, at - self.window_seconds)

    def record(self, change: Change) -> None:
        self.changes.append(change)
        self.times.append(change.at)
        self.trim(change.at)

    def trim(self, at: float) -> None:
        """Fold changes older than the recovery period into the snapshot."""
        cutoff = at - self.window_seconds
        if not self.times or self.times[0] >= cutoff:
            return
        count = bisect.bisect_left(self.times, cutoff)
        for change in self.changes[:count]:
            _apply(self.base, change)
        del self.changes[:count]
        del self.times[:count]
        self.base_at = max(self.base_at, cutoff)

    def state_at(self, at: float) -> list[dict[str, Any]]:
        """The items (fresh dicts) as they were after every change made at or before ``at``."""
        state = dict(self.base)
        for change in self.changes[: bisect.bisect_right(self.times, at)]:
            _apply(state, change)
        return [unpack(packed) for packed in state.values()]


def _apply(state: dict[ItemKey, Packed], change: Change) -> None:
    if change.item is None:
        state.pop(change.key, None)
    else:
        state[change.key] = change.item


@dataclass
class DeletedTable:
    """A PITR-enabled table after DeleteTable: its history, frozen at ``deleted_at``."""

    table: Table
    history: TableHistory
    deleted_at: float


@dataclass
class Kept:
    """What this module keeps beside moto's tables: the live tables' histories, the deleted tables still
    restorable by ARN, and the history clock's last stamp."""

    histories: dict[TableId, TableHistory] = field(default_factory=dict)
    deleted: dict[str, DeletedTable] = field(default_factory=dict)
    last_time: float = 0.0


KEPT: AdditionKey[Kept] = AdditionKey("history:kept", Kept)


def _kept() -> Kept:
    """This module's entry in :data:`.process_state.MOTO_ADDITIONS`."""
    return process_state.MOTO_ADDITIONS[KEPT]


_lock = threading.RLock()
_local = threading.local()


def table_id(table: Table) -> TableId:
    return (table.account_id, table.region_name, table.name)


def item_key(item: Item) -> ItemKey:
    """``item``'s primary key as plain, immutable values."""
    hash_key, range_key = item.hash_key, item.range_key
    if range_key is None:
        return (hash_key.type, _frozen(hash_key.value))
    return (hash_key.type, _frozen(hash_key.value), range_key.type, _frozen(range_key.value))


def _frozen(value: Any) -> Any:
    return bytes(value) if isinstance(value, bytearray) else value


def _snapshot(item: Item) -> tuple[ItemKey, Packed]:
    return item_key(item), pack(item.to_json()["Attributes"])


def start(table: Table, recovery_days: int = DEFAULT_RECOVERY_DAYS) -> TableHistory:
    """Begin the history of ``table`` now, from a snapshot of its items."""
    with _lock:
        at = now()
        base = dict(_snapshot(item) for item in table.all_items())
        history = TableHistory(enabled_at=at, recovery_days=recovery_days, base_at=at, base=base)
        _kept().histories[table_id(table)] = history
        return history


def get(tid: TableId) -> TableHistory | None:
    """The history of a table, if PITR is on for it."""
    with _lock:
        return _kept().histories.get(tid)


def drop(tid: TableId) -> None:
    """Forget a table's history (PITR disabled, table deleted or replaced)."""
    with _lock:
        _kept().histories.pop(tid, None)


def deleted(arn: str, at: float | None = None) -> DeletedTable | None:
    """The deleted table ``arn`` if its deletion is still within its recovery period as of ``at`` (default now)."""
    with _lock:
        found = _kept().deleted.get(arn)
        if found is None:
            return None
        at = now() if at is None else at
        if found.history.earliest(at) > found.deleted_at:
            del _kept().deleted[arn]  # the whole history left the recovery period
            return None
        found.history.trim(at)
        return found


def set_recovery_days(tid: TableId, days: int) -> None:
    with _lock:
        history = _kept().histories.get(tid)
        if history is not None:
            history.recovery_days = days
            history.trim(now())


def tracked() -> int:
    """How many live tables have a history (for diagnostics)."""
    with _lock:
        return len(_kept().histories)


def tracked_deleted() -> int:
    """How many deleted tables are kept for a restore by ARN (for diagnostics)."""
    with _lock:
        return len(_kept().deleted)


def _record(table: Table, key: ItemKey, item: Packed | None) -> None:
    tid = table_id(table)
    if tid not in _kept().histories:  # fast path: PITR off
        return
    buffer: list[tuple[TableId, ItemKey, Packed | None]] | None = getattr(_local, "transaction", None)
    if buffer is not None:
        buffer.append((tid, key, item))
        return
    with _lock:
        history = _kept().histories.get(tid)
        if history is not None:
            history.record(Change(now(), key, item))


def _record_item(table: Table, item: Item) -> None:
    if table_id(table) in _kept().histories:
        key, attrs = _snapshot(item)
        _record(table, key, attrs)


def _wrap_put_item(original: Callable[..., Item]) -> Callable[..., Item]:
    @wraps(original)
    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original(self, *args, **kwargs)
        if not getattr(_local, "in_update", False):
            _record_item(self, item)
        return item

    return put_item


def _wrap_delete_item(original: Callable[..., Item | None]) -> Callable[..., Item | None]:
    @wraps(original)
    def delete_item(self: Table, *args: Any, **kwargs: Any) -> Item | None:
        item = original(self, *args, **kwargs)
        if item is not None and table_id(self) in _kept().histories:
            _record(self, item_key(item), None)
        return item

    return delete_item


def _wrap_update_item(original: Callable[..., Item]) -> Callable[..., Item]:
    @wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Item:
        outer = getattr(_local, "in_update", False)
        _local.in_update = True
        try:
            item = original(self, table_name, *args, **kwargs)
        finally:
            _local.in_update = outer
        _record_item(self.get_table(table_name), item)
        return item

    return update_item


def _wrap_transact_write_items(original: Callable[..., None]) -> Callable[..., None]:
    @wraps(original)
    def transact_write_items(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> None:
        buffer: list[tuple[TableId, ItemKey, Packed | None]] = []
        _local.transaction = buffer
        try:
            original(self, *args, **kwargs)
        finally:
            _local.transaction = None
        with _lock:  # committed: every write of the transaction at one time
            at = now()
            for tid, key, item in buffer:
                history = _kept().histories.get(tid)
                if history is not None:
                    history.record(Change(at, key, item))

    return transact_write_items


def _wrap_create_table(original: Callable[..., Table]) -> Callable[..., Table]:
    @wraps(original)
    def create_table(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Table:
        table = original(self, *args, **kwargs)
        drop(table_id(table))
        return table

    return create_table


def _wrap_delete_table(original: Callable[..., Table]) -> Callable[..., Table]:
    @wraps(original)
    def delete_table(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Table:
        table = original(self, *args, **kwargs)
        with _lock:
            history = _kept().histories.pop(table_id(table), None)
            if history is not None:
                _kept().deleted[table.table_arn] = DeletedTable(table, history, now())
        return table

    return delete_table


def install() -> None:
    """Hook moto's write paths."""
    moto_patch.wrap(Table, "put_item", _wrap_put_item, by=__name__)
    moto_patch.wrap(Table, "delete_item", _wrap_delete_item, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "update_item", _wrap_update_item, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "transact_write_items", _wrap_transact_write_items, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "create_table", _wrap_create_table, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "delete_table", _wrap_delete_table, by=__name__)
