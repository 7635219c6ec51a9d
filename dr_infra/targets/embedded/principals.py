"""Who signed a request: an IAM user or an assumed-role session the embedded target issued, or nobody it knows.

What AWS does (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html): a request is signed
with an access key; a long-term key belongs to an IAM user, whose identity policies are its inline and attached
managed policies plus those of its groups; a temporary key (``AssumeRole``) must come with its session token
and carries the role's policies, intersected with the session policy passed to ``AssumeRole`` if any. An
inactive key, a temporary key without its token or with another one, or an expired session is refused.

What is modelled: :func:`of_request` reads the access key id from the SigV4 ``Authorization`` header (or the
presigned ``X-Amz-Credential``) and looks it up in moto's IAM backends (``IAMBackend.access_keys``, which
holds user keys and the keys moto's STS issues) and STS backends (``assumed_roles``, for the session token,
expiry and session policy). A key the target never issued returns ``None``: the caller acts as the account's
root (what users' own tools and drdrill's set-up send). Signatures are not verified (a known key id with a
wrong secret is treated as that principal). A role's permissions boundary (``PutRolePermissionsBoundary``, a
managed policy) caps its sessions (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html);
a boundary naming a policy that does not exist allows nothing. Users' boundaries are not modelled (moto 5.2.5
does not store them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from dr_infra.targets.iam_evaluator import NamedPolicy

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.iam.models.iam_backends",
    "moto.iam.models.IAMBackend.get_groups_for_user",
    "moto.iam.models.IAMBackend.get_role_by_arn",
    "moto.sts.models.sts_backends",
)
"""It also reads ``IAMBackend.access_keys`` / ``users`` / ``roles`` / ``managed_policies``, ``AccessKey.user_name`` /
``role_arn`` / ``status``, ``Role.policies`` / ``managed_policies`` / ``assume_role_policy_document`` /
``permissions_boundary_arn``, ``ManagedPolicy.versions``
(``is_default``, ``document``) and ``AssumedRole.access_key_id`` / ``session_token`` / ``expiration`` / ``policy``."""

PARTITION = "aws"
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9a-z_\-]+)/")


class InvalidToken(JsonRESTError):
    """The security token included in the request is invalid (AWS's UnrecognizedClientException, HTTP 400)."""

    def __init__(self, code: str = "UnrecognizedClientException", message: str = "") -> None:
        super().__init__(code, message or "The security token included in the request is invalid.")


@dataclass(frozen=True)
class Principal:
    """An identity the target issued credentials for, with its identity policies."""

    kind: str  # "User" or "AssumedRole"
    arn: str  # as AWS names the caller in errors: the user, or arn:aws:sts::<acct>:assumed-role/<role>/<session>
    principal_arn: str  # aws:PrincipalArn: the user or the role
    account: str
    policies: tuple[NamedPolicy, ...]
    session_policy: NamedPolicy | None = None
    boundary: NamedPolicy | None = None
    extra_context: Mapping[str, str] = field(default_factory=dict)

    def context(self, region: str) -> dict[str, str]:
        """The global condition keys drdrill supplies for this principal's requests."""
        ctx = {
            "aws:PrincipalArn": self.principal_arn,
            "aws:PrincipalAccount": self.account,
            "aws:PrincipalType": self.kind,
            "aws:RequestedRegion": region,
            "aws:SecureTransport": "false",  # the embedded endpoint is plain http
        }
        ctx.update(self.extra_context)
        return ctx


def access_key_id(headers: Mapping[str, Any], query: Mapping[str, Any] | None = None) -> str | None:
    """The access key id a request is signed with, or ``None`` (unsigned)."""
    match = _CREDENTIAL.search(str(headers.get("Authorization") or ""))
    if match:
        return match.group(1)
    credential = (query or {}).get("X-Amz-Credential")
    if isinstance(credential, list):
        credential = credential[0] if credential else None
    return str(credential).split("/", 1)[0] if credential else None


def _document(policy: Any) -> Any:
    for version in getattr(policy, "versions", []) or []:
        if getattr(version, "is_default", False):
            return version.document
    return getattr(policy, "document", "{}")


def _policies_of(holder: Any) -> list[NamedPolicy]:
    found = [NamedPolicy.parse(name, doc) for name, doc in dict(getattr(holder, "policies", {}) or {}).items()]
    for arn, policy in dict(getattr(holder, "managed_policies", {}) or {}).items():
        found.append(NamedPolicy.parse(str(arn), _document(policy)))
    return found


def role_policies(account: str, role_arn: str) -> tuple[NamedPolicy, ...]:
    """A role's inline and attached managed policies (empty when the role does not exist)."""
    backend = iam_backends[account][PARTITION]
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:
        return ()
    return tuple(_policies_of(role))


def role_boundary(account: str, role_arn: str) -> NamedPolicy | None:
    """The role's permissions boundary (``None``: it has none, or the role does not exist)."""
    backend = iam_backends[account][PARTITION]
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:
        return None
    arn = getattr(role, "permissions_boundary_arn", None)
    if not arn:
        return None
    policy = dict(getattr(backend, "managed_policies", {}) or {}).get(arn)
    if policy is None:
        return NamedPolicy(str(arn), {"Statement": []})  # a boundary that is not there allows nothing
    return NamedPolicy.parse(str(arn), _document(policy))


def role_trust_policy(account: str, role_arn: str) -> NamedPolicy | None:
    """The role's trust policy, ``None`` when the role does not exist."""
    backend = iam_backends[account][PARTITION]
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:
        return None
    return NamedPolicy.parse(f"{role.name} trust policy", role.assume_role_policy_document or "{}")


def _user(account: str, user_name: str) -> Principal:
    backend = iam_backends[account][PARTITION]
    user = backend.users.get(user_name)
    if user is None:
        raise InvalidToken()  # the key's user was deleted
    policies = _policies_of(user)
    for group in backend.get_groups_for_user(user_name):
        policies.extend(_policies_of(group))
    arn = f"arn:aws:iam::{account}:user/{user_name}"
    return Principal("User", arn, arn, account, tuple(policies), extra_context={"aws:username": user_name})


def _assumed_role(account: str, key_id: str, role_arn: str, token: str | None) -> Principal:
    session = None
    for assumed in list(sts_backends[account][PARTITION].assumed_roles):
        if assumed.access_key_id == key_id:
            session = assumed
            break
    if session is None or token != session.session_token:
        raise InvalidToken()
    if session.expiration <= dt.datetime.now(dt.UTC).replace(tzinfo=None):
        raise InvalidToken("ExpiredTokenException", "The security token included in the request is expired")
    role_name = role_arn.split("/")[-1]
    arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session.session_name}"
    session_policy = NamedPolicy.parse("session policy", session.policy) if session.policy else None
    return Principal(
        "AssumedRole",
        arn,
        role_arn,
        account,
        role_policies(account, role_arn),
        session_policy,
        role_boundary(account, role_arn),
    )


def of_request(headers: Mapping[str, Any], query: Mapping[str, Any] | None = None) -> Principal | None:
    """The principal behind a request's access key, ``None`` for a key this target did not issue.

    Raises :class:`InvalidToken` for an issued key used wrongly (inactive, token missing/wrong, expired)."""
    key_id = access_key_id(headers, query)
    if not key_id:
        return None
    for account, backends in list(iam_backends.items()):
        if PARTITION not in backends:
            continue
        key = backends[PARTITION].access_keys.get(key_id)
        if key is None:
            continue
        if getattr(key, "status", "Active") != "Active":
            raise InvalidToken()
        token = headers.get("X-Amz-Security-Token")
        if key.role_arn:
            return _assumed_role(account, key_id, key.role_arn, token)
        if token:
            raise InvalidToken()
        user = backends[PARTITION].users.get(str(key.user_name))
        if user is None or all(k.access_key_id != key_id for k in user.access_keys):
            raise InvalidToken()  # deleted with its user, or deleted from it
        return _user(account, str(key.user_name))
    return None
