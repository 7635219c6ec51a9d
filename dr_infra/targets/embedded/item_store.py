"""A table's items held packed (their DynamoDB JSON pickled), built into moto's ``Item`` objects only when read.

What AWS does: a table stores items; reads return copies, and an UpdateItem that fails changes nothing
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html: "Edits an existing item's
attributes, or adds a new item"; a condition or validation failure leaves the item as it was).

What moto 5.2.5 does: ``Table.items`` holds every item as an ``Item`` of ``DynamoType`` objects, several Python
objects per attribute (about 3.6 KB for a 0.5 KB item of every DynamoDB type), and an UpdateItem edits the stored
object in place (a validation error halfway leaves the half-made change behind).

What is modelled here: ``Table.items`` is a :class:`PackedItems` (hash key -> item; for a table with a range key,
hash key -> :class:`PackedItems` of range key -> item). Each item is kept as the pickle of its DynamoDB JSON
(about 0.45 KB), keyed by its key's plain value (type, and the number's value for N, as DynamoDB compares keys).
Reading gives a :class:`LazyItem`: a real ``Item`` whose keys are there at once and whose attributes are unpacked
on first use, so moto's walks over a whole table (every Query and Scan calls ``Table.all_items``) compare keys
without unpacking anything. Nothing read is stored: ``DynamoDBBackend.update_item`` is wrapped to store the item it
finished (so an update that fails stores nothing), and a Scan's walk to its ``ExclusiveStartKey`` compares keys
only. :func:`packed_items` gives the export route the stored items without building ``Item`` objects at all.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, MutableMapping
from functools import wraps
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.DynamoDBBackend.update_item",
    "moto.dynamodb.models.dynamo_type.DynamoType",
    "moto.dynamodb.models.dynamo_type.Item",
    "moto.dynamodb.models.dynamo_type.LimitedSizeDict",
    "moto.dynamodb.models.table.Table.__init__",
    "moto.dynamodb.models.table.Table.__len__",
    "moto.dynamodb.models.table.Table._item_comes_before_dct",
)

PlainKey = tuple[str, Any]
"""A key attribute's value as DynamoDB compares it: (type, value), numbers as their Decimal."""


def plain(key: DynamoType) -> PlainKey:
    """``key`` as a dict key equal exactly when moto's DynamoType keys are equal (type and cast value)."""
    return (key.type, key.cast_value)


