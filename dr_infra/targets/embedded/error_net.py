"""No request to the embedded server ends in an HTTP 500 and a traceback: AWS-shaped errors for what moto drops.

What AWS does: a request naming an operation the endpoint does not know is answered HTTP 400
``UnknownOperationException``; a request missing a required member, or with a member of the wrong type, is
HTTP 400 ``ValidationException`` ("1 validation error detected: Value null at 'member' failed to satisfy
constraint: Member must not be null") or ``SerializationException``. Both are common errors of every JSON
service, with the error code in ``__type`` / ``x-amzn-ErrorType`` and a ``message``.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Types.html (common errors)

What moto 5.2.5 does instead: an operation it has not implemented raises ``NotImplementedError``, and a
missing member often a ``KeyError`` or ``TypeError`` deep in a handler: Werkzeug prints a traceback and the
client gets an HTML "500 Internal Server Error", which botocore then retries as a server fault.

What is modelled here: moto's ``BaseResponse.call_action`` (every service's request passes it) is wrapped,
outermost, for requests the embedded server serves (moto used in-process by ``mock_aws`` keeps its own
behaviour). ``NotImplementedError`` becomes ``UnknownOperationException`` saying the operation is not modelled
by the embedded target; a ``KeyError`` becomes the ``ValidationException`` AWS gives for the missing member;
any other unexpected exception a ``ValidationException`` naming it (a drdrill bug shows up as a clear 400 with
its cause, not as retried 500s). Errors moto and the gap-fillers raise on purpose are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import has_request_context
from moto.core.errors import COMMON_ERROR_CODES
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.responses.BaseResponse.call_action",
    "moto.core.responses.BaseResponse._get_action",
    "moto.core.responses.BaseResponse.serialized",
    "moto.core.responses.ActionResult",
    "moto.core.exceptions.ServiceException",
    "moto.core.errors.COMMON_ERROR_CODES",
)


SERVICE_PREFIXES = {"awslambda": "lambda"}
"""moto's service names that differ from AWS's service prefix (the one IAM actions and messages use)."""


class UnknownOperationException(ServiceException):
    code = "UnknownOperationException"


class ValidationException(ServiceException):
    code = "ValidationException"


def _member(name: str) -> str:
    """AWS names members in lowerCamelCase in validation messages (``PointInTimeRecoverySpecification`` ->
    ``pointInTimeRecoverySpecification``)."""
    return name[:1].lower() + name[1:]


def translate(operation: str, service: str, exc: BaseException) -> ServiceException:
    """The AWS error a client should have got instead of ``exc``."""
    service = SERVICE_PREFIXES.get(service, service)
    if isinstance(exc, NotImplementedError):
        return UnknownOperationException(
            f"{service}:{operation or 'this operation'} is not modelled by drdrill's embedded target (moto 5.2.5 "
            "does not implement it); run it against LocalStack or AWS"
        )
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        return ValidationException(
            f"1 validation error detected: Value null at '{_member(exc.args[0])}' failed to satisfy constraint: "
            "Member must not be null"
        )
    return ValidationException(
        f"The embedded target could not process this {operation or 'request'} ({type(exc).__name__}: {exc}); "
        "check the request's members against the API reference"
    )


def _wrap_call_action(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def call_action(self: BaseResponse) -> Any:
        try:
            return original(self)
        except ServiceException:
            raise
        except Exception as exc:
            if not has_request_context() or _is_moto_error(exc):
                raise
            try:
                operation = str(self._get_action() or "")
            except Exception:
                operation = ""
            status, headers, body = self.serialized(
                ActionResult(translate(operation, str(getattr(self, "service_name", "") or ""), exc))
            )
            headers["status"] = str(status)
            return status, headers, body

    return call_action


def _is_moto_error(exc: BaseException) -> bool:
    """Errors moto serialises itself (RESTError / JsonRESTError, werkzeug HTTPExceptions)."""
    return (hasattr(exc, "code") and hasattr(exc, "description")) or type(exc).__module__.startswith("werkzeug")


def install() -> None:
    """Wrap moto's action dispatch, outermost (the last gap-filler installed)."""
    moto_patch.wrap(BaseResponse, "call_action", _wrap_call_action, by=__name__)

    def register_codes() -> None:
        for code in (UnknownOperationException.code, ValidationException.code):
            if code not in COMMON_ERROR_CODES:
                COMMON_ERROR_CODES.append(code)

    moto_patch.once("moto.core.serialize.COMMON_ERROR_CODES", register_codes, by=__name__)
