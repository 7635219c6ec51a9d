"""Credentials mean something: every request signed with credentials the target issued is authorized by IAM.

What AWS does (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html,
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors,
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html#API_StartRestoreJob_Errors):
each request is authorized for every permission the call needs (the action on the resource ARN it names, plus
e.g. ``iam:PassRole`` for a role it passes) against the caller's identity policies. A refusal is
``AccessDeniedException`` for JSON services (DynamoDB and CloudWatch Logs: HTTP 400; Lambda and AWS Backup:
HTTP 403) and ``AccessDenied`` (HTTP 403, XML) for IAM, STS and every other query-protocol service (CloudFormation,
...; SNS: ``AuthorizationError``), with the message ``User: <caller ARN> is not
authorized to perform: <action> on resource: <ARN> because no identity-based policy allows the <action>
action`` (``... with an explicit deny in an identity-based policy`` when a Deny matched).

What is modelled: ``ActionAuthenticatorMixin._authenticate_and_authorize_normal_action`` (which moto's
``BaseResponse.call_action`` calls before every action of every service but S3) is replaced:

* The signer comes from :mod:`principals`. A key the target did not issue acts as the account's root:
  allowed (users' own tools and drdrill's set-up sign with such keys). In *strict* mode (``POST
  /_drdrill/iam-enforcement``, ``ControlClient.iam_enforced()``) such a key is refused as AWS refuses an
  unknown key (``UnrecognizedClientException`` / ``InvalidClientTokenId``).
* Keys the target issued (IAM users' access keys, ``AssumeRole`` / function execution-role credentials) are
  authorized for each permission :func:`dr_infra.targets.iam_calls.permissions_for_call` lists for the call
  (a call it does not map is checked as its action on ``"*"``, so only a ``*`` grant allows it), by
  :func:`dr_infra.targets.iam_evaluator.evaluate` over the principal's inline and attached managed policies
  (and its groups'; a role's permissions boundary and a session policy must allow too, and a refusal names
  the policy type that refused: "because no permissions boundary allows ...").
  Condition keys supplied: ``aws:PrincipalArn``,
  ``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:RequestedRegion``, ``aws:SecureTransport``
  (``false``), ``aws:username`` for users, the call's own keys (``iam:PassedToService``,
  ``lambda:FunctionArn``), and ``aws:ResourceTag/<key>`` of a recovery point from the tags it carries
  (:func:`backup_tags.tags_of`; a tag it lacks is absent, so ``StringEquals`` on it fails as on AWS,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html); a statement needing
  another key is undecidable, so the request is refused.
  ``sts:GetCallerIdentity`` needs no permission, as on AWS.
* ``sts:AssumeRole`` (any caller, root included): the role must exist and its trust policy must name the
  caller, its account (``arn:aws:iam::ACCOUNT:root`` or the id) or ``*`` (with ``sts:ExternalId`` /
  ``sts:RoleSessionName`` and the principal keys as condition context), else ``AccessDenied``; a caller with
  issued credentials also needs ``sts:AssumeRole`` in its own policies (AWS waives that when the trust policy
  names the caller itself: stricter here, never kinder). AWS's refusal of root credentials is not modelled.

Not modelled: resource-based policies (Lambda function policies, vault access policies), users' permissions
boundaries, SCPs, signature verification, and S3.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Mapping
from typing import Any

import botocore.loaders
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, InvalidClientTokenIdError, JsonRESTError

from dr_infra.targets.embedded import backup_tags, moto_patch, principals
from dr_infra.targets.embedded.process_state import SWITCHES
from dr_infra.targets.iam_calls import Permission, UnknownCall, action_of, permissions_for_call
from dr_infra.targets.iam_evaluator import IDENTITY_POLICY, Decision, Evaluation, evaluate_effective, trusts_principal

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.authorization.ActionAuthenticatorMixin._authenticate_and_authorize_normal_action",
    "moto.core.responses.BaseResponse.call_action",
    "moto.core.responses.BaseResponse.parse_parameters",
    "moto.core.responses.BaseResponse.boto3_service_name",
    "moto.core.exceptions.JsonRESTError",
    "moto.core.exceptions.AccessDeniedError",
    "moto.core.exceptions.InvalidClientTokenIdError",
    *principals.HOOKED_INTERNALS,
)
"""What this module replaces or relies on. It reads the response object's ``headers``, ``querystring``,
``body``, ``raw_body``, ``uri_match``, ``region``, ``normalized_request`` and ``_get_action()``."""

_QUERY_SERVICES = frozenset({"iam", "sts"})
"""Query-protocol services drdrill itself calls; any other whose botocore model says ``query`` answers alike."""
_QUERY_DENIAL_CODES = {"sns": "AuthorizationError"}
"""Query services whose refusal is not ``AccessDenied``: SNS's is ``AuthorizationError`` (HTTP 403,
https://docs.aws.amazon.com/sns/latest/api/API_Publish.html#API_Publish_Errors)."""
_FORBIDDEN_SERVICES = frozenset({"lambda", "backup"})
"""JSON services whose AccessDeniedException is HTTP 403 (DynamoDB and CloudWatch Logs answer 400)."""
_MISSING = object()


