"""Tables restored from a drill's table, found the way AWS shows them, whoever restored them and whatever their name.

A restored table carries no tags (DynamoDB copies none) and a monitor drdrill did not write names it as it
likes, so the only proof of its origin is DescribeTable's ``RestoreSummary.SourceTableArn``
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreSummary.html): the source is a
drill's table, created and tagged by this run, so anything restored from it was caused by the drill. A
``SourceBackupArn`` marks a restore from a backup (AWS Backup or DynamoDB's own), its absence a point-in-time
restore.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from dr_infra.report.journal import iso
from dr_infra.stack.table_delete import delete_table_when_settled

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TableDescriptionTypeDef


def _aware(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def describe_restored(ddb: DynamoDBClient, name: str) -> TableDescriptionTypeDef | None:
    """DescribeTable's ``Table`` of ``name`` if it is a restored table (it has a RestoreSummary), else ``None``."""
    try:
        table = ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return table if table.get("RestoreSummary") else None


def tables_restored_from(
    ddb: DynamoDBClient, source_arns: set[str], name_prefix: str | None = None, exclude: frozenset[str] = frozenset()
) -> dict[str, TableDescriptionTypeDef]:
    """``{name: DescribeTable Table}`` of every table whose RestoreSummary names one of ``source_arns``.

    ``name_prefix`` narrows the tables described (drdrill's own monitor names its restores after the stack);
    without it every table of the account and region is described, as a user's monitor may name them anyhow.
    """
    found: dict[str, TableDescriptionTypeDef] = {}
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page.get("TableNames", []):
            if name in exclude or (name_prefix is not None and not name.startswith(name_prefix)):
                continue
            table = describe_restored(ddb, name)
            if table is not None and table["RestoreSummary"].get("SourceTableArn") in source_arns:
                found[name] = table
    return found


def tables_restored_from_closure(
    ddb: DynamoDBClient, source_arn: str, exclude: frozenset[str] = frozenset()
) -> list[str]:
    """Tables restored from ``source_arn``, and from those (a restore of a restored table), newest generation
    first: what a drill's table caused, to delete."""
    sources: set[str] = {source_arn}
    names: list[str] = []
    while True:
        found = tables_restored_from(ddb, sources, None, exclude | frozenset(names))
        if not found:
            return list(reversed(names))
        names += list(found)
        sources = {str(t.get("TableArn")) for t in found.values()}


def summary(table: Mapping[str, Any]) -> dict[str, Any]:
    """What the journal keeps about a restored table."""
    restore = table.get("RestoreSummary") or {}
    created = _aware(table.get("CreationDateTime"))
    when = _aware(restore.get("RestoreDateTime"))
    return {
        "kind": "backup restore" if restore.get("SourceBackupArn") else "point-in-time restore",
        "status": table.get("TableStatus"),
        "created_at": iso(created),
        "restore_date_time": iso(when),
        "source_backup_arn": restore.get("SourceBackupArn"),
        "table_arn": table.get("TableArn"),
    }


DRILL_TABLE_ARN = re.compile(
    r"^arn:[^:]+:dynamodb:[^:]*:\d*:table/drdrill-(?P<run>\d{8}t\d{6}-[0-9a-f]{4})-\d+-[A-Za-z0-9_.-]{1,24}$"
)
"""The ARN of a drill's protected table (``drdrill-<run id>-<stack no>-<logical table>``, see StackNames)."""


def restored_source_run(ddb: DynamoDBClient, name: str) -> str | None:
    """The run id of the drill whose table ``name`` was restored from (any name, no tags), else ``None``."""
    table = describe_restored(ddb, name)
    if table is None:
        return None
    found = DRILL_TABLE_ARN.match(str(table["RestoreSummary"].get("SourceTableArn", "")))
    return found.group("run") if found else None


def delete_restored(ddb: DynamoDBClient, name: str) -> None:
    """DeleteTable once the restore has settled (:mod:`dr_infra.stack.table_delete`); a table gone already is fine."""
    try:
        delete_table_when_settled(ddb, name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
