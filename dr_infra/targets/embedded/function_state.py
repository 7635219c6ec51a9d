"""Lambda function states as AWS reports them: a new function is Pending, an update is InProgress, for a while.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html; responses recorded on AWS in LocalStack's
``tests/aws/services/lambda_/test_lambda_api.snapshot.json``, ``test_lambda_code_location_zipfile``):

* CreateFunction answers ``State: Pending``, ``StateReason: "The function is being created."``,
  ``StateReasonCode: Creating`` and no ``LastUpdateStatus``; the function becomes ``Active`` later (boto3's
  ``function_active_v2`` waiter waits for it). Invoking, or updating, a Pending function fails with
  ``ResourceConflictException`` (409) "The operation cannot be performed at this time. The function is currently in
  the following state: Pending".
* UpdateFunctionConfiguration / UpdateFunctionCode set ``LastUpdateStatus: InProgress``
  (``LastUpdateStatusReasonCode``, ``LastUpdateStatusReason``) until the update is applied, then ``Successful``
  (``function_updated_v2`` waits for it); another update meanwhile fails with ``ResourceConflictException`` "The
  operation cannot be performed at this time. An update is in progress for resource: <function ARN>".
  UpdateFunctionConfiguration with a ``Role`` Lambda cannot assume (missing, or not trusting
  ``lambda.amazonaws.com``) is refused as CreateFunction refuses it, ``InvalidParameterValueException`` "The role
  defined for the function cannot be assumed by Lambda."
  (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html#API_UpdateFunctionConfiguration_Errors),
  and the function keeps its role.

* While an update is ``InProgress``, "the function continues to run with the previous code and configuration"
  until the update is applied (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html, "Function
  states during updates").

What is modelled: both transitions last :attr:`settings.EmbeddedSettings.function_pending` seconds (0.15 s on the
``instant`` profile, never zero), resolved on read. An update records the function as it was
(:class:`~dr_infra.targets.embedded.lambda_spec.FunctionSpec`); invocations of ``$LATEST`` while it is
``InProgress`` run that previous code and configuration (:func:`spec_for`, read by :mod:`lambda_runtime`), the
new one once it is ``Successful``. Not modelled: the ``Inactive`` / ``Failed`` states.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction

from dr_infra.targets.embedded import execution_role, moto_patch, process_state
from dr_infra.targets.embedded.lambda_spec import FunctionSpec
from dr_infra.targets.embedded.moto_additions import AdditionKey

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.models.LambdaBackend.create_function",
    "moto.awslambda.models.LambdaBackend.invoke",
    "moto.awslambda.models.LambdaBackend.update_function_configuration",
    "moto.awslambda.models.LambdaBackend.update_function_code",
    "moto.awslambda.models.LambdaBackend.get_function",
    "moto.awslambda.models.LambdaFunction.get_configuration",
)
"""It also reads ``LambdaFunction.function_arn`` / ``account_id`` and raises
``moto.awslambda.exceptions.InvalidParameterValueException``."""


class FunctionConflict(LambdaClientError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", f"The operation cannot be performed at this time. {message}")


@dataclass
class _Timeline:
    active_at: float
    updated_at: float = 0.0
    previous: FunctionSpec | None = None
    """The function as it was before the update in progress (what AWS keeps running meanwhile)."""


_lock = threading.Lock()
TIMELINES: AdditionKey[dict[str, _Timeline]] = AdditionKey("function_state:timelines", dict)


def _timelines() -> dict[str, _Timeline]:
    """Each function's state timeline, by unqualified ARN, beside moto's functions."""
    return process_state.MOTO_ADDITIONS[TIMELINES]


_original_create = LambdaBackend.create_function
_original_invoke = LambdaBackend.invoke
_original_update_configuration = LambdaBackend.update_function_configuration
_original_update_code = LambdaBackend.update_function_code
_original_get_configuration = LambdaFunction.get_configuration


def _unqualified(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def _timeline(arn: str) -> _Timeline | None:
    with _lock:
        return _timelines().get(_unqualified(arn))


def pending(arn: str) -> bool:
    """Whether the function is still Pending (being created)."""
    timeline = _timeline(arn)
    return timeline is not None and time.monotonic() < timeline.active_at


def updating(arn: str) -> bool:
    """Whether an update of the function is still InProgress."""
    timeline = _timeline(arn)
    return timeline is not None and time.monotonic() < timeline.updated_at


def _check_ready(fn: LambdaFunction, updating_too: bool) -> None:
    if pending(fn.function_arn):
        raise FunctionConflict("The function is currently in the following state: Pending")
    if updating_too and updating(fn.function_arn):
        raise FunctionConflict(f"An update is in progress for resource: {_unqualified(fn.function_arn)}")


def _patched_create(self: LambdaBackend, spec: dict[str, Any]) -> LambdaFunction:
    fn = _original_create(self, spec)
    with _lock:
        _timelines()[_unqualified(fn.function_arn)] = _Timeline(
            time.monotonic() + process_state.current_settings().function_pending
        )
    return fn


def _patched_invoke(self: LambdaBackend, function_name: str, qualifier: str | None, *args: Any, **kwargs: Any) -> Any:
    _check_ready(self.get_function(function_name, qualifier), updating_too=False)
    return _original_invoke(self, function_name, qualifier, *args, **kwargs)


def _updated(fn: LambdaFunction) -> None:
    """An update starts (before moto applies it): InProgress for a while, the old function kept meanwhile."""
    previous = FunctionSpec.of(fn)
    with _lock:
        timeline = _timelines().setdefault(_unqualified(fn.function_arn), _Timeline(0.0))
        timeline.updated_at = time.monotonic() + process_state.current_settings().function_pending
        timeline.previous = previous


def spec_for(fn: LambdaFunction) -> FunctionSpec:
    """What an invocation of ``fn`` runs now: the previous code and configuration while an update of ``$LATEST``
    is InProgress, otherwise the function as it is."""
    timeline = _timeline(fn.function_arn)
    if (
        timeline is not None
        and timeline.previous is not None
        and str(fn.version) == "$LATEST"
        and time.monotonic() < timeline.updated_at
    ):
        return timeline.previous
    return FunctionSpec.of(fn)


def _patched_update_configuration(
    self: LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    fn = self.get_function(function_name, qualifier)
    _check_ready(fn, updating_too=True)
    role = (body or {}).get("Role")
    if role and not execution_role.lambda_may_assume(str(role), str(fn.account_id)):
        raise InvalidParameterValueException(execution_role.ROLE_NOT_ASSUMABLE)  # as CreateFunction: nothing changes
    _updated(fn)
    return _original_update_configuration(self, function_name, qualifier, body)


def _patched_update_code(
    self: LambdaBackend, function_name: str, qualifier: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    fn = self.get_function(function_name, qualifier)
    _check_ready(fn, updating_too=True)
    _updated(fn)
    return _original_update_code(self, function_name, qualifier, body)


def _patched_get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = _original_get_configuration(self, on_create)
    if pending(self.function_arn):
        config["State"] = "Pending"
        config["StateReason"] = "The function is being created."
        config["StateReasonCode"] = "Creating"
        config.pop("LastUpdateStatus", None)
    elif updating(self.function_arn):
        config["State"] = "Active"
        config["LastUpdateStatus"] = "InProgress"
        config["LastUpdateStatusReason"] = "The function is being created."
        config["LastUpdateStatusReasonCode"] = "Creating"
    return config


def install() -> None:
    """Wrap moto's function calls (after :mod:`lambda_runtime`, whose invoke this wraps)."""
    moto_patch.replace(LambdaBackend, "create_function", _patched_create, by=__name__)
    moto_patch.wrap(LambdaBackend, "invoke", _keep_original_invoke, by=__name__)
    moto_patch.replace(LambdaBackend, "update_function_configuration", _patched_update_configuration, by=__name__)
    moto_patch.replace(LambdaBackend, "update_function_code", _patched_update_code, by=__name__)
    moto_patch.replace(LambdaFunction, "get_configuration", _patched_get_configuration, by=__name__)


def _keep_original_invoke(original: Any) -> Any:
    """The wrap of ``LambdaBackend.invoke``: :func:`_patched_invoke` calls the invoke it replaced (lambda_runtime's)."""
    global _original_invoke
    _original_invoke = original
    return _patched_invoke
