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
backup of it taken just before the deletion, named ``NAME$DeletedTableBackup``, type ``SYSTEM``; it is deleted
like any backup with DeleteBackup. It expires (is gone: ListBackups no longer lists it, DescribeBackup and
RestoreTableFromBackup answer ``BackupNotFoundException``) once it is 35 days old, counted in plan time: at the
profile's plan-clock rate (wall time on ``instant``, 1/scale faster under ``aws-scaled``, as every AWS Backup
plan clock runs, :mod:`backup_schedule`), and a plan clock moved forward ages the SYSTEM backups of the tables
its selections name (:func:`age`, called by ``backup_schedule.advance``) as it ages their recovery points.
Expiry is worked out when DynamoDB's backup operations are served, so no timer runs. DescribeBackup and
ListBackups show it as ``BackupExpiryDateTime`` ("this SYSTEM on-demand backup expires automatically 35 days
after its creation",
https://docs.amazonaws.cn/amazondynamodb/latest/APIReference/API_BackupDetails.html): the moment it expires
here (creation + 35 days at the plan-clock rate: creation + 35 days on ``instant``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Backup
from moto.dynamodb.responses import DynamoHandler

from dr_infra.targets.embedded import history, moto_patch, process_state

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.table.Backup",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.responses.DynamoHandler.delete_table",
    "moto.dynamodb.responses.DynamoHandler.list_backups",
    "moto.dynamodb.responses.DynamoHandler.describe_backup",
    "moto.dynamodb.responses.DynamoHandler.restore_table_from_backup",
    "moto.dynamodb.responses.DynamoHandler.delete_backup",
    "moto.dynamodb.responses.DynamoHandler.dynamodb_backend",
)

SUFFIX = "$DeletedTableBackup"
RETENTION_DAYS = 35
SECONDS_PER_DAY = 86400.0
EXPIRY_CHECKED = ("list_backups", "describe_backup", "restore_table_from_backup", "delete_backup")
"""DynamoDB operations that see a SYSTEM backup: each drops the expired ones first."""


class SystemBackup(Backup):
    """moto's Backup with AWS's ``BackupExpiryDateTime`` (moto leaves it out)."""

    def _expiry(self) -> datetime:
        lifetime = RETENTION_DAYS * SECONDS_PER_DAY * process_state.current_settings().plan_time_scale
        return datetime.fromtimestamp(_created(self) + lifetime, UTC)

    @property
    def details(self) -> dict[str, Any]:
        return {**super().details, "BackupExpiryDateTime": self._expiry()}

    @property
    def summary(self) -> dict[str, Any]:
        return {**super().summary, "BackupExpiryDateTime": self._expiry()}


def _created(backup: Backup) -> float:
    moment = backup.creation_date_time
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _system(backend: DynamoDBBackend) -> list[Backup]:
    return [b for b in list(backend.backups.values()) if b.type == "SYSTEM" and b.name.endswith(SUFFIX)]


def expire(backend: DynamoDBBackend, now: float | None = None) -> list[str]:
    """Delete the SYSTEM backups of ``backend`` that are 35 days old in plan time; their ARNs."""
    at = history.now() if now is None else now
    lifetime = RETENTION_DAYS * SECONDS_PER_DAY * process_state.current_settings().plan_time_scale
    gone = [b.arn for b in _system(backend) if at - _created(b) >= lifetime]
    for arn in gone:
        backend.backups.pop(arn, None)
    return gone


def age(account: str, region: str, covers: Callable[[str], bool], seconds: float, done: set[str]) -> None:
    """Date the SYSTEM backups of the tables ``covers`` names (by table ARN) ``seconds`` of wall time earlier:
    a plan clock moved forward ages them with the plan's recovery points. ``done``: ARNs already aged by this
    advance (a table two plans select ages once), updated."""
    backend = dynamodb_backends[account][region]
    for backup in _system(backend):
        if backup.arn not in done and covers(backup.table.table_arn):
            done.add(backup.arn)
            backup.creation_date_time = datetime.fromtimestamp(_created(backup), UTC) - timedelta(seconds=seconds)


def _expiring(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @wraps(original)
    def handler(self: DynamoHandler) -> Any:
        expire(self.dynamodb_backend)
        return original(self)

    return handler


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
            system = SystemBackup(
                backend.account_id, backend.region_name, f"{table.name}{SUFFIX}", table, type_="SYSTEM"
            )
        result = original(self)  # refusals (in use, deletion protection, not found) raise before anything is kept
        if system is not None:
            backend.backups[system.arn] = system
        return result

    return delete_table


def install() -> None:
    """Wrap moto's DeleteTable handler and the backup handlers that see SYSTEM backups."""
    moto_patch.wrap(DynamoHandler, "delete_table", _wrap, by=__name__)
    for name in EXPIRY_CHECKED:
        moto_patch.wrap(DynamoHandler, name, _expiring, by=__name__)
