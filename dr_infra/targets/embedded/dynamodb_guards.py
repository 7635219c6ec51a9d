"""DynamoDB requests AWS refuses that moto 5.2.5 accepts: table names, recovery periods, managed backups.

What AWS does:

* A table name is 3 to 255 characters of ``a-z A-Z 0-9 _ . -`` (CreateTable ``TableName``,
  RestoreTableToPointInTime ``TargetTableName``); anything else is ``ValidationException`` "1 validation error
  detected: Value '...' at 'tableName' failed to satisfy constraint: ...".
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html#DDB-CreateTable-request-TableName
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-naming-rules
* ``PointInTimeRecoverySpecification.RecoveryPeriodInDays`` is 1 to 35 (the SDK checks only the minimum;
  DynamoDB refuses 36 with ``ValidationException``).
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoverySpecification.html
* A backup AWS Backup made and manages (DynamoDB lists it with ``BackupType: AWS_BACKUP``) can be deleted only
  from its backup vault, not with DynamoDB's DeleteBackup; and a table cannot be deleted while AWS Backup is
  backing it up (``ResourceInUseException``).
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/UsageNotesAWS.html
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GettingStartedBackupsAWS.html

What moto 5.2.5 does instead: creates a table named ``bad name!*``, stores RecoveryPeriodInDays 36, deletes an
AWS_BACKUP backup (the recovery point stays COMPLETED yet cannot be restored), and deletes a table mid-backup.

What is modelled here: each check runs in moto's request handler before the operation, so nothing changes
when a request is refused. DeleteBackup of a managed backup is ``ValidationException`` naming the vault and
DeleteRecoveryPoint (the documented behaviour is the refusal; AWS's exact code there is not documented).
AWS Backup's own deletions (DeleteRecoveryPoint, lifecycle) remove the DynamoDB backup as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import ResourceInUseException
from moto.dynamodb.responses import DynamoHandler

from dr_infra.targets.embedded import backup_jobs, history, moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.responses.DynamoHandler.create_table",
    "moto.dynamodb.responses.DynamoHandler.delete_table",
    "moto.dynamodb.responses.DynamoHandler.delete_backup",
    "moto.dynamodb.responses.DynamoHandler.update_continuous_backups",
    "moto.dynamodb.responses.DynamoHandler.restore_table_to_point_in_time",
    "moto.dynamodb.responses.DynamoHandler.dynamodb_backend",
    "moto.dynamodb.exceptions.ResourceInUseException",
)

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
MAX_RECOVERY_DAYS = 35


class ValidationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_PREFIX + "ValidationException", message)


def check_table_name(name: Any, member: str = "tableName") -> None:
    """DynamoDB's naming rule, with its "1 validation error detected" message."""
    if not isinstance(name, str) or not TABLE_NAME.match(name):
        value = name if isinstance(name, str) else repr(name)
        if isinstance(name, str) and not 3 <= len(name) <= 255:
            constraint = "Member must have length between 3 and 255"
        else:
            constraint = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        )


def check_recovery_period(spec: Any) -> None:
    days = spec.get("RecoveryPeriodInDays") if isinstance(spec, dict) else None
    if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_RECOVERY_DAYS):
        raise ValidationException(
            f"1 validation error detected: Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays'"
            f" failed to satisfy constraint: Member must have value less than or equal to {MAX_RECOVERY_DAYS}"
            if isinstance(days, int) and days > MAX_RECOVERY_DAYS
            else f"1 validation error detected: Value '{days}' at "
            "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )


def check_delete_backup(backup_arn: Any) -> None:
    point = backup_jobs.managed_snapshot(str(backup_arn or ""))
    if point is not None:
        raise ValidationException(
            f"Backup {backup_arn} is managed by AWS Backup (recovery point {point.arn}): delete it from backup vault "
            f"{point.vault_name} with AWS Backup's DeleteRecoveryPoint"
        )


def check_delete_table(handler: DynamoHandler, name: Any) -> None:
    table = handler.dynamodb_backend.tables.get(str(name or "").split(":table/")[-1])
    if table is None:
        return  # moto raises ResourceNotFoundException itself
    job = backup_jobs.backup_in_progress(table.table_arn, history.now())
    if job is not None:
        raise ResourceInUseException(
            f"Table {table.name} cannot be deleted while AWS Backup job {job.job_id} is backing it up"
        )


Check = Callable[[DynamoHandler, dict[str, Any]], None]

CHECKS: dict[str, Check] = {
    "create_table": lambda h, body: check_table_name(body.get("TableName")),
    "restore_table_to_point_in_time": lambda h, body: check_table_name(body.get("TargetTableName"), "targetTableName"),
    "update_continuous_backups": lambda h, body: check_recovery_period(body.get("PointInTimeRecoverySpecification")),
    "delete_backup": lambda h, body: check_delete_backup(body.get("BackupArn")),
    "delete_table": lambda h, body: check_delete_table(h, body.get("TableName")),
}


def _guarded(original: Callable[[DynamoHandler], Any], check: Check) -> Callable[[DynamoHandler], Any]:
    def handler(self: DynamoHandler) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        check(self, body)
        return original(self)

    handler.__name__ = original.__name__
    return handler


def install() -> None:
    """Put each check in front of its moto handler (after :mod:`pitr` replaced its handler)."""
    for name, check in CHECKS.items():
        moto_patch.wrap(DynamoHandler, name, functools.partial(_guarded, check=check), by=__name__)
