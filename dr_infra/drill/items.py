"""Deterministic test items carrying every DynamoDB type (S, N, B, BOOL, NULL, L, M, SS, NS, BS).

Seed items are a pure function of their index, so the oracle can regenerate the expected table at any
time instead of keeping a copy: 100 000 items cost no memory until they are compared. Items are in the
low-level wire format (``{"S": "x"}``) that boto3's client API takes and returns.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, dict[str, Any]]
Key = tuple[tuple[str, str], ...]


def key_value(index: int, key_type: str, prefix: str = "item") -> dict[str, Any]:
    """The key attribute value of item ``index`` (numeric keys of canaries are negative: no clash)."""
    if key_type == "N":
        return {"N": str(-index if prefix == "canary" else index)}
    return {"S": f"{prefix}-{index:07d}"}


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
    """A hashable key for an item (attribute name, type+value) per key attribute."""
    parts = []
    for name in key_attributes:
        ((type_, value),) = item[name].items()
        parts.append((name, f"{type_}:{value}"))
    return tuple(parts)


def key_of(item: Item, key_attributes: tuple[str, ...]) -> Item:
    """Only the key attributes of ``item`` (for DeleteItem / GetItem)."""
    return {name: item[name] for name in key_attributes}
