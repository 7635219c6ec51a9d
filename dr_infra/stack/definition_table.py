"""The ``[table]`` section of a stack definition: keys, billing, TTL and indexes, checked as DynamoDB's CreateTable
would (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html), before anything exists."""

from __future__ import annotations

from typing import Any

from dr_infra.stack.definition_check import Checker
from dr_infra.stack.table_shape import KeyAttribute, SecondaryIndex, TableShape


def _key(raw: dict[str, Any]) -> KeyAttribute:
    return KeyAttribute(str(raw["name"]), str(raw["type"]))


def _index(raw: dict[str, Any]) -> SecondaryIndex:
    projection = raw.get("projection", "ALL")
    return SecondaryIndex(
        name=str(raw["name"]),
        hash_key=_key(raw["hash_key"]),
        range_key=_key(raw["range_key"]) if "range_key" in raw else None,
        projection=tuple(projection) if isinstance(projection, list) else str(projection),
        read_capacity=raw.get("read_capacity"),
        write_capacity=raw.get("write_capacity"),
    )


def table_shape(check: Checker, raw: dict[str, Any]) -> TableShape:
    """The ``[table]`` section as a :class:`TableShape`, refused (``check.fail``) where CreateTable would refuse it."""
    shape = TableShape(
        hash_key=_key(raw["hash_key"]),
        range_key=_key(raw["range_key"]) if "range_key" in raw else None,
        billing_mode=str(raw.get("billing_mode", "PAY_PER_REQUEST")),
        read_capacity=raw.get("read_capacity"),
        write_capacity=raw.get("write_capacity"),
        ttl_attribute=raw.get("ttl_attribute"),
        global_secondary_indexes=tuple(_index(i) for i in raw.get("global_secondary_indexes", [])),
        local_secondary_indexes=tuple(_index(i) for i in raw.get("local_secondary_indexes", [])),
    )
    if shape.range_key is not None and shape.range_key.name == shape.hash_key.name:
        raise check.fail("table.range_key.name", "the sort key repeats the partition key", "name another attribute")
    _check_capacity(check, raw, provisioned=shape.billing_mode == "PROVISIONED")
    types: dict[str, tuple[str, str]] = {shape.hash_key.name: (shape.hash_key.type, "table.hash_key")}
    if shape.range_key:
        types[shape.range_key.name] = (shape.range_key.type, "table.range_key")
    names: set[str] = set()
    for kind, indexes in (("global", shape.global_secondary_indexes), ("local", shape.local_secondary_indexes)):
        for number, index in enumerate(indexes):
            where = f"table.{kind}_secondary_indexes[{number}]"
            if index.name in names:
                raise check.fail(
                    f"{where}.name", f"index name {index.name!r} is used twice", "give each index its own name"
                )
            names.add(index.name)
            _check_index(check, shape, kind, index, where)
            _check_key_types(check, index, where, types)
    ttl = shape.ttl_attribute
    if ttl and ttl in types and types[ttl][0] != "N":
        raise check.fail("table.ttl_attribute", f"{ttl!r} is a {types[ttl][0]} key attribute", "TTL reads a Number")
    return shape


def _check_capacity(check: Checker, raw: dict[str, Any], provisioned: bool) -> None:
    """Read and write capacity: required with PROVISIONED billing, refused without it."""
    for which in ("read_capacity", "write_capacity"):
        if provisioned and raw.get(which) is None:
            raise check.fail(
                f"table.{which}", "PROVISIONED billing needs it", f"add {which} = 5 (or use PAY_PER_REQUEST)"
            )
        if not provisioned and raw.get(which) is not None:
            raise check.fail(
                f"table.{which}",
                "capacity is only for PROVISIONED tables",
                'remove it or set billing_mode = "PROVISIONED"',
            )


def _check_index(check: Checker, shape: TableShape, kind: str, index: SecondaryIndex, where: str) -> None:
    """One index against its table: a local index's keys, and capacity only on a PROVISIONED table's global ones."""
    if kind == "local":
        if shape.range_key is None:
            raise check.fail(where, "a local secondary index needs a table with a range_key", "add table.range_key")
        if index.hash_key != shape.hash_key:
            raise check.fail(
                f"{where}.hash_key",
                "a local secondary index shares the table's partition key",
                f'use hash_key = {{ name = "{shape.hash_key.name}", type = "{shape.hash_key.type}" }}',
            )
        if index.range_key is None:
            raise check.fail(f"{where}.range_key", "a local secondary index needs a sort key", "add range_key")
    if (index.read_capacity or index.write_capacity) and not (shape.billing_mode == "PROVISIONED" and kind == "global"):
        raise check.fail(where, "index capacity is only for a PROVISIONED table's global indexes", "remove it")


def _check_key_types(check: Checker, index: SecondaryIndex, where: str, types: dict[str, tuple[str, str]]) -> None:
    """An index's key attributes keep the type they have elsewhere; ``types`` records each one's first use."""
    for part, key in (("hash_key", index.hash_key), ("range_key", index.range_key)):
        if key is None:
            continue
        seen = types.setdefault(key.name, (key.type, f"{where}.{part}"))
        if seen[0] != key.type:
            raise check.fail(
                f"{where}.{part}.type",
                f"{key.name!r} is {key.type} here but {seen[0]} in {seen[1]}",
                "give an attribute one type everywhere",
            )


def sample_fits(check: Checker, items: list[dict[str, Any]], shape: TableShape) -> None:
    """Sample values of key attributes (table and indexes) must have the declared types, or DynamoDB refuses them."""
    for number, item in enumerate(items, 1):
        for name, type_ in shape.indexed_attributes().items():
            if name in item and next(iter(item[name])) != type_:
                raise check.fail(
                    "items.sample",
                    f"item {number} has {name!r} of type {next(iter(item[name]))}, but the table declares {type_}",
                    "fix the item or the key's type",
                )
