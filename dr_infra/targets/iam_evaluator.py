"""IAM's identity-policy evaluation logic, pure: may this principal do this action on this resource?

One evaluator for two jobs, so they cannot disagree: the embedded target authorizes every request signed
with credentials it issued (:mod:`dr_infra.targets.embedded.authorizer`), and the posture checks prove a
role's least privilege from its effective policies read back from IAM (:mod:`dr_infra.verify.posture`).

What AWS does (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html): every statement
of every identity policy (inline and attached managed) is matched against the request; an explicit ``Deny``
wins, otherwise an ``Allow`` is needed, otherwise the request is implicitly denied. A statement matches when
its ``Action`` (or ``NotAction``: every action but those) matches the action (case-insensitive, ``*`` and
``?``), its ``Resource`` (or ``NotResource``) matches the resource ARN (case-sensitive; wildcards do not
cross the ARN's ``:`` segments before the resource part) and every condition holds: operators are ANDed,
keys within an operator are ANDed, values of one key are ORed (negated operators: NORed); a key missing from
the request context makes a condition false, but true for a negated operator (``StringNotEquals``,
``ArnNotLike``, ...); ``...IfExists`` is true when the key is missing; ``Null`` tests presence.

What is evaluated here: the above, with the operators ``String(Not)Equals(IgnoreCase)``,
``String(Not)Like``, ``Arn(Not)Equals``, ``Arn(Not)Like``, ``Numeric*``, ``Bool``, ``Null``, each with
``IfExists`` and the ``ForAnyValue:`` / ``ForAllValues:`` qualifiers. A statement this evaluator cannot
decide - another operator (``Date*``, ``IpAddress``, ``BinaryEquals``), a policy variable (``${...}``), a
condition key the caller did not supply although the request could carry it (a global ``aws:`` key other than
those in the context, or a key of the action's own service; unless the caller declares the context complete
for the key's prefix, as the embedded target does for ``aws:ResourceTag/`` of a recovery point whose tags it
holds: then a missing key is absent, as on AWS) - is *undecidable*, never guessed: an
undecidable ``Deny`` (or an undecidable ``Allow`` when nothing else allows) makes the whole answer
:attr:`Decision.UNDECIDABLE`, naming the statement and the reason. The embedded target refuses such a request;
a posture check fails on it. A permissions boundary and a session policy cap the identity policies
(:func:`evaluate_effective`). Not modelled: SCPs and resource-based policies (identity policies of one account
only).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dr_infra.targets.iam_conditions import (
    SUPPORTED_OPERATORS as SUPPORTED_OPERATORS,
)
from dr_infra.targets.iam_conditions import (
    ContextValue,
    RequestContext,
    Undecidable,
    action_matches,
    as_list,
    conditions_hold,
    statement_matches,
)
from dr_infra.targets.iam_conditions import arn_like as arn_like


class Decision(enum.Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"
    UNDECIDABLE = "undecidable"


@dataclass(frozen=True)
class NamedPolicy:
    """One identity policy of a principal: its name (inline name or managed ARN) and document."""

    name: str
    document: Mapping[str, Any]

    @classmethod
    def parse(cls, name: str, document: Mapping[str, Any] | str) -> NamedPolicy:
        """Accept a document as IAM returns it: a dict, a JSON string, or URL-encoded JSON."""
        if isinstance(document, str):
            text = document if document.lstrip().startswith("{") else urllib.parse.unquote(document)
            return cls(name, json.loads(text))
        return cls(name, document)


@dataclass(frozen=True)
class Evaluation:
    """The answer, with the statements that decided it (``policy#n (Sid)``) or why it cannot be decided."""

    decision: Decision
    statements: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())
    policy_type: str = ""
    """Which kind of policy decided (:data:`PERMISSIONS_BOUNDARY`, ...; empty: the identity policies)."""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    def explain(self) -> str:
        """One line: ``allowed by X``, ``explicitly denied by X``, ``no statement allows it``, ``undecidable: ...``."""
        if self.decision is Decision.ALLOWED:
            return "allowed by " + ", ".join(self.statements)
        if self.decision is Decision.EXPLICIT_DENY:
            return "explicitly denied by " + ", ".join(self.statements)
        if self.decision is Decision.UNDECIDABLE:
            return "cannot be evaluated: " + "; ".join(self.reasons)
        if self.policy_type and self.policy_type != IDENTITY_POLICY:
            return f"no statement of the {self.policy_type} allows it"
        return "no statement allows it"


IDENTITY_POLICY = "identity-based policy"
PERMISSIONS_BOUNDARY = "permissions boundary"
SESSION_POLICY = "session policy"
"""Policy types as AWS names them in access-denied messages ("because no permissions boundary allows ...",
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)."""


def statement_label(policy: str, index: int, statement: Mapping[str, Any]) -> str:
    """``AdministratorAccess#1`` or ``monitor#3 (StartRestore)``: how a statement is named in evidence."""
    sid = statement.get("Sid")
    return f"{policy}#{index}" + (f" ({sid})" if sid else "")


def evaluate(
    policies: Iterable[NamedPolicy],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
    complete: Iterable[str] = (),
) -> Evaluation:
    """AWS's decision for ``action`` on ``resource`` under identity ``policies``, with the deciding statements.

    ``complete``: condition-key prefixes the context holds every key of (see :attr:`RequestContext.complete`)."""
    ctx = RequestContext(action, resource, context or {}, tuple(complete))
    tally = _Tally()
    for policy in policies:
        for index, statement in enumerate(as_list(policy.document.get("Statement")), start=1):
            tally.add(policy.name, index, statement, ctx)
    return tally.decision()


