"""Least-privilege questions about identity policies: does a set of documents allow this, and what a call needs.

The evaluation itself is :mod:`dr_infra.targets.iam_evaluator` (the same one the embedded target authorizes
requests with): explicit Deny wins, NotAction/NotResource, ARN-segment wildcards, the condition operators it
lists. :func:`allows` is its yes/no for documents without names; an undecidable statement counts as *not
allowed*, so a check built on ``allows`` alone can fail but never falsely pass (posture checks use
:func:`dr_infra.targets.iam_evaluator.evaluate` to name the statement and the reason).
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dr_infra.targets.iam_calls import (
    NO_RESOURCE_LEVEL,
    RESTORE_TARGET_ACTIONS,
    Permission,
    UnknownCall,
    permissions_for_call,
)
from dr_infra.targets.iam_evaluator import NamedPolicy, evaluate

__all__ = [
    "NO_RESOURCE_LEVEL",
    "RESTORE_TARGET_ACTIONS",
    "Permission",
    "UnknownCall",
    "allows",
    "permissions_for_call",
]


def allows(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """True when the documents allow ``action`` on ``resource`` (and nothing denies it or leaves it undecided)."""
    policies = [NamedPolicy(f"policy{i}", d) for i, d in enumerate(documents, start=1)]
    return evaluate(policies, action, resource, context).allowed
