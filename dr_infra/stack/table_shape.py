"""The protected table's shape: its keys, billing mode, TTL attribute and secondary indexes, as CreateTable takes them.

One declaration feeds provisioning (CreateTable, UpdateTimeToLive), seeding (items that fit every key of the
table and its indexes), equivalence (the full primary key) and the restored table's shape check. The rules
modelled are DynamoDB's (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html):
``AttributeDefinitions`` lists exactly the key attributes of the table and of its indexes, each with one type
(S, N or B); a local secondary index shares the table's partition key and needs a table with a sort key; a
PROVISIONED table and each of its global secondary indexes carry a ``ProvisionedThroughput``; an ``INCLUDE``
projection names its ``NonKeyAttributes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEY_TYPES = ("S", "N", "B")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")


@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute: its name and its scalar type (S, N or B)."""

    name: str
    type: str = "S"

    def definition(self) -> dict[str, str]:
        return {"AttributeName": self.name, "AttributeType": self.type}


@dataclass(frozen=True)
class SecondaryIndex:
    """A global or local secondary index (``projection``: ``ALL``, ``KEYS_ONLY`` or non-key attribute names)."""

    name: str
    hash_key: KeyAttribute
    range_key: KeyAttribute | None = None
    projection: str | tuple[str, ...] = "ALL"
    read_capacity: int | None = None
    write_capacity: int | None = None

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key.name, "KeyType": "HASH"}]
        if self.range_key is not None:
            schema.append({"AttributeName": self.range_key.name, "KeyType": "RANGE"})
        return schema

    def projection_spec(self) -> dict[str, Any]:
        if isinstance(self.projection, tuple):
            return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.projection)}
        return {"ProjectionType": self.projection}

    def create_spec(self, provisioned: bool, read: int | None, write: int | None) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "IndexName": self.name,
            "KeySchema": self.key_schema(),
            "Projection": self.projection_spec(),
        }
        if provisioned:
            spec["ProvisionedThroughput"] = {
                "ReadCapacityUnits": self.read_capacity or read or 1,
                "WriteCapacityUnits": self.write_capacity or write or 1,
            }
        return spec


@dataclass(frozen=True)
class TableShape:
    """Keys, billing, TTL and indexes of the protected table (default: the seed's ``LockId`` string key)."""

    hash_key: KeyAttribute = KeyAttribute("LockId", "S")
    range_key: KeyAttribute | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    read_capacity: int | None = None
    write_capacity: int | None = None
    ttl_attribute: str | None = None
    global_secondary_indexes: tuple[SecondaryIndex, ...] = ()
    local_secondary_indexes: tuple[SecondaryIndex, ...] = ()

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """The primary key's attribute names, partition key first: what identifies an item."""
        return (self.hash_key.name,) + ((self.range_key.name,) if self.range_key else ())

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key.name, "KeyType": "HASH"}]
        if self.range_key is not None:
            schema.append({"AttributeName": self.range_key.name, "KeyType": "RANGE"})
        return schema

    def indexed_attributes(self) -> dict[str, str]:
        """Every key attribute of the table and its indexes with its type (what AttributeDefinitions lists)."""
        found: dict[str, str] = {}
        keys = [self.hash_key, self.range_key]
        for index in self.global_secondary_indexes + self.local_secondary_indexes:
            keys += [index.hash_key, index.range_key]
        for key in keys:
            if key is not None:
                found.setdefault(key.name, key.type)
        return found

    def attribute_definitions(self) -> list[dict[str, str]]:
        return [{"AttributeName": name, "AttributeType": type_} for name, type_ in self.indexed_attributes().items()]

    def create_table_arguments(self) -> dict[str, Any]:
        """The CreateTable parameters of this shape (name, stream and tags are the provisioner's)."""
        provisioned = self.billing_mode == "PROVISIONED"
        args: dict[str, Any] = {
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": self.attribute_definitions(),
            "BillingMode": self.billing_mode,
        }
        if provisioned:
            args["ProvisionedThroughput"] = {
                "ReadCapacityUnits": self.read_capacity or 1,
                "WriteCapacityUnits": self.write_capacity or 1,
            }
        if self.global_secondary_indexes:
            args["GlobalSecondaryIndexes"] = [
                i.create_spec(provisioned, self.read_capacity, self.write_capacity)
                for i in self.global_secondary_indexes
            ]
        if self.local_secondary_indexes:
            args["LocalSecondaryIndexes"] = [i.create_spec(False, None, None) for i in self.local_secondary_indexes]
        return args

    def describe(self) -> dict[str, Any]:
        """A plain description for ``drdrill plan`` and the journal."""
        return {
            **self.create_table_arguments(),
            "TimeToLiveAttribute": self.ttl_attribute,
        }


DEFAULT_SHAPE = TableShape()
