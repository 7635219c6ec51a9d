"""A small, honest IAM policy reader: does an identity policy allow an action on a resource?

Used by posture checks that prove least privilege from the policy *read back from IAM*. It evaluates what
drdrill's own policies use - Allow/Deny statements, ``Action``/``Resource`` with ``*`` and ``?`` wildcards,
and ``StringEquals``/``StringLike`` conditions - following the documented evaluation logic (an explicit deny
wins, otherwise an allow is needed; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Anything it does not understand (NotAction, other condition operators) counts as *not allowed*, so a check
built on it can fail, never falsely pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(condition: Mapping[str, Any] | None, context: Mapping[str, str]) -> bool:
    if not condition:
        return True
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = context.get(key)
            if actual is None:
                return False
            values = _as_list(expected)
            if operator == "StringEquals":
                if actual not in values:
                    return False
            elif operator == "StringLike":
                if not any(_matches(v, actual) for v in values):
                    return False
            else:
                return False
    return True


def _statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        return False
    actions = _as_list(statement.get("Action", []))
    resources = _as_list(statement.get("Resource", []))
    return (
        any(_matches(a, action, case_sensitive=False) for a in actions)
        and any(_matches(r, resource) for r in resources)
        and _condition_holds(statement.get("Condition"), context)
    )


def allows(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """True when some statement allows ``action`` on ``resource`` and none denies it."""
    ctx = context or {}
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement", [])):
            if not _statement_applies(statement, action, resource, ctx):
                continue
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed
