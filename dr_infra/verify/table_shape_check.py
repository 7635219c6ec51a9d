"""Does the restored table have the protected table's shape: its key schema and its secondary indexes?

Equal items in a table with another key or without its indexes are not a recovery: the application's queries on
an index would fail. DynamoDB restores (from a backup or to a point in time) recreate the key schema and, unless
overridden, the local and global secondary indexes; they do not restore TTL, streams or point-in-time recovery
settings (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CreateBackup.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html), so TTL is
reported and not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dr_infra.stack.table_shape import SecondaryIndex, TableShape

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _types(table: Mapping[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])}


def _index_differences(kind: str, wanted: tuple[SecondaryIndex, ...], actual: list[dict[str, Any]]) -> list[str]:
    problems = []
    found = {i["IndexName"]: i for i in actual}
    for index in wanted:
        got = found.pop(index.name, None)
        if got is None:
            problems.append(f"{kind} index {index.name} is missing")
            continue
        if got.get("KeySchema") != index.key_schema():
            wanted_keys = index.key_schema()
            problems.append(f"{kind} index {index.name} has key schema {got.get('KeySchema')}, not {wanted_keys}")
        want_projection = index.projection_spec()
        projection = got.get("Projection") or {}
        if projection.get("ProjectionType") != want_projection["ProjectionType"] or sorted(
            projection.get("NonKeyAttributes") or []
        ) != sorted(want_projection.get("NonKeyAttributes") or []):
            problems.append(f"{kind} index {index.name} projects {projection}, not {want_projection}")
    problems += [f"{kind} index {name} is not in the definition" for name in sorted(found)]
    return problems


def shape_differences(table: Mapping[str, Any], shape: TableShape) -> list[str]:
    """Every way DescribeTable's ``table`` differs from ``shape`` in keys and indexes (empty: the same shape)."""
    problems = []
    if table.get("KeySchema") != shape.key_schema():
        problems.append(f"key schema {table.get('KeySchema')}, not {shape.key_schema()}")
    types = _types(table)
    for name, type_ in shape.indexed_attributes().items():
        if types.get(name) != type_:
            problems.append(f"attribute {name} is {types.get(name) or 'undefined'}, not {type_}")
    problems += _index_differences("global", shape.global_secondary_indexes, table.get("GlobalSecondaryIndexes", []))
    problems += _index_differences("local", shape.local_secondary_indexes, table.get("LocalSecondaryIndexes", []))
    return problems


def check_restored_shape(ddb: DynamoDBClient, table_name: str, shape: TableShape) -> dict[str, Any]:
    """The journal's ``restored_shape`` record: the restored table's keys and indexes against the definition."""
    table = ddb.describe_table(TableName=table_name)["Table"]
    problems = shape_differences(table, shape)
    return {
        "table": table_name,
        "matches": not problems,
        "differences": problems,
        "key_schema": table.get("KeySchema"),
        "global_secondary_indexes": sorted(i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])),
        "local_secondary_indexes": sorted(i["IndexName"] for i in table.get("LocalSecondaryIndexes", [])),
        "ttl_note": "TTL is not restored by DynamoDB; set it again on the restored table"
        if shape.ttl_attribute
        else None,
    }
