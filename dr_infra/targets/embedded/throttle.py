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
Backup, an XML ``ErrorResponse`` for query services), so botocore recognises it as throttling. Each throttle
served is counted per operation (:func:`served`, shown as ``"throttled"`` by ``GET /_drdrill/info``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.core.errors import COMMON_ERROR_CODES
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse

from dr_infra.targets.embedded.faults import FAULTS

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.responses.BaseResponse.call_action",
    "moto.core.responses.BaseResponse._get_action",
    "moto.core.responses.BaseResponse.serialized",
    "moto.core.responses.ActionResult",
    "moto.core.exceptions.ServiceException",
    "moto.core.errors.COMMON_ERROR_CODES",
)

MESSAGE = "Rate of requests exceeds the allowed throughput."

_counts: Counter[str] = Counter()
_lock = threading.Lock()
_installed = False


class ThrottlingException(ServiceException):
    code = "ThrottlingException"
    message = MESSAGE


def served() -> dict[str, int]:
    """How many throttles were served, per operation, since the last :func:`reset_counts`."""
    with _lock:
        return dict(_counts)


def reset_counts() -> None:
    """Forget the counts (done with the fault switches, at the end of each scenario)."""
    with _lock:
        _counts.clear()


def _operation(response: BaseResponse) -> str | None:
    try:
        action = response._get_action()
    except Exception:
        return None
    return str(action) if action else None


def _wrap_call_action(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def call_action(self: BaseResponse) -> Any:
        if FAULTS.peek("throttle") is not None:
            operation = _operation(self)
            if operation and FAULTS.take("throttle", operation=operation) is not None:
                with _lock:
                    _counts[operation] += 1
                status, headers, body = self.serialized(ActionResult(ThrottlingException(MESSAGE)))
                headers["status"] = str(status)
                return status, headers, body
        return original(self)

    return call_action


def install() -> None:
    """Wrap moto's action dispatch (idempotent)."""
    global _installed
    if _installed:
        return
    BaseResponse.call_action = _wrap_call_action(BaseResponse.call_action)  # type: ignore[method-assign]
    # ThrottlingException is one of AWS's common errors, absent from some service models (AWS Backup's): tell
    # moto's serializer so it does not warn for each throttle served
    if ThrottlingException.code not in COMMON_ERROR_CODES:
        COMMON_ERROR_CODES.append(ThrottlingException.code)
    _installed = True