def pack(item: Item) -> bytes:
    return pickle.dumps(item.to_json()["Attributes"], protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> dict[str, Any]:
    if not blob:
        return {}
    attributes: dict[str, Any] = pickle.loads(blob)  # noqa: S301 - bytes this process pickled itself
    return attributes


class LazyItem(Item):
    """A stored item as moto's ``Item``: keys set, attributes unpacked on first use (then an ordinary Item)."""

    def __init__(self, hash_key: DynamoType, range_key: DynamoType | None, blob: bytes) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self._blob: bytes | None = blob

    @property  # type: ignore[override]
    def attrs(self) -> LimitedSizeDict:
        attrs = self.__dict__.get("_attrs")
        if attrs is None:
            attrs = LimitedSizeDict.__new__(LimitedSizeDict)
            dict.__init__(attrs)  # the item was size-checked when it was written
            for name, value in unpack(self._blob or b"").items():
                dict.__setitem__(attrs, name, DynamoType(value))
            self.__dict__["_attrs"] = attrs
            self._blob = None
        return attrs

    @attrs.setter
    def attrs(self, value: LimitedSizeDict) -> None:
        self.__dict__["_attrs"] = value
        self._blob = None

    @property
    def unpacked(self) -> bool:
        return self.__dict__.get("_attrs") is not None

    def attribute_json(self, name: str) -> dict[str, Any] | None:
        """One attribute in DynamoDB JSON (``{"N": "12"}``) without building the item's DynamoType objects."""
        if self._blob is not None:
            value: dict[str, Any] | None = unpack(self._blob).get(name)
            return value
        attribute = self.attrs.get(name)
        return None if attribute is None else {attribute.type: attribute.value}


class PackedItems(MutableMapping[DynamoType, Any]):
    """``Table.items``: key DynamoType -> Item (leaves) or -> PackedItems of range keys (``nested``)."""

    def __init__(self, nested: bool = False, hash_key: DynamoType | None = None) -> None:
        self.nested = nested
        self.hash_key = hash_key
        """For a bucket of range keys: its items' hash key."""
        self._data: dict[PlainKey, Any] = {}

    # -- leaves: the stored form is the blob, or (raw key, blob) for a number key moto would spell differently

    def _entry(self, key: DynamoType, item: Item) -> Any:
        blob = pack(item)
        return blob if key.type != "N" else (key.value, blob)

    def _item(self, pkey: PlainKey, entry: Any) -> LazyItem:
        raw, blob = entry if isinstance(entry, tuple) else (pkey[1], entry)
        key = DynamoType({pkey[0]: raw})
        if self.hash_key is None:
            return LazyItem(key, None, blob)
        return LazyItem(self.hash_key, key, blob)

    # -- the mapping moto uses

    def __getitem__(self, key: DynamoType) -> Any:
        pkey = plain(key)
        if self.nested:
            bucket = self._data.get(pkey)
            if bucket is None:  # moto's defaultdict(dict): looking a hash key up makes its bucket
                bucket = self._data[pkey] = PackedItems(hash_key=DynamoType(key))
            return bucket
        return self._item(pkey, self._data[pkey])

    def __setitem__(self, key: DynamoType, value: Any) -> None:
        if self.nested:
            if not isinstance(value, PackedItems):
                bucket = PackedItems(hash_key=DynamoType(key))
                for range_key, item in dict(value).items():
                    bucket[range_key] = item
                value = bucket
            self._data[plain(key)] = value
        else:
            self._data[plain(key)] = self._entry(key, value)

    def __delitem__(self, key: DynamoType) -> None:
        del self._data[plain(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, DynamoType) and plain(key) in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[DynamoType]:
        for pkey, entry in list(self._data.items()):
            if self.nested:
                yield DynamoType(entry.hash_key) if entry.hash_key is not None else DynamoType({pkey[0]: pkey[1]})
            else:
                item = self._item(pkey, entry)
                yield item.hash_key if item.range_key is None else item.range_key

    def values(self) -> Any:  # type: ignore[override]
        """The items (or buckets), built as they are iterated."""
        if self.nested:
            return list(self._data.values())
        return [self._item(pkey, entry) for pkey, entry in list(self._data.items())]

    def count(self) -> int:
        """How many items (in every bucket)."""
        if self.nested:
            return sum(len(bucket) for bucket in list(self._data.values()))
        return len(self._data)

    def blobs(self) -> list[bytes]:
        """Every stored item's packed form (a snapshot; buckets flattened)."""
        if self.nested:
            return [blob for bucket in list(self._data.values()) for blob in bucket.blobs()]
        return [entry[1] if isinstance(entry, tuple) else entry for entry in list(self._data.values())]

    def __deepcopy__(self, memo: dict[int, Any]) -> PackedItems:
        """An independent copy sharing the (immutable) packed items: moto deep-copies tables for backups and
        for TransactWriteItems' rollback."""
        copied = PackedItems(self.nested, self.hash_key)
        if self.nested:
            copied._data = {pkey: bucket.__deepcopy__(memo) for pkey, bucket in list(self._data.items())}
        else:
            copied._data = dict(self._data)
        return copied


def packed_items(table: Table) -> list[bytes] | None:
    """A snapshot of every item of ``table`` in its packed form (unpack each with :func:`unpack`: the DynamoDB
    JSON moto's ``to_json`` gives, binary as bytes), without building Items; ``None`` when not packed."""
    items = table.items
    return items.blobs() if isinstance(items, PackedItems) else None


class _KeysOnly:
    """What ``Table._item_comes_before_dct`` reads of an item (``attrs``), limited to its key attributes."""

    __slots__ = ("attrs",)

    def __init__(self, attrs: dict[str, DynamoType]) -> None:
        self.attrs = attrs


def _wrap_table_init(original: Callable[..., None]) -> Callable[..., None]:
    @wraps(original)
    def __init__(self: Table, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.items = PackedItems(nested=self.range_key_attr is not None)  # type: ignore[assignment]

    return __init__


def _wrap_len(original: Callable[[Table], int]) -> Callable[[Table], int]:
    @wraps(original)
    def __len__(self: Table) -> int:
        items = self.items
        return items.count() if isinstance(items, PackedItems) else original(self)

    return __len__


def _wrap_comes_before(original: Callable[..., bool]) -> Callable[..., bool]:
    @wraps(original)
    def _item_comes_before_dct(self: Table, item: Item, dct: dict[str, Any], hash_attrs: Any, range_attrs: Any,
                               *args: Any, **kwargs: Any) -> bool:  # fmt: skip
        if isinstance(item, LazyItem) and not item.unpacked:
            names = {name for name in [*hash_attrs, *range_attrs] if name}
            if names <= {self.hash_key_attr, self.range_key_attr}:  # the table's own keys: no need to unpack
                keys = {self.hash_key_attr: item.hash_key}
                if self.range_key_attr and item.range_key is not None:
                    keys[self.range_key_attr] = item.range_key
                return original(self, _KeysOnly(keys), dct, hash_attrs, range_attrs, *args, **kwargs)
        return original(self, item, dct, hash_attrs, range_attrs, *args, **kwargs)

    return _item_comes_before_dct


def _store_updated(original: Callable[..., Item]) -> Callable[..., Item]:
    @wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Item:
        item = original(self, table_name, *args, **kwargs)
        table = self.get_table(table_name)
        items: Any = table.items
        if isinstance(items, PackedItems) and item is not None:
            if item.range_key is not None:
                items[item.hash_key][item.range_key] = item
            else:
                items[item.hash_key] = item
        return item

    return update_item


def install() -> None:
    """Give every new table packed items; install before the other UpdateItem wrappers."""
    moto_patch.wrap(Table, "__init__", _wrap_table_init, by=__name__)
    moto_patch.wrap(Table, "__len__", _wrap_len, by=__name__)
    moto_patch.wrap(Table, "_item_comes_before_dct", _wrap_comes_before, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "update_item", _store_updated, by=__name__)