class AccessDenied(JsonRESTError):
    """``AccessDeniedException`` as a JSON service answers it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__("AccessDeniedException", message)
        self.code = status


class QueryAccessDenied(AccessDeniedError):
    """``AccessDenied`` as IAM and STS answer it (XML, HTTP 403); ``code`` for a query service that names it
    otherwise (SNS: ``AuthorizationError``)."""

    def __init__(self, message: str, code: str = "AccessDenied") -> None:
        super().__init__("", "")
        from moto.core.exceptions import _RESTError

        _RESTError.__init__(self, code, message)


@functools.lru_cache(maxsize=64)
def _speaks_query(service: str) -> bool:
    """Does botocore's model of ``service`` use the query protocol (XML errors: a JSON body cannot be parsed)?"""
    if service in _QUERY_SERVICES:
        return True
    try:
        model = botocore.loaders.create_loader().load_service_model(service, "service-2")
    except Exception:
        return False
    return str(model.get("metadata", {}).get("protocol", "")) == "query"


def denial_message(caller: str, permission: Permission, evaluation: Evaluation) -> str:
    """AWS's wording for a refused permission (plus drdrill's reason when the evaluator could not decide); the
    policy type is the one that refused (identity-based policy, permissions boundary, session policy)."""
    head = f"User: {caller} is not authorized to perform: {permission.action} on resource: {permission.resource}"
    kind = evaluation.policy_type or IDENTITY_POLICY
    if evaluation.decision is Decision.EXPLICIT_DENY:
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{head} with an explicit deny in {article} {kind}"
    tail = f"{head} because no {kind} allows the {permission.action} action"
    if evaluation.decision is Decision.UNDECIDABLE:
        tail += f" (drdrill: {evaluation.explain()})"
    return tail


def authorize(
    principal: principals.Principal, needed: list[Permission], region: str
) -> tuple[Permission, Evaluation] | None:
    """The first permission ``principal`` lacks, with why; ``None`` when it holds them all."""
    base = principal.context(region)
    for permission in needed:
        context = {**base, **dict(permission.context)}
        complete = permission.complete
        result = evaluate_effective(
            principal.policies,
            permission.action,
            permission.resource,
            context,
            complete,
            boundary=principal.boundary,
            session=principal.session_policy,
        )
        if not result.allowed:
            return permission, result
    return None


def _flatten(query: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in dict(query or {}).items()}


def _request_params(response: Any) -> dict[str, Any]:
    """The call's parameters by API name (body, URI and query string), as botocore would have serialised them."""
    params: dict[str, Any] = {}
    body = getattr(response, "body", None)
    if isinstance(body, dict):
        params.update(body)
    else:
        saved = response.__dict__.get("params", _MISSING)
        try:
            response.parse_parameters(response.normalized_request)
            params.update(dict(response.params or {}))
        except Exception:  # noqa: S110 - a request moto's parser cannot read is checked on what remains
            pass
        finally:
            if saved is _MISSING:
                response.__dict__.pop("params", None)
            else:
                response.params = saved
    for key, value in dict(getattr(response, "uri_match", {}) or {}).items():
        params.setdefault(key, urllib.parse.unquote(value) if isinstance(value, str) else value)
    for key, value in _flatten(getattr(response, "querystring", {}) or {}).items():
        params.setdefault(key, value)
    return params


