"""The event source mapping API answering as AWS does: checks, defaults, HTTP 202, asynchronous states.

What AWS does (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/api/API_DeleteEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html; responses recorded on AWS in LocalStack's
``tests/aws/services/lambda_/test_lambda_api.snapshot.json``, ``test_event_source_mapping_lifecycle``):
Create, Update and Delete answer HTTP 202. A stream mapping's configuration always carries every default:
``BatchSize`` 100, ``BisectBatchOnFunctionError`` false, ``DestinationConfig`` ``{"OnFailure": {}}``,
``FunctionResponseTypes`` [], ``MaximumBatchingWindowInSeconds`` 0, ``MaximumRecordAgeInSeconds`` -1,
``MaximumRetryAttempts`` -1, ``ParallelizationFactor`` 1, ``TumblingWindowInSeconds`` 0, plus
``LastProcessingResult`` ("No records processed" at first), ``State`` and ``StateTransitionReason`` ("User
action"); ``Tags`` are not part of it (ListTags reads them). Unknown UUIDs answer ``ResourceNotFoundException``
(404) "The resource you requested does not exist.".

A mapping of a function that does not exist is refused with HTTP 400 ``InvalidParameterValueException``
"Function does not exist" (recorded on AWS, ``test_event_source_mapping_exceptions`` ``create_unknown_params``;
moto: a 404 ``ResourceNotFoundException``), after the model's range checks and the missing event source.

What is modelled: moto's ``LambdaBackend`` mapping calls wrapped so that requests are checked first
(:mod:`esm_validation`: ranges, stream rules, duplicates, the function), stream mappings get AWS's defaults,
states follow :mod:`esm_lifecycle` (``Creating`` first, ``Deleting`` last: a deleted mapping stays in moto's
table, polling stopped, until its ``Deleting`` time is over, and is removed by the next mapping call that
finds it :func:`~esm_lifecycle.gone`), and the poller (:mod:`esm_poller`) is started, woken or stopped.
moto's create response (201) is answered 202 like AWS's.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import has_request_context
from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError, UnknownFunctionException
from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.awslambda.responses import LambdaResponse

from dr_infra.targets.embedded import esm_lifecycle, esm_poller, esm_validation, execution_role, moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.models.LambdaBackend.create_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.update_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.delete_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.get_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.list_event_source_mappings",
    "moto.awslambda.models.EventSourceMapping.get_configuration",
    "moto.awslambda.responses.LambdaResponse.create_event_source_mapping",
    "moto.awslambda.exceptions.UnknownFunctionException",
)
"""moto internals this module wraps. It also reads ``LambdaBackend._lambdas`` (to name the function) and sets
``EventSourceMapping`` attributes (``bisect_on_error``, ``destination_config``, ``function_response_types``,
``max_batch_window``, ``max_record_age``, ``max_retry_attempts``, ``parallelization_factor``,
``tumbling_window``)."""

STREAM_DEFAULTS: dict[str, Any] = {
    "bisect_on_error": False,
    "destination_config": {"OnFailure": {}},
    "function_response_types": [],
    "max_batch_window": 0,
    "max_record_age": -1,
    "max_retry_attempts": -1,
    "parallelization_factor": 1,
    "tumbling_window": 0,
}


class MappingNotFound(LambdaClientError):
    code = 404

    def __init__(self) -> None:
        super().__init__("ResourceNotFoundException", "The resource you requested does not exist.")


_original_create = LambdaBackend.create_event_source_mapping
_original_update = LambdaBackend.update_event_source_mapping
_original_delete = LambdaBackend.delete_event_source_mapping
_original_get = LambdaBackend.get_event_source_mapping
_original_list = LambdaBackend.list_event_source_mappings
_original_get_configuration = EventSourceMapping.get_configuration
_original_create_response = LambdaResponse.create_event_source_mapping


_MAPPINGS_LOCK = threading.RLock()
"""The embedded server serves requests on threads, and moto iterates its OrderedDict of mappings in Python
(ListEventSourceMappings, the duplicate check of CreateEventSourceMapping): a create or delete on another thread
meanwhile raised "OrderedDict mutated during iteration". AWS serves each call whole, so the mapping API is
serialized here."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _serialized(function: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(function)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _MAPPINGS_LOCK:
            return function(*args, **kwargs)

    return locked


def _function_arn_and_name(backend: LambdaBackend, name_or_arn: str) -> tuple[str, str]:
    function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(name_or_arn)
    return str(function.function_arn), str(function.function_name)


