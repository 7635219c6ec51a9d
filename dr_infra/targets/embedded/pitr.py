"""Point-in-time recovery that really travels in time.

What AWS does (RestoreTableToPointInTime, DescribeContinuousBackups):
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html

* ``RestoreTableToPointInTime`` creates a new table holding the source table's items as they were at
  ``RestoreDateTime`` (or at ``LatestRestorableDateTime`` with ``UseLatestRestorableTime``). The source is
  named by ``SourceTableName`` or ``SourceTableArn``. The new table is ``CREATING`` (``RestoreInProgress``)
  until the data is in, then ``ACTIVE``; it has no stream, PITR, TTL or tags. Errors:
  ``PointInTimeRecoveryUnavailableException`` if PITR is not enabled on the source,
  ``InvalidRestoreTimeException`` if the time is outside [``EarliestRestorableDateTime``,
  ``LatestRestorableDateTime``], ``TableAlreadyExistsException`` if the target exists,
  ``TableNotFoundException`` if the source does not (the botocore model of RestoreTableToPointInTime has no
  ``SourceTableNotFoundException``; moto raises one), ``LimitExceededException`` when the account
  already has 50 restores in flight (point-in-time and AWS Backup restores share that quota:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-backup-restore).
* ``DescribeContinuousBackups`` reports ``EarliestRestorableDateTime`` (when PITR was enabled, or the start of
  the recovery period) and ``LatestRestorableDateTime``, which trails the current time (typically by 5
  minutes).

What moto 5.2.5 does instead: the restore ignores the time and copies today's items, accepts PITR-off tables
and any time, and ``LatestRestorableDateTime`` never moves.

What is modelled here: the history of :mod:`history` is rebuilt at the requested time (the state after every
change made at or before it; the client sends times with millisecond precision). ``LatestRestorableDateTime``
is now minus ``EmbeddedSettings.pitr_lag`` (never before ``Earliest``). The new table is a
:class:`~dr_infra.targets.embedded.restored.RestoringTable`, ``CREATING`` for
``EmbeddedSettings.restore_seconds``. ``BillingModeOverride`` is honoured; index, throughput and SSE
overrides are accepted and ignored (the source's indexes and throughput are kept).

Deleted tables (AWS: "you can restore a deleted table to a point in time within its recovery period", named by
``SourceTableArn``; its ``LatestRestorableDateTime`` is the deletion time): a table deleted with PITR on keeps
its history (:func:`history.deleted`, bounded by the recovery period as before). ``SourceTableArn`` resolves to
the live table of that name when one exists with that ARN, else to the deleted table's history, restorable in
[``EarliestRestorableDateTime``, deletion time]; ``UseLatestRestorableTime`` restores the state at deletion.
``SourceTableName`` of a deleted table is ``TableNotFoundException``, as on AWS. A table created again
under the same name has the same ARN: the live table wins, as only the newest deletion of an ARN is kept.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import TableAlreadyExistsException, TableNotFoundException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from dr_infra.targets.embedded import backup, history, moto_patch, process_state
from dr_infra.targets.embedded.restored import RestoringTable

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.DynamoDBBackend.update_continuous_backups",
    "moto.dynamodb.models.DynamoDBBackend.describe_continuous_backups",
    "moto.dynamodb.models.DynamoDBBackend.get_table",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.Table",
    "moto.dynamodb.responses.DynamoHandler.restore_table_to_point_in_time",
    "moto.dynamodb.responses.DynamoResult",
    "moto.dynamodb.exceptions.TableNotFoundException",
    "moto.dynamodb.exceptions.TableAlreadyExistsException",
    "moto.core.exceptions.JsonRESTError",
)

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class PointInTimeRecoveryUnavailableException(JsonRESTError):
    def __init__(self, table_name: str) -> None:
        super().__init__(
            ERROR_PREFIX + "PointInTimeRecoveryUnavailableException",
            f"Point in time recovery is not enabled for table '{table_name}'",
        )


class InvalidRestoreTimeException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_PREFIX + "InvalidRestoreTimeException", message)


class LimitExceededException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_PREFIX + "LimitExceededException", message)


class ValidationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_PREFIX + "ValidationException", message)


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def _epoch(value: Any) -> float:
    """A restore time as sent by the client (datetime from moto's parser, or epoch seconds)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return float(value.timestamp())
    if isinstance(value, int | float | str):
        return float(value)
    raise ValidationException(f"RestoreDateTime {value!r} is not a timestamp")


def window(hist: history.TableHistory, at: float | None = None) -> tuple[float, float]:
    """(EarliestRestorableDateTime, LatestRestorableDateTime) as epoch seconds."""
    at = history.now() if at is None else at
    earliest = hist.earliest(at)
    return earliest, max(earliest, at - process_state.current_settings().pitr_lag)


def _describe(table_id: history.TableId, description: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(description)
    hist = history.get(table_id)
    pitr = result.get("PointInTimeRecoveryDescription", {})
    if hist is not None and pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
        earliest, latest = window(hist)
        pitr["EarliestRestorableDateTime"] = earliest
        pitr["LatestRestorableDateTime"] = latest
        pitr["RecoveryPeriodInDays"] = hist.recovery_days
    return result


def _wrap_update(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @wraps(original)
    def update_continuous_backups(
        self: DynamoDBBackend, table_name: str, point_in_time_spec: dict[str, Any]
    ) -> dict[str, Any]:
        result = original(self, table_name, point_in_time_spec)
        table = self.get_table(table_name)
        tid = history.table_id(table)
        days = point_in_time_spec.get("RecoveryPeriodInDays")
        if point_in_time_spec["PointInTimeRecoveryEnabled"]:
            if history.get(tid) is None:
                history.start(table, int(days or history.DEFAULT_RECOVERY_DAYS))
            elif days:
                history.set_recovery_days(tid, int(days))
        else:
            history.drop(tid)
        return _describe(tid, result)

    return update_continuous_backups


def _wrap_describe(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @wraps(original)
    def describe_continuous_backups(self: DynamoDBBackend, table_name: str) -> dict[str, Any]:
        result = original(self, table_name)
        return _describe(history.table_id(self.get_table(table_name)), result)

    return describe_continuous_backups


def _resolve_source(
    backend: DynamoDBBackend, name: Any, arn: Any
) -> tuple[Table, history.TableHistory | None, float | None]:
    """(source table, its history or None when PITR is off, its deletion time or None when live).

    By name only a live table is found. By ARN the live table of that ARN, else a deleted table still within its
    recovery period (in this backend's account and region)."""
    if name:
        live = backend.tables.get(str(name))
    else:
        live = backend.tables.get(str(arn).split(":table/", 1)[-1])
        if live is not None and live.table_arn != arn:
            live = None
    if live is not None:
        return live, history.get(history.table_id(live)), None
    gone = None if name else history.deleted(str(arn))
    if gone is None or (gone.table.account_id, gone.table.region_name) != (backend.account_id, backend.region_name):
        raise TableNotFoundException(str(name or arn))
    return gone.table, gone.history, gone.deleted_at


def restore_to_point_in_time(backend: DynamoDBBackend, body: dict[str, Any]) -> RestoringTable:
    """RestoreTableToPointInTime on ``backend``; raises AWS's errors."""
    target = body.get("TargetTableName")
    if not target:
        raise ValidationException("TargetTableName is required")
    source_name = body.get("SourceTableName")
    source_arn = body.get("SourceTableArn")
    if not source_name and not source_arn:
        raise ValidationException("Either SourceTableName or SourceTableArn must be provided")
    source, hist, latest_at = _resolve_source(backend, source_name, source_arn)
    if target in backend.tables:
        raise TableAlreadyExistsException(target)
    if hist is None:
        raise PointInTimeRecoveryUnavailableException(source.name)
    earliest, latest = window(hist) if latest_at is None else (hist.earliest(history.now()), latest_at)
    if body.get("UseLatestRestorableTime"):
        if body.get("RestoreDateTime") is not None:
            raise ValidationException("Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
        restore_at = latest
    elif body.get("RestoreDateTime") is not None:
        restore_at = _epoch(body["RestoreDateTime"])
        if not earliest <= restore_at <= latest:
            raise InvalidRestoreTimeException(
                f"Invalid restore time: {_iso(restore_at)}. Restore time must be between "
                f"{_iso(earliest)} (EarliestRestorableDateTime) and {_iso(latest)} (LatestRestorableDateTime)"
            )
    else:
        raise ValidationException("Either RestoreDateTime or UseLatestRestorableTime must be specified")
    if backup.restores_in_flight(source.account_id, history.now()) >= backup.MAX_RESTORES_IN_FLIGHT:
        raise LimitExceededException(
            f"Concurrent restore limit of {backup.MAX_RESTORES_IN_FLIGHT} for this account has been reached"
        )
    items = hist.state_at(restore_at)
    restored = RestoringTable(  # type: ignore[abstract]  # moto's Table leaves CloudFormation hooks abstract
        target,
        source=source,
        items=items,
        ready_at=history.now() + process_state.current_settings().restore_seconds,
        restore_summary={"SourceTableArn": source.table_arn, "RestoreDateTime": restore_at},
        billing_mode=body.get("BillingModeOverride"),
    )
    history.drop(history.table_id(restored))
    backend.tables[target] = restored
    return restored


def _restore_table_to_point_in_time(self: DynamoHandler) -> DynamoResult:
    backend = dynamodb_backends[self.current_account][self.region]
    restored = restore_to_point_in_time(backend, dict(self.body))
    return DynamoResult(restored.describe())


def install() -> None:
    """Patch moto's continuous-backup calls and its RestoreTableToPointInTime handler."""
    moto_patch.wrap(DynamoDBBackend, "update_continuous_backups", _wrap_update, by=__name__)
    moto_patch.wrap(DynamoDBBackend, "describe_continuous_backups", _wrap_describe, by=__name__)
    moto_patch.replace(DynamoHandler, "restore_table_to_point_in_time", _restore_table_to_point_in_time, by=__name__)
