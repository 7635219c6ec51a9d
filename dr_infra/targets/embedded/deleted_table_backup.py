"""Deleting a table that has point-in-time recovery on leaves a SYSTEM backup of it, kept 35 days.

What AWS does: "If you delete a table with point-in-time recovery enabled, a system backup is automatically
created and is retained for 35 days (at no additional cost)"; DynamoDB lists it with ``BackupType: SYSTEM``
(ListBackups ``BackupType=SYSTEM`` or ``ALL``) and it restores like any backup (RestoreTableFromBackup).
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListBackups.html

What moto 5.2.5 does instead: nothing is kept; the deleted table's data is gone except through drdrill's PITR
history (:mod:`history`).

What is modelled here (reading the table's ``continuous_backups``, a moto ``Table`` instance attribute): moto's
DeleteTable handler, when the table has PITR enabled, stores a moto DynamoDB
backup of it taken just before the deletion, named ``NAME$DeletedTableBackup``, type ``SYSTEM``. Its 35-day
expiry is not modelled (no drill lasts that long); it is deleted like any backup with DeleteBackup.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.dynamodb.models.table import Backup
from moto.dynamodb.responses import DynamoHandler

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.table.Backup",
    "moto.dynamodb.responses.DynamoHandler.delete_table",
    "moto.dynamodb.responses.DynamoHandler.dynamodb_backend",
)

SUFFIX = "$DeletedTableBackup"


def _pitr_on(table: Any) -> bool:
    description = (getattr(table, "continuous_backups", None) or {}).get("PointInTimeRecoveryDescription", {})
    return bool(description.get("PointInTimeRecoveryStatus") == "ENABLED")


def _wrap(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @wraps(original)
    def delete_table(self: DynamoHandler) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        backend = self.dynamodb_backend
        table = backend.tables.get(str(body.get("TableName") or "").split(":table/")[-1])
        system = None
        if table is not None and _pitr_on(table):
            system = Backup(backend.account_id, backend.region_name, f"{table.name}{SUFFIX}", table, type_="SYSTEM")
        result = original(self)  # refusals (in use, deletion protection, not found) raise before anything is kept
        if system is not None:
            backend.backups[system.arn] = system
        return result

    return delete_table


_installed = False


def install() -> None:
    """Wrap moto's DeleteTable handler (idempotent)."""
    global _installed
    if _installed:
        return
    DynamoHandler.delete_table = _wrap(DynamoHandler.delete_table)  # type: ignore[method-assign,assignment]
    _installed = True
