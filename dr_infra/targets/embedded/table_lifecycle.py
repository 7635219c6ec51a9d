"""New DynamoDB tables are CREATING before ACTIVE, and a table that is not ACTIVE refuses what AWS refuses.

What AWS does:

* CreateTable "is an asynchronous operation. Upon receiving a CreateTable request, DynamoDB immediately
  returns a response with a TableStatus of CREATING. After the table is created, DynamoDB sets the TableStatus
  to ACTIVE. You can perform read and write operations only on an ACTIVE table." Every table has a
  ``TableId`` (a UUID). https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html
* A read or write on a table that is not ACTIVE is ``ResourceNotFoundException`` ("The resource might not be
  specified correctly, or its status might not be ACTIVE"); a control-plane change (DeleteTable, UpdateTable,
  UpdateTimeToLive) is ``ResourceInUseException``; UpdateContinuousBackups is
  ``ContinuousBackupsUnavailableException`` (backups are being enabled for the new table).
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateContinuousBackups.html
* A restored table is likewise CREATING until its data is in (:mod:`restored`).

What moto 5.2.5 does instead: CreateTable answers ACTIVE without a TableId, and every table takes writes at
once.

What is modelled here: a table created through the embedded server (a request moto's Flask app serves; moto
used in-process by ``mock_aws`` keeps its own behaviour) is CREATING for :func:`creating_seconds` (0.2 s on the
``instant`` profile; an assumed 20 s scaled on ``aws-scaled``, AWS documents no figure), worked out when it is
described, so no timer runs, on :func:`history.now` (a clock that never runs backwards: judged on the wall
clock, a table described ``ACTIVE`` could refuse the next write after an NTP step back, seen once under
``aws-scaled``; AWS never does). Restored tables (:class:`~dr_infra.targets.embedded.restored.RestoringTable`) are
not ACTIVE while ``restoring``. Every table describes a stable ``TableId``. The checks run in moto's request
handlers before the operation; the tables a request names are its ``TableName`` (name or ARN), the keys of
``RequestItems`` and the tables of ``TransactItems``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import has_request_context
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import ResourceInUseException, ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from dr_infra.targets.embedded import history, moto_patch, process_state
from dr_infra.targets.embedded.restored import RestoringTable

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.DynamoDBBackend.create_table",
    "moto.dynamodb.models.table.Table.describe",
    "moto.dynamodb.responses.DynamoHandler.dynamodb_backend",
    "moto.dynamodb.exceptions.ResourceInUseException",
    "moto.dynamodb.exceptions.ResourceNotFoundException",
)

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
INSTANT_TABLE_CREATE_SECONDS = 0.2

DATA_PLANE = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_write_item",
    "batch_get_item",
    "transact_write_items",
    "transact_get_items",
)
IN_USE = ("delete_table", "update_table", "update_time_to_live")


class ContinuousBackupsUnavailableException(JsonRESTError):
    def __init__(self, table: str) -> None:
        super().__init__(
            ERROR_PREFIX + "ContinuousBackupsUnavailableException",
            f"Backups are being enabled for the table: {table}. Please retry later",
        )


def creating_seconds() -> float:
    """How long a new table stays CREATING under the current latency profile (``table_create`` of
    :data:`settings.AWS_LATENCIES` scaled, or :data:`INSTANT_TABLE_CREATE_SECONDS`)."""
    return process_state.current_settings().aws("table_create", instant=INSTANT_TABLE_CREATE_SECONDS)


def is_active(table: Table, at: float | None = None) -> bool:
    """False while a new table is CREATING or a restored table is still being filled."""
    at = history.now() if at is None else at
    if isinstance(table, RestoringTable) and table.restoring:
        return False
    ready_at = table.__dict__.get("_drdrill_ready_at")
    return ready_at is None or at >= ready_at


def _wrap_create(original: Callable[..., Table]) -> Callable[..., Table]:
    @wraps(original)
    def create_table(self: DynamoDBBackend, name: str, *args: Any, **kwargs: Any) -> Table:
        table = original(self, name, *args, **kwargs)
        if has_request_context():  # served by the embedded server, not moto's in-process mock
            table.__dict__["_drdrill_ready_at"] = history.now() + creating_seconds()
        return table

    return create_table


def _wrap_describe(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @wraps(original)
    def describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original(self, base_key=base_key)
        description = result[base_key]
        description["TableId"] = self.__dict__.setdefault("_drdrill_table_id", str(uuid.uuid4()))
        if not is_active(self):
            description["TableStatus"] = "CREATING"
        return result

    return describe


def _tables_named(body: dict[str, Any]) -> list[str]:
    names: list[str] = []
    if isinstance(body.get("TableName"), str):
        names.append(body["TableName"])
    if isinstance(body.get("RequestItems"), dict):
        names += [str(n) for n in body["RequestItems"]]
    for item in body.get("TransactItems") or []:
        if isinstance(item, dict):
            names += [str(op["TableName"]) for op in item.values() if isinstance(op, dict) and "TableName" in op]
    return [n.split(":table/", 1)[-1] for n in names]


def _inactive(handler: DynamoHandler) -> list[str]:
    body = handler.body if isinstance(handler.body, dict) else {}
    tables = handler.dynamodb_backend.tables
    return [n for n in _tables_named(body) if n in tables and not is_active(tables[n])]


def _gate(original: Callable[[DynamoHandler], Any], refuse: Callable[[str], Exception]) -> Callable[..., Any]:
    @wraps(original)
    def handler(self: DynamoHandler) -> Any:
        inactive = _inactive(self)
        if inactive:
            raise refuse(inactive[0])
        return original(self)

    return handler


def _not_found(name: str) -> Exception:
    return ResourceNotFoundException(f"Requested resource not found: Table: {name} is not ACTIVE (CREATING)")


def _in_use(name: str) -> Exception:
    return ResourceInUseException(f"Attempt to change a resource which is still in use: Table is being created: {name}")


def install() -> None:
    """Patch table creation and description, and gate the handlers."""
    moto_patch.wrap(DynamoDBBackend, "create_table", _wrap_create, by=__name__)
    moto_patch.wrap(Table, "describe", _wrap_describe, by=__name__)
    for name in DATA_PLANE:
        moto_patch.wrap(DynamoHandler, name, lambda original: _gate(original, _not_found), by=__name__)
    for name in IN_USE:
        moto_patch.wrap(DynamoHandler, name, lambda original: _gate(original, _in_use), by=__name__)
    moto_patch.wrap(
        DynamoHandler,
        "update_continuous_backups",
        lambda original: _gate(original, ContinuousBackupsUnavailableException),
        by=__name__,
    )
