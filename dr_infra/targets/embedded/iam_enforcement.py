"""IAM enforcement, on request: moto's own switch, plus the resource each DynamoDB / AWS Backup request names.

What AWS does: every request is authorized against the caller's policies for the request's *action* and the
*resource ARN* it names. The Service Authorization Reference lists, per action, the resource types it is
authorized against (``dynamodb:DescribeTable`` / ``PutItem`` / ``RestoreTableToPointInTime``: the ``table``
ARN ``arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}``; ``backup:StartRestoreJob`` /
``DescribeRecoveryPoint``: the ``recoveryPoint`` ARN); only an action with no resource type must be granted on
``"*"``. A statement applies to a request only if its ``Resource`` matches that ARN; a request nothing allows
is implicitly denied, and an explicit ``Deny`` wins over any ``Allow``.
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html

What moto 5.2.5 does (``moto/core/authorization.py``, ``moto/iam/access_control.py``): nothing, until its
switch is thrown (``POST /moto-api/reset-auth`` with body ``0``, which sets ``moto.settings.
INITIAL_NO_AUTH_ACTION_COUNT`` and zeroes ``ActionAuthenticatorMixin.request_count``). From then on, for every
request it serves:

* Actions: enforced for every service (Allow/Deny, ``*`` wildcards; an unmatched action is refused with HTTP
  403, error code ``"403"`` for JSON-protocol services since the body is moto's XML ``AccessDenied``).
* Resources: only for services whose response class has ``_determine_resource`` (IAM, STS, SQS;
  ``BaseResponse.call_action`` asks for it). DynamoDB and AWS Backup requests are checked against resource
  ``"*"``, which no resource-scoped statement matches, so an exact least-privilege policy is refused everything.
* Conditions: not for normal actions - a statement with a ``Condition`` whose action matches is treated as an
  explicit deny (no request context is passed), which affects e.g. ``lambda:CreateEventSourceMapping``.
* Signatures: moto re-computes SigV4 and, for AWS Backup GET requests (``DescribeRestoreJob``), gets a
  different one than botocore, so those answer ``SignatureDoesNotMatch`` whatever the policy; POSTs/PUTs
  (``StartRestoreJob``) and every DynamoDB call are checked normally.
* ``iam:PassRole``: never checked (AWS Backup and Lambda do not "use" roles in moto).
* Credentials: only access keys moto's IAM issued are accepted, so the embedded target's fake admin
  credentials (and anything else in the process using them) are refused while enforcement is on.

What is modelled here: :func:`enable` throws moto's switch in the server's process (the same two assignments
``reset-auth`` makes) and, with ``resource_scoped=True`` (the default), gives moto the resource each request
names, as a ``_determine_resource`` on moto's response classes, present only while enforcement is on:

* DynamoDB (``DynamoHandler``): the table ARN from ``TableName``, ``SourceTableName`` (or the ARN itself when
  one is given there, or in ``SourceTableArn`` / ``ResourceArn``), in the request's region and account.
  Requests naming several tables (``BatchWriteItem``, ``TransactWriteItems``) stay on ``"*"``.
* AWS Backup (``BackupResponse``): the ``RecoveryPointArn`` in the request body (``StartRestoreJob``); other
  AWS Backup requests, whose ARNs travel in the URL path, stay on ``"*"``.
* DynamoDB Streams requests stay on ``"*"`` (moto's streams handler is not hooked).

:func:`disable` removes the hooks and puts moto's switch back where :func:`enable` found it; :func:`enforced`
is both, around a block. Enforcement is process-global (every request the server answers is checked), so
create what a test needs first, enforce, and always disable (``DELETE /_drdrill/iam-enforcement`` over HTTP,
``ControlClient.iam_enforced()``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import moto.settings
from moto.backup.responses import BackupResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.dynamodb.responses import DynamoHandler
from moto.utilities.utils import get_partition

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.settings.INITIAL_NO_AUTH_ACTION_COUNT",
    "moto.core.authorization.ActionAuthenticatorMixin.request_count",
    "moto.core.authorization.ActionAuthenticatorMixin._authenticate_and_authorize_normal_action",
    "moto.core.responses.BaseResponse.call_action",
    "moto.moto_api._internal.responses.MotoAPIResponse.reset_auth_response",
    "moto.iam.access_control.IAMRequest.check_action_permitted",
    "moto.dynamodb.responses.DynamoHandler",
    "moto.backup.responses.BackupResponse",
    "moto.utilities.utils.get_partition",
)
"""What this module relies on: moto's switch (the two attributes ``reset-auth`` sets), the step that asks a
response class for ``_determine_resource``, and the two response classes it is added to. The hook reads the
request's ``region``, ``current_account``, ``body`` / ``raw_body`` (instance attributes ``BaseResponse`` sets
per request)."""

HOOK = "_determine_resource"
_MISSING = object()
_HOOKED_CLASSES: tuple[type[BaseResponse], ...] = (DynamoHandler, BackupResponse)

_lock = threading.Lock()
_enabled = False
_resource_scoped = False
_previous_count: float = float("inf")
_previous_hooks: dict[type[BaseResponse], object] = {}


def _params(response: Any) -> dict[str, Any]:
    """The request's JSON parameters (DynamoDB's handler has already parsed them into ``body``)."""
    body = getattr(response, "body", None)
    if isinstance(body, dict):
        return body
    if not isinstance(body, str):
        raw = getattr(response, "raw_body", None) or b""
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    try:
        data = json.loads(body or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _table_resource(self: Any) -> str:
    """The table ARN a DynamoDB request names, or ``"*"``."""
    params = _params(self)
    for key in ("ResourceArn", "SourceTableArn"):
        if isinstance(params.get(key), str) and params[key]:
            return str(params[key])
    name = params.get("TableName") or params.get("SourceTableName")
    if not isinstance(name, str) or not name:
        return "*"
    if name.startswith("arn:"):
        return name
    return f"arn:{get_partition(self.region)}:dynamodb:{self.region}:{self.current_account}:table/{name}"


def _recovery_point_resource(self: Any) -> str:
    """The recovery point ARN an AWS Backup request carries in its body, or ``"*"``."""
    arn = _params(self).get("RecoveryPointArn")
    return str(arn) if isinstance(arn, str) and arn else "*"


_RESOURCE_HOOKS: dict[type[BaseResponse], Any] = {
    DynamoHandler: _table_resource,
    BackupResponse: _recovery_point_resource,
}


def _install_hooks() -> None:
    for cls, hook in _RESOURCE_HOOKS.items():
        if cls not in _previous_hooks:
            _previous_hooks[cls] = cls.__dict__.get(HOOK, _MISSING)
        setattr(cls, HOOK, hook)


def _remove_hooks() -> None:
    for cls, previous in list(_previous_hooks.items()):
        if previous is _MISSING:
            if HOOK in cls.__dict__:
                delattr(cls, HOOK)
        else:
            setattr(cls, HOOK, previous)
        del _previous_hooks[cls]


def enable(resource_scoped: bool = True) -> dict[str, bool]:
    """Check every request from now on; with ``resource_scoped``, against the resource it names.

    Calling it again while on switches ``resource_scoped`` and keeps what :func:`disable` restores."""
    global _enabled, _resource_scoped, _previous_count
    with _lock:
        if not _enabled:
            _previous_count = float(moto.settings.INITIAL_NO_AUTH_ACTION_COUNT)
        if resource_scoped:
            _install_hooks()
        else:
            _remove_hooks()
        moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        _enabled, _resource_scoped = True, resource_scoped
        return _state()


def disable() -> dict[str, bool]:
    """Stop checking: remove the resource hooks and restore moto's switch (idempotent)."""
    global _enabled, _resource_scoped
    with _lock:
        _remove_hooks()
        if _enabled:
            moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = _previous_count
            ActionAuthenticatorMixin.request_count = 0
        _enabled = _resource_scoped = False
        return _state()


def _state() -> dict[str, bool]:
    return {"enforced": _enabled, "resource_scoped": _enabled and _resource_scoped}


def state() -> dict[str, bool]:
    """``{"enforced": ..., "resource_scoped": ...}`` (shown by ``GET /_drdrill/info``)."""
    with _lock:
        return _state()


@contextmanager
def enforced(resource_scoped: bool = True) -> Iterator[None]:
    """:func:`enable` for the block, :func:`disable` after it, whatever happens inside."""
    try:
        enable(resource_scoped)
        yield
    finally:
        disable()


def install() -> None:
    """Nothing to install at start: the hooks exist only while enforcement is on (see :func:`enable`)."""
