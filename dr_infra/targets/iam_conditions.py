"""Matching inside IAM's evaluation: actions, ARNs and condition operators against one request's context.

Split out of :mod:`dr_infra.targets.iam_evaluator` (which decides Allow / Deny over whole policies) so each
module has one job. The rules are AWS's (pages in iam_evaluator's docstring, and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html): actions
match case-insensitively with ``*``/``?``; ARN wildcards do not cross the first five ``:`` segments; condition
operators are ANDed, keys within one ANDed, values ORed (negated operators NORed); a missing key makes a
condition false except for negated operators, ``...IfExists`` and ``ForAllValues``. What cannot be decided
(an unsupported operator or qualifier, a policy variable, a key the request might carry but the caller did not
supply) raises :class:`Undecidable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ContextValue = str | Sequence[str]


class Undecidable(Exception):
    """A statement the evaluator cannot decide: the answer is undecidable, never guessed."""


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=4096)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _like(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if "${" in pattern:
        raise Undecidable(f"policy variable in {pattern!r} is not supported")
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ARN matching: ``*``/``?`` within each of the first five ``:`` segments, the resource part as one glob."""
    if pattern == "*":
        return True
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 and len(v_parts) == 6 and pattern.startswith("arn:"):
        return False  # an ARN pattern with too few segments matches no ARN (its wildcard cannot span them)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return _like(pattern, value)
    return all(_like(p, v) for p, v in zip(p_parts, v_parts, strict=True))


def action_matches(patterns: Iterable[Any], action: str) -> bool:
    return any(_like(str(p), action, case_sensitive=False) for p in patterns)


def resource_matches(patterns: Iterable[Any], resource: str) -> bool:
    return any(arn_like(str(p), resource) for p in patterns)


# -- conditions -----------------------------------------------------------------------------------------------------
def _string_eq(ignore_case: bool) -> Any:
    def compare(expected: str, actual: str) -> bool:
        if "${" in expected:
            raise Undecidable(f"policy variable in {expected!r} is not supported")
        return expected.lower() == actual.lower() if ignore_case else expected == actual

    return compare


def _numeric(op: str) -> Any:
    def compare(expected: str, actual: str) -> bool:
        try:
            e, a = float(expected), float(actual)
        except ValueError:
            return False
        return {"Equals": a == e, "LessThan": a < e, "LessThanEquals": a <= e, "GreaterThan": a > e}.get(op, a >= e)

    return compare


_POSITIVE: dict[str, Any] = {
    "StringEquals": _string_eq(False),
    "StringEqualsIgnoreCase": _string_eq(True),
    "StringLike": lambda e, a: _like(e, a),
    "ArnEquals": arn_like,
    "ArnLike": arn_like,
    "Bool": lambda e, a: e.lower() == a.lower(),
    "NumericEquals": _numeric("Equals"),
    "NumericLessThan": _numeric("LessThan"),
    "NumericLessThanEquals": _numeric("LessThanEquals"),
    "NumericGreaterThan": _numeric("GreaterThan"),
    "NumericGreaterThanEquals": _numeric("GreaterThanEquals"),
}
_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}
SUPPORTED_OPERATORS: tuple[str, ...] = (*_POSITIVE, *_NEGATED, "Null")
"""Condition operators (each also with ``IfExists`` and ``ForAnyValue:``/``ForAllValues:``) evaluated here."""


@dataclass(frozen=True)
class RequestContext:
    """What IAM knows about one request: action, resource, and condition keys with their values."""

    action: str
    resource: str
    keys: Mapping[str, ContextValue] = field(default_factory=dict)
    complete: tuple[str, ...] = ()
    """Key prefixes whose every key the request has is in ``keys`` (``aws:ResourceTag/`` when the resource's
    tags are known): a key with such a prefix that is not in ``keys`` is absent, not unknown."""

    def value(self, key: str) -> list[str] | None:
        """The key's values, ``None`` when the request has no such key; undecidable when it might."""
        lowered = {k.lower(): v for k, v in self.keys.items()}
        if key.lower() in lowered:
            return [str(v) for v in as_list(lowered[key.lower()])]
        if any(key.lower().startswith(prefix.lower()) for prefix in self.complete):
            return None
        service = key.split(":", 1)[0].lower()
        if service == "aws" or service == self.action.split(":", 1)[0].lower():
            raise Undecidable(f"condition key {key} is not known for {self.action}")
        return None  # another service's key is never in this action's request context


def _operator_holds(operator: str, pairs: Mapping[str, Any], ctx: RequestContext) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    name = base[: -len("IfExists")] if if_exists else base
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise Undecidable(f"condition qualifier {qualifier} is not supported")
    if name not in SUPPORTED_OPERATORS:
        raise Undecidable(f"condition operator {operator} is not supported by drdrill's evaluator")
    return all(
        _pair_holds(name, qualifier, if_exists, [str(v) for v in as_list(expected)], ctx.value(key))
        for key, expected in pairs.items()
    )


def _pair_holds(name: str, qualifier: str, if_exists: bool, values: list[str], actual: list[str] | None) -> bool:
    """One ``key: expected`` pair of a condition operator ``name`` against the request's values of the key."""
    if name == "Null":
        present = actual is not None and len(actual) > 0
        return any(v.lower() == "true" for v in values) != present
    if actual is None:
        # a missing key: ...IfExists and ForAllValues hold; a negated operator without a qualifier holds
        return if_exists or qualifier == "ForAllValues" or (name in _NEGATED and not qualifier)
    negated = name in _NEGATED
    compare = _POSITIVE[_NEGATED.get(name, name)]

    def one(value: str) -> bool:
        hit = any(compare(e, value) for e in values)
        return not hit if negated else hit

    return all(one(v) for v in actual) if qualifier == "ForAllValues" else any(one(v) for v in actual)


def conditions_hold(condition: Mapping[str, Any] | None, ctx: RequestContext) -> bool:
    return all(_operator_holds(op, pairs or {}, ctx) for op, pairs in (condition or {}).items())


def statement_matches(statement: Mapping[str, Any], ctx: RequestContext) -> bool:
    if "NotAction" in statement:
        if action_matches(as_list(statement["NotAction"]), ctx.action):
            return False
    elif not action_matches(as_list(statement.get("Action")), ctx.action):
        return False
    if "NotResource" in statement:
        if resource_matches(as_list(statement["NotResource"]), ctx.resource):
            return False
    elif not resource_matches(as_list(statement.get("Resource")), ctx.resource):
        return False
    return conditions_hold(statement.get("Condition"), ctx)
