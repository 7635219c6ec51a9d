"""A DynamoDB table being restored: a new table, ``CREATING`` until the restore completes, then ``ACTIVE``.

What AWS does: every DynamoDB restore (from an on-demand backup, from an AWS Backup recovery point, or to a
point in time) creates a *new* table. It stays ``CREATING`` while the data is copied
(``RestoreSummary.RestoreInProgress`` is true), then becomes ``ACTIVE``. The restored table gets the source's
key schema, attribute definitions, billing mode, provisioned throughput, and local and global secondary
indexes. It does *not* get the stream settings, the point-in-time recovery setting, the time-to-live setting,
auto scaling, IAM policies, CloudWatch alarms or tags: those have to be set again by hand.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CreateBackup.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Restore.Tutorial.html

What moto 5.2.5 does instead: its ``RestoredTable`` / ``RestoredPITTable`` are ``ACTIVE`` at once and always
copy the source's current items.

What is modelled here: :class:`RestoringTable` is a moto ``Table`` built from a source table's definition and
a given set of items. Its status is worked out when it is described: ``CREATING`` (and ``RestoreInProgress``)
until ``ready_at`` (an epoch time), ``ACTIVE`` afterwards, so no timer thread is needed. While it is
``CREATING`` reads and writes are refused as on AWS (:mod:`table_lifecycle`). "Now" is :func:`history.now`,
the clock restore jobs are judged on, which never runs backwards: a table that was described ``ACTIVE`` stays
``ACTIVE`` even when the wall clock steps back (it did, once, on a busy VM), and is ``ACTIVE`` exactly when its
restore job is ``COMPLETED``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from dr_infra.targets.embedded import history

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.table.Table",
    "moto.dynamodb.models.table.Table.describe",
    "moto.dynamodb.models.table.Table.all_items",
    "moto.dynamodb.models.dynamo_type.Item",
    "moto.dynamodb.models.dynamo_type.DynamoType",
)


class RestoringTable(Table):
    """A new table holding restored items; ``CREATING`` until ``ready_at``."""

    def __init__(
        self,
        name: str,
        source: Table,
        items: Iterable[dict[str, Any]],
        ready_at: float,
        restore_summary: dict[str, Any],
        billing_mode: str | None = None,
    ) -> None:
        mode = billing_mode or source.billing_mode or "PROVISIONED"
        throughput = None
        if mode != "PAY_PER_REQUEST":
            throughput = {
                "ReadCapacityUnits": source.throughput.get("ReadCapacityUnits", 0),
                "WriteCapacityUnits": source.throughput.get("WriteCapacityUnits", 0),
            }
        super().__init__(
            name,
            account_id=source.account_id,
            region=source.region_name,
            schema=copy.deepcopy(source.schema),
            attr=copy.deepcopy(source.attr),
            throughput=throughput,
            billing_mode=mode,
            streams=None,
            tags=[],
        )
        self.indexes = copy.deepcopy(source.indexes)
        self.global_indexes = copy.deepcopy(source.global_indexes)
        for attrs in items:
            self._load(copy.deepcopy(attrs))
        self.ready_at = ready_at
        self.restore_summary = dict(restore_summary)

    def _load(self, attrs: dict[str, Any]) -> None:
        hash_value = DynamoType(attrs[self.hash_key_attr])
        if self.range_key_attr is not None:
            range_value = DynamoType(attrs[self.range_key_attr])
            self.items[hash_value][range_value] = Item(hash_value, range_value, attrs)
        else:
            self.items[hash_value] = Item(hash_value, None, attrs)  # type: ignore[assignment]

    @property
    def restoring(self) -> bool:
        """True while the restore is still copying data."""
        return history.now() < self.ready_at

    def describe(self, base_key: str = "TableDescription") -> dict[str, Any]:
        result = super().describe(base_key=base_key)
        restoring = self.restoring
        result[base_key]["TableStatus"] = "CREATING" if restoring else "ACTIVE"
        result[base_key]["RestoreSummary"] = {**self.restore_summary, "RestoreInProgress": restoring}
        return result


def point_in_time_restores_in_flight(tables: Iterable[Table]) -> int:
    """Point-in-time restores among ``tables`` still copying data.

    Restores from an AWS Backup recovery point are counted by their restore jobs instead
    (``RestoreSummary.SourceBackupArn`` marks them), so no restore is counted twice.
    """
    return sum(
        1
        for table in tables
        if isinstance(table, RestoringTable) and table.restoring and "SourceBackupArn" not in table.restore_summary
    )


def item_attributes(table: Table) -> list[dict[str, Any]]:
    """Every item of ``table`` in DynamoDB JSON (``{"pk": {"S": "a"}, ...}``)."""
    return [item.to_json()["Attributes"] for item in table.all_items()]


def install() -> None:
    """Nothing to patch: :class:`RestoringTable` is used by :mod:`backup` and :mod:`pitr`."""
