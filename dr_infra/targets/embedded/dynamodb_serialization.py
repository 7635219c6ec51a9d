"""A DynamoDB request whose body is not a JSON object is ``SerializationException`` (HTTP 400), as on AWS.

What AWS does: DynamoDB speaks the ``awsJson1_0`` protocol; a request body that is not valid JSON, or valid
JSON that is not an object, is refused before the operation runs with HTTP 400 and ``__type``
``com.amazon.coral.service#SerializationException`` (the SDKs read the code after the ``#``). The protocol's
compliance tests require exactly that ("When the request body is not valid JSON, the response should be a 400
SerializationException"), and DynamoDB documents the error components (status, exception name, message).
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
https://github.com/smithy-lang/smithy/blob/main/smithy-aws-protocol-tests/model/restJson1/malformedRequests/malformed-request-body.smithy

What moto 5.2.5 does instead: its JSON parser reads an unparsable body as ``{"message": <body>}`` and the
operation runs on it (ListTables answers 200 with every table; other operations fail on missing members).

What is modelled here, for requests the embedded server serves: moto's ``DynamoHandler.parse_parameters``
(which fails with a traceback, an HTTP 500, on a body that is JSON but not an object) notes the problem of a
non-empty body that ``json.loads`` cannot read, or that is not a JSON object, instead of parsing it; the wrapped
``DynamoHandler.call_action`` then refuses the request with ``SerializationException`` before anything runs. An empty
body is left to moto (botocore always sends ``{}``). A member of the wrong JSON type is not checked here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import has_request_context
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.responses.DynamoHandler.call_action",
    "moto.dynamodb.responses.DynamoHandler.parse_parameters",
    "moto.core.exceptions.JsonRESTError",
)

ERROR_TYPE = "com.amazon.coral.service#SerializationException"


class SerializationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_TYPE, message)


def problem(body: object) -> str | None:
    """Why ``body`` (the request body as moto read it) is not a DynamoDB request, or ``None``."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return "The request body is not UTF-8 encoded JSON"
    if not isinstance(body, str) or not body.strip():
        return None
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        return f"The request body is not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(parsed, dict):
        return f"Unexpected value type in payload: the request body must be a JSON object, not {type(parsed).__name__}"
    return None


_PROBLEM = "_drdrill_serialization_problem"


def _wrap_parse(original: Callable[[DynamoHandler, Any], None]) -> Callable[[DynamoHandler, Any], None]:
    @wraps(original)
    def parse_parameters(self: DynamoHandler, request: Any) -> None:
        why = problem(request.data) if has_request_context() else None
        self.__dict__[_PROBLEM] = why
        if why is not None:
            self.params = {}
            return
        original(self, request)

    return parse_parameters


def _wrap(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @wraps(original)
    def call_action(self: DynamoHandler) -> Any:
        why = self.__dict__.get(_PROBLEM) or (problem(self.body) if has_request_context() else None)
        if why is not None:
            raise SerializationException(why)
        return original(self)

    return call_action


def install() -> None:
    """Wrap DynamoDB's action dispatch."""
    moto_patch.wrap(DynamoHandler, "parse_parameters", _wrap_parse, by=__name__)
    moto_patch.wrap(DynamoHandler, "call_action", _wrap, by=__name__)
