"""The ``throttle`` fault: ``ThrottlingException`` on one chosen operation for its next N calls.

What AWS does: when a control-plane API is called faster than its rate quota allows, the service answers HTTP
400 with error code ``ThrottlingException`` (DynamoDB: "Rate of requests exceeds the allowed throughput"; AWS
Backup: the same code). The SDKs treat it as a throttling error and retry it with backoff; botocore's
``standard`` retry mode does so transparently, up to ``max_attempts``.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Types.html (common errors)
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html

What moto does: never throttles.

What is modelled here: moto's ``BaseResponse.call_action`` (the step every service's request goes through once
its operation is known) is wrapped. When the ``throttle`` fault is on for the operation being called (its
``operation`` parameter is the API name, e.g. ``DescribeTable``, ``StartRestoreJob``), one activation is used
and the request is answered with a ``ThrottlingException`` serialised by moto's own serializer for the
service's protocol (JSON ``__type`` for DynamoDB, ``x-amzn-ErrorType`` for REST-JSON services such as AWS
Backup, an XML ``ErrorResponse`` for query services), so botocore recognises it as throttling.

A scoped switch (see :mod:`.faults`) throttles only requests about its stack's resources. The resource of a
request (:func:`request_resources`): the table of a DynamoDB request (``TableName``, ``TableArn``,
``ResourceArn``, the tables of ``RequestItems``...); for ``DescribeRestoreJob`` the job's target table ARN and
source table ARN, looked up from the ``RestoreJobId`` in the embedded AWS Backup state; for ``StartRestoreJob``
the ``Metadata`` ``targetTableName`` and the ``RecoveryPointArn``; otherwise the names and ARNs in the request's
URI labels and path (a Lambda function name, a vault name). A request naming none of them (``ListTables``)
matches only unscoped switches.

Each throttle served is counted per operation and per scope of the switch that served it
(:meth:`process_state.Switches.served`,
shown as ``"throttled"`` by ``GET /_drdrill/info[?scope=...]``), so parallel drills each read their own counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote

from moto.core.errors import COMMON_ERROR_CODES
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse

from dr_infra.targets.embedded import moto_patch
from dr_infra.targets.embedded.process_state import SWITCHES

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.responses.BaseResponse.call_action",
    "moto.core.responses.BaseResponse._get_action",
    "moto.core.responses.BaseResponse.serialized",
    "moto.core.responses.ActionResult",
    "moto.core.exceptions.ServiceException",
    "moto.core.errors.COMMON_ERROR_CODES",
    "moto.core.responses.BaseResponse.parse_parameters",
)
"""Also read per request (instance attributes ``BaseResponse`` sets): ``params`` (filled by
``parse_parameters``), ``body``, ``uri_match``, ``path``, ``region``, ``current_account``."""

MESSAGE = "Rate of requests exceeds the allowed throughput."

# request parameters that name the resource a request is about (DynamoDB, AWS Backup, Lambda)
_RESOURCE_KEYS = (
    "TableName",
    "TableArn",
    "ResourceArn",
    "SourceTableArn",
    "SourceTableName",
    "TargetTableName",
    "StreamArn",
    "BackupArn",
    "RecoveryPointArn",
    "BackupVaultName",
    "FunctionName",
)


class ThrottlingException(ServiceException):
    code = "ThrottlingException"
    message = MESSAGE


def _operation(response: BaseResponse) -> str | None:
    try:
        action = response._get_action()
    except Exception:
        return None
    return str(action) if action else None


def _params(response: BaseResponse) -> dict[str, Any]:
    """The request's parameters: moto's parsed ``params`` (DynamoDB: ``body``), else the JSON body."""
    for candidate in (getattr(response, "params", None), getattr(response, "body", None)):
        if isinstance(candidate, dict) and candidate:
            return candidate
    raw = getattr(response, "body", None)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str) or not raw.strip().startswith("{"):
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _restore_job_tables(response: BaseResponse, job_id: str) -> list[str]:
    """Target and source table ARNs of an embedded AWS Backup restore job (empty if unknown)."""
    from dr_infra.targets.embedded import backup  # backup imports faults, not this module: no cycle

    try:
        job = backup.describe_restore_job(
            backup.backend_for(str(response.current_account), str(response.region)), job_id
        )
    except Exception:
        return []
    return [job.target_table_arn, job.recovery_point.resource_arn]


def request_resources(response: BaseResponse, operation: str) -> list[str] | None:
    """The names / ARNs the request is about, or ``None`` when none can be determined."""
    found: list[str] = []
    params = _params(response)
    uri = {str(k): unquote(str(v)) for k, v in (getattr(response, "uri_match", None) or {}).items() if v}
    if operation == "DescribeRestoreJob":
        job_id = uri.get("restoreJobId") or params.get("RestoreJobId")
        if isinstance(job_id, str) and job_id:
            found += _restore_job_tables(response, job_id)
    metadata = params.get("Metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("targetTableName"), str):
        found.append(metadata["targetTableName"])
    found += [str(params[key]) for key in _RESOURCE_KEYS if isinstance(params.get(key), str) and params[key]]
    items = params.get("RequestItems")
    if isinstance(items, dict):
        found += [str(table) for table in items]
    found += list(uri.values())
    path = getattr(response, "path", None)
    if isinstance(path, str) and path.strip("/"):
        found.append(unquote(path))
    return found or None


def _wrap_call_action(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def call_action(self: BaseResponse) -> Any:
        if SWITCHES.faults.any_on("throttle"):
            operation = _operation(self)
            taken = (
                SWITCHES.faults.take_scoped(
                    "throttle", resource=request_resources(self, operation), operation=operation
                )
                if operation
                else None
            )
            if operation and taken is not None:
                SWITCHES.count_throttle(taken[0], operation)
                status, headers, body = self.serialized(ActionResult(ThrottlingException(MESSAGE)))
                headers["status"] = str(status)
                return status, headers, body
        return original(self)

    return call_action


def install() -> None:
    """Wrap moto's action dispatch."""
    moto_patch.wrap(BaseResponse, "call_action", _wrap_call_action, by=__name__)

    def register_code() -> None:
        # ThrottlingException is one of AWS's common errors, absent from some service models (AWS Backup's): tell
        # moto's serializer so it does not warn for each throttle served
        if ThrottlingException.code not in COMMON_ERROR_CODES:
            COMMON_ERROR_CODES.append(ThrottlingException.code)

    moto_patch.once("moto.core.serialize.COMMON_ERROR_CODES", register_code, by=__name__)