def _refusal(service: str, message: str) -> Exception:
    if _speaks_query(service):
        return QueryAccessDenied(message, _QUERY_DENIAL_CODES.get(service, "AccessDenied"))
    return AccessDenied(message, 403 if service in _FORBIDDEN_SERVICES else 400)


def _invalid_token(service: str, error: principals.InvalidToken) -> Exception:
    if _speaks_query(service):
        return InvalidClientTokenIdError()
    error.code = 403 if service in _FORBIDDEN_SERVICES else 400
    return error


def _authorize_request(self: Any, resource: str = "*") -> None:
    """Replacement for ``_authenticate_and_authorize_normal_action``: see the module docstring."""
    service = str(getattr(self, "boto3_service_name", "") or "")
    try:
        principal = principals.of_request(self.headers, getattr(self, "querystring", None))
    except principals.InvalidToken as exc:
        raise _invalid_token(service, exc) from None
    if principal is None and SWITCHES.strict_credentials:
        raise _invalid_token(service, principals.InvalidToken())
    operation = self._get_action()
    region = str(self.region)
    if service == "sts" and operation == "AssumeRole":
        _check_trust(_request_params(self), principal, str(self.current_account))
    if principal is None:
        return
    try:
        params = _request_params(self)
        needed = permissions_for_call(
            service, str(operation), params, region, principal.account, resource_tags=backup_tags.tags_of
        )
    except (UnknownCall, KeyError):
        needed = [Permission(action_of(service, str(operation)), "*")]
    missing = authorize(principal, needed, region)
    if missing is not None:
        raise _refusal(service, denial_message(principal.arn, *missing))


def _check_trust(params: Mapping[str, Any], principal: principals.Principal | None, account: str) -> None:
    """AssumeRole: the role must exist and its trust policy must name the caller, its account or ``*``.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html,
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"""
    role_arn = str(params.get("RoleArn") or "")
    caller_account = principal.account if principal is not None else account
    caller = principal.arn if principal is not None else f"arn:aws:iam::{caller_account}:root"
    identities = [caller, f"arn:aws:iam::{caller_account}:root", caller_account]
    if principal is not None:
        identities.append(principal.principal_arn)
    context = {"aws:PrincipalAccount": caller_account, "aws:PrincipalArn": identities[-1] if principal else caller}
    for key, name in (("sts:ExternalId", "ExternalId"), ("sts:RoleSessionName", "RoleSessionName")):
        if params.get(name):
            context[key] = str(params[name])
    parts = role_arn.split(":")
    role_account = parts[4] if len(parts) > 5 else caller_account
    trust = principals.role_trust_policy(role_account, role_arn)
    if trust is None or not trusts_principal(trust, identities, context):
        raise QueryAccessDenied(f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")


def enable(resource_scoped: bool = True) -> dict[str, bool]:
    """Strict mode: keys the target did not issue are refused too (``resource_scoped`` is always true now)."""
    SWITCHES.set_strict_credentials(True)
    return state()


def disable() -> dict[str, bool]:
    """Back to the default: unknown keys act as the account's root; issued keys are still authorized."""
    SWITCHES.set_strict_credentials(False)
    return state()


def state() -> dict[str, bool]:
    """The mode, as ``GET /_drdrill/info`` shows it (``enforced``: strict mode on)."""
    strict = SWITCHES.strict_credentials
    return {"enforced": strict, "resource_scoped": strict, "issued_credentials_authorized": True}


def install() -> None:
    """Authorize every request from now on."""
    moto_patch.replace(
        ActionAuthenticatorMixin, "_authenticate_and_authorize_normal_action", _authorize_request, by=__name__
    )
