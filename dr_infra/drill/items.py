"""Deterministic test items carrying every DynamoDB type (S, N, B, BOOL, NULL, L, M, SS, NS, BS).

Seed items are a pure function of their index, so the oracle can regenerate the expected table at any
time instead of keeping a copy: 100 000 items cost no memory until they are compared. Items are in the
low-level wire format (``{"S": "x"}``) that boto3's client API takes and returns.
:func:`item_maker` shapes them to a stack's table: its keys, its indexes' keys, its TTL, a definition's sample.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from dr_infra.verify.canonical import canonical_binary

if TYPE_CHECKING:
    from dr_infra.stack.spec import StackSpec

Item = dict[str, dict[str, Any]]
Key = tuple[tuple[str, str], ...]


def key_value(index: int, key_type: str, prefix: str = "item") -> dict[str, Any]:
    """The key attribute value of item ``index`` (numeric keys of canaries are negative: no clash)."""
    if key_type == "N":
        return {"N": str(-index if prefix == "canary" else index)}
    if key_type == "B":
        return {"B": f"{prefix}-{index:07d}".encode()}
    return {"S": f"{prefix}-{index:07d}"}


NAMED_NUMBER_BASE = 10**15
"""Where the numbers of named items start on a Number-keyed table: far above any seed index (at most 200,000) and
positive (canaries are negative), so a named item never is a seeded one."""


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except (InvalidOperation, ValueError):
        return False


def named_number(text: str) -> str:
    """The Number key of a named item: the name itself when it is a number, else a stable number of the name
    (the same in every step and run: ``the table holds the item "customer-42"`` and ``the item "customer-42" is
    deleted`` mean one item)."""
    if _is_number(text):
        return text
    return str(NAMED_NUMBER_BASE + int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big"))


def named_value(text: str, key_type: str) -> dict[str, Any]:
    """A key a scenario names (``the item "customer-42"``) in the key's type: B keys are the text's UTF-8 bytes,
    N keys the number it names (:func:`named_number`)."""
    if key_type == "N":
        return {"N": named_number(text)}
    if key_type == "B":
        return {"B": text.encode()}
    return {"S": text}


RANGE_GROUP = 3
"""Items per partition key when the table has a sort key: a comparison by the partition key alone would then
mistake one item for another, so the full primary key is exercised."""
TTL_FAR_FUTURE = 4_102_444_800
"""2100-01-01T00:00:00Z in epoch seconds: seeded items carry the TTL attribute, and none expires during a drill."""


@dataclass(frozen=True)
class ItemMaker:
    """Makes the drill's items fit the protected table: its primary key, its indexes' keys, its TTL attribute, and
    the user's sample items (repeated and re-keyed) when the definition has some."""

    hash_key: tuple[str, str] = ("LockId", "S")
    range_key: tuple[str, str] | None = None
    indexed: tuple[tuple[str, str], ...] = ()
    """Index key attributes that are not primary key attributes, with their types."""
    ttl_attribute: str | None = None
    sample: tuple[Item, ...] = ()
    key_prefix: str = ""
    """Put before every hash key the drill writes (a deployed table's items, :mod:`dr_infra.drill.deployed_items`), so
    drdrill's items are told apart from the user's by their key alone."""

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return (self.hash_key[0],) + ((self.range_key[0],) if self.range_key else ())

    def _keys(self, index: int, prefix: str) -> Item:
        name, type_ = self.hash_key
        if self.key_prefix and type_ != "N":
            prefix = self.key_prefix + prefix
        if self.range_key is None:
            return {name: key_value(index, type_, prefix)}
        range_name, range_type = self.range_key
        return {
            name: key_value(index // RANGE_GROUP, type_, prefix),
            range_name: key_value(index % RANGE_GROUP, range_type, "r"),
        }

    def seed(self, index: int) -> Item:
        """Item ``index``: a sample item re-keyed, or a generated one with every DynamoDB type."""
        if self.sample:
            item = dict(self.sample[index % len(self.sample)])
        else:
            item = seed_item(index, self.hash_key[0], self.hash_key[1])
            for name, type_ in self.indexed:
                item[name] = key_value(index % 97, type_, name)
            if self.ttl_attribute:
                item[self.ttl_attribute] = {"N": str(TTL_FAR_FUTURE)}
        item.update(self._keys(index, "item"))
        return item

    def canary(self, number: int, kind: Item) -> Item:
        return {**self._keys(number * RANGE_GROUP if self.range_key else number, "canary"), **kind}

    def named(self, text: str) -> Item:
        item = self.seed(0)
        prefix = self.key_prefix if self.hash_key[1] != "N" else ""
        item[self.hash_key[0]] = named_value(prefix + text, self.hash_key[1])
        return item

    def modified(self, item: Item, generation: int) -> Item:
        """A MODIFY that leaves every key attribute (table and indexes) as it is."""
        changed = modified(item, generation)
        for name, _type in self.indexed:
            if name in item:
                changed[name] = item[name]
        return changed


def seed_item(index: int, hash_key: str = "LockId", key_type: str = "S") -> Item:
    """Seed item ``index`` with one attribute of every DynamoDB type."""
    return {
        hash_key: key_value(index, key_type),
        "kind": {"S": "seed"},
        "quantity": {"N": str(index * 3 + 1)},
        "price": {"N": f"{index % 1000}.25"},
        "checksum": {"B": (index % 2**32).to_bytes(4, "big") + b"\x00\xff"},
        "active": {"BOOL": index % 2 == 0},
        "archived": {"NULL": True},
        "history": {"L": [{"S": "created"}, {"N": str(index)}, {"BOOL": False}]},
        "profile": {"M": {"owner": {"S": f"team-{index % 7}"}, "limits": {"M": {"max": {"N": "10.5"}}}}},
        "labels": {"SS": ["dr", f"shard-{index % 4}"]},
        "scores": {"NS": [str(index % 10), "99.5"]},
        "blobs": {"BS": [b"\x01", (index % 65536).to_bytes(2, "big") + b"\x02"]},
    }


def modified(item: Item, generation: int) -> Item:
    """A MODIFY of ``item``: changes a number, a nested map and a set, keeps the key."""
    changed = dict(item)
    changed["quantity"] = {"N": str(-1000 - generation)}
    changed["profile"] = {"M": {"owner": {"S": "intruder"}, "generation": {"N": str(generation)}}}
    changed["labels"] = {"SS": ["tampered"]}
    return changed


def item_key(item: Item, key_attributes: tuple[str, ...]) -> Key:
    """A hashable key for an item (attribute name, type+value) per key attribute.

    A binary key is spelled as the base64 of its bytes whichever form it came in: drdrill's items carry ``bytes``
    (what boto3's client takes and returns), items read back through the embedded target's export carry the wire
    JSON's base64 text; both must give the same key, or a key read from a restored table is never the one the
    drill changed."""
    parts = []
    for name in key_attributes:
        ((type_, value),) = item[name].items()
        parts.append((name, f"B:{canonical_binary(value)}" if type_ == "B" else f"{type_}:{value}"))
    return tuple(parts)


def key_of(item: Item, key_attributes: tuple[str, ...]) -> Item:
    """Only the key attributes of ``item`` (for DeleteItem / GetItem)."""
    return {name: item[name] for name in key_attributes}


def item_maker(spec: StackSpec) -> ItemMaker:
    """Items that fit ``spec``'s table: its keys, its indexes' keys, its TTL attribute, the definition's sample."""
    shape = spec.table
    keys = set(shape.key_attributes)
    return ItemMaker(
        hash_key=(shape.hash_key.name, shape.hash_key.type),
        range_key=(shape.range_key.name, shape.range_key.type) if shape.range_key else None,
        indexed=tuple((n, t) for n, t in shape.indexed_attributes().items() if n not in keys),
        ttl_attribute=shape.ttl_attribute,
        sample=spec.definition.sample if spec.definition is not None else (),
    )