def _check_stream_access(backend: LambdaBackend, name_or_arn: str, stream_arn: str) -> None:
    """The function's execution role must be able to read the stream (:mod:`execution_role`), or AWS refuses.

    Only for requests the embedded server serves: moto's in-process ``mock_aws`` in the same Python process (drdrill's
    own unit tests of the Lambda package) keeps moto's behaviour, as the other gap-fillers do.
    """
    if not has_request_context():
        return
    function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(name_or_arn)
    problem = execution_role.stream_access_problem(
        str(function.role or ""), backend.account_id, backend.region_name, stream_arn
    )
    if problem is not None:
        raise InvalidParameterValueException(problem)


def _function_exists(backend: LambdaBackend, name_or_arn: str) -> bool:
    try:
        backend._lambdas.get_function_by_name_or_arn_with_qualifier(name_or_arn)
    except UnknownFunctionException:
        return False
    return True


def _purge(backend: LambdaBackend) -> None:
    """Remove the deleted mappings whose ``Deleting`` time is over."""
    for uuid in [u for u in list(backend._event_source_mappings) if esm_lifecycle.gone(u)]:
        _original_delete(backend, uuid)
        esm_lifecycle.forget(uuid)


@_serialized
def _patched_create(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    _purge(self)
    name = str(spec.get("FunctionName") or "")
    esm_validation.check_create(spec, function_exists=lambda: not name or _function_exists(self, name))
    arn = str(spec["EventSourceArn"])
    stream = esm_validation.is_dynamodb_stream(arn)
    if stream and spec.get("FunctionName"):
        function_arn, function_name = _function_arn_and_name(self, str(spec["FunctionName"]))
        esm_validation.check_duplicate(self._event_source_mappings.values(), arn, function_arn, function_name)
        _check_stream_access(self, str(spec["FunctionName"]), arn)
    esm = _original_create(self, spec)
    if stream:
        for attribute, default in STREAM_DEFAULTS.items():
            if getattr(esm, attribute, None) is None:
                setattr(esm, attribute, json.loads(json.dumps(default)))
    esm_lifecycle.created(esm.uuid, bool(esm.enabled))
    esm_poller.start(esm)
    return esm


@_serialized
def _patched_update(self: LambdaBackend, uuid: str, spec: dict[str, Any]) -> EventSourceMapping | None:
    _purge(self)
    esm = self._event_source_mappings.get(uuid)
    if esm is None:
        raise MappingNotFound()
    esm_validation.check_update(spec, esm.event_source_arn)
    esm_lifecycle.check_settled(uuid)
    updated = _original_update(self, uuid, spec)
    enabled = spec.get("Enabled")
    esm_lifecycle.updated(uuid, bool(enabled) if enabled is not None else None)
    esm_poller.wake()
    return updated


@_serialized
def _patched_delete(self: LambdaBackend, uuid: str) -> EventSourceMapping | None:
    _purge(self)
    esm = self._event_source_mappings.get(uuid)
    if esm is None:
        raise MappingNotFound()
    esm_lifecycle.deleting(uuid)  # ResourceInUseException while it is still changing (or already Deleting)
    esm_poller.stop(uuid)
    return esm


@_serialized
def _patched_get(self: LambdaBackend, uuid: str) -> EventSourceMapping | None:
    _purge(self)
    return _original_get(self, uuid)


@_serialized
def _patched_list(self: LambdaBackend, event_source_arn: str, function_name: str) -> Any:
    _purge(self)
    return _original_list(self, event_source_arn, function_name)


def _patched_get_configuration(self: EventSourceMapping) -> dict[str, Any]:
    config: dict[str, Any] = _original_get_configuration(self)
    config.pop("Tags", None)
    state = esm_lifecycle.state(self.uuid)
    if state is not None:
        config["State"] = state
    config["StateTransitionReason"] = esm_lifecycle.USER_ACTION
    config["LastProcessingResult"] = esm_poller.last_processing_result(self.uuid)
    return config


def _patched_create_response(self: LambdaResponse) -> Any:
    status, headers, body = _original_create_response(self)
    if status == 201:
        headers = {**headers, "status": 202}
        status = 202
    return status, headers, body


def install() -> None:
    """Wrap moto's mapping API."""
    moto_patch.replace(LambdaBackend, "create_event_source_mapping", _patched_create, by=__name__)
    moto_patch.replace(LambdaBackend, "update_event_source_mapping", _patched_update, by=__name__)
    moto_patch.replace(LambdaBackend, "delete_event_source_mapping", _patched_delete, by=__name__)
    moto_patch.replace(LambdaBackend, "get_event_source_mapping", _patched_get, by=__name__)
    moto_patch.replace(LambdaBackend, "list_event_source_mappings", _patched_list, by=__name__)
    moto_patch.replace(EventSourceMapping, "get_configuration", _patched_get_configuration, by=__name__)
    moto_patch.replace(LambdaResponse, "create_event_source_mapping", _patched_create_response, by=__name__)