@dataclass
class _Tally:
    """The statements that matched a request, by effect, and those that could not be evaluated."""

    allows: list[str] = field(default_factory=list)
    denies: list[str] = field(default_factory=list)
    unknown_allows: list[str] = field(default_factory=list)
    unknown_denies: list[str] = field(default_factory=list)

    def add(self, policy: str, index: int, statement: Any, ctx: RequestContext) -> None:
        if not isinstance(statement, Mapping):
            self.unknown_denies.append(f"{policy}#{index}: not a statement object")
            return
        label = statement_label(policy, index, statement)
        effect = statement.get("Effect")
        try:
            matched = statement_matches(statement, ctx)
        except Undecidable as exc:
            (self.unknown_denies if effect != "Allow" else self.unknown_allows).append(f"{label}: {exc}")
            return
        if not matched:
            return
        if effect == "Deny":
            self.denies.append(label)
        elif effect == "Allow":
            self.allows.append(label)
        else:
            self.unknown_denies.append(f"{label}: Effect {effect!r} is neither Allow nor Deny")

    def decision(self) -> Evaluation:
        """An explicit Deny wins; then a Deny that cannot be evaluated; then an Allow; then an undecidable Allow."""
        if self.denies:
            return Evaluation(Decision.EXPLICIT_DENY, tuple(self.denies))
        if self.unknown_denies:
            return Evaluation(Decision.UNDECIDABLE, reasons=tuple(self.unknown_denies))
        if self.allows:
            return Evaluation(Decision.ALLOWED, tuple(self.allows))
        if self.unknown_allows:
            return Evaluation(Decision.UNDECIDABLE, reasons=tuple(self.unknown_allows))
        return Evaluation(Decision.IMPLICIT_DENY)


def evaluate_effective(
    identity: Iterable[NamedPolicy],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
    complete: Iterable[str] = (),
    boundary: NamedPolicy | None = None,
    session: NamedPolicy | None = None,
) -> Evaluation:
    """The decision under the identity policies, the permissions boundary and the session policy together.

    A permissions boundary and a session policy grant nothing; they cap: a request is allowed only when every
    one of them allows it, and an explicit Deny in any wins
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). The answer's
    :attr:`Evaluation.policy_type` names the kind of policy that decided a refusal: an explicit Deny first, then
    one that surely does not allow, then one that cannot be evaluated (a sure refusal elsewhere needs no guess)."""
    complete = tuple(complete)
    layers: list[tuple[str, list[NamedPolicy]]] = [(IDENTITY_POLICY, list(identity))]
    if boundary is not None:
        layers.append((PERMISSIONS_BOUNDARY, [boundary]))
    if session is not None:
        layers.append((SESSION_POLICY, [session]))
    results = [(kind, evaluate(policies, action, resource, context, complete)) for kind, policies in layers]
    for wanted in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY, Decision.UNDECIDABLE):
        for kind, result in results:
            if result.decision is wanted:
                return dataclasses.replace(result, policy_type=kind)
    return dataclasses.replace(results[0][1], policy_type=IDENTITY_POLICY)


def _principal_matches(principal: Any, kind: str, identities: Sequence[str]) -> bool:
    """Does a statement's ``Principal`` name one of ``identities`` (of ``kind`` ``Service`` or ``AWS``)?"""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in [str(p) for p in as_list(principal.get("AWS"))]:
        return True
    named = [str(p) for p in as_list(principal.get(kind))]
    return any(identity in named for identity in identities)


def _trusts(trust: NamedPolicy, kind: str, identities: Sequence[str], context: Mapping[str, ContextValue]) -> bool:
    ctx = RequestContext("sts:AssumeRole", "*", context)
    allowed = False
    for statement in as_list(trust.document.get("Statement")):
        if not isinstance(statement, Mapping) or not _principal_matches(statement.get("Principal"), kind, identities):
            continue
        try:
            if "NotAction" in statement:
                matched = not action_matches(as_list(statement["NotAction"]), ctx.action)
            else:
                matched = action_matches(as_list(statement.get("Action")), ctx.action)
            matched = matched and conditions_hold(statement.get("Condition"), ctx)
        except Undecidable:
            if statement.get("Effect") != "Allow":
                return False
            continue
        if matched and statement.get("Effect") == "Deny":
            return False
        allowed = allowed or (matched and statement.get("Effect") == "Allow")
    return allowed


def trusts_principal(
    trust: NamedPolicy, identities: Sequence[str], context: Mapping[str, ContextValue] | None = None
) -> bool:
    """Does a role's trust policy let an IAM identity (its ARN, or its account as ``arn:aws:iam::ACCOUNT:root``
    or the bare account id) call ``sts:AssumeRole``? A statement that cannot be evaluated does not trust.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts"""
    return _trusts(trust, "AWS", identities, context or {})


def trusts_service(trust: NamedPolicy, service: str, context: Mapping[str, ContextValue] | None = None) -> bool:
    """Does a role's trust policy let ``service`` (``lambda.amazonaws.com``) call ``sts:AssumeRole``?

    A matching Allow is needed and no matching Deny (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_elements_principal.html#principal-services); a statement that cannot be evaluated
    does not trust."""
    return _trusts(trust, "Service", [service], context or {})
