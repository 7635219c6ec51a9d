"""One IAM authorization (action, resource, context) and the ARN helpers the per-service call maps share.

A :class:`Permission` is what IAM checks for one API call, evaluated by :mod:`dr_infra.targets.iam_evaluator`;
which permissions a call needs is :func:`dr_infra.targets.iam_calls.permissions_for_call` (the docstring there
cites the Service Authorization Reference). Resource tags: a recovery point (resource type ``recoveryPoint``, ARN
``arn:${Partition}:${Vendor}:${Region}:*:${ResourceType}:${RecoveryPointId}``, so AWS Backup's
``...:recovery-point:ID`` and DynamoDB's ``...:table/NAME/backup/ID``) takes the condition keys
``aws:ResourceTag/${TagKey}`` (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html);
:func:`with_resource_tags` adds them when the caller knows the point's tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dr_infra.targets.iam_evaluator import NamedPolicy, evaluate


@dataclass(frozen=True)
class Permission:
    """One authorization IAM performs for a call: ``action`` on ``resource`` with the request ``context``."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    complete: tuple[str, ...] = ()
    """Condition-key prefixes ``context`` holds every key of (``aws:ResourceTag/`` once the tags are known)."""

    def allowed_by(self, documents: Iterable[Mapping[str, Any]]) -> bool:
        """Does an identity policy made of ``documents`` allow it?"""
        policies = [NamedPolicy(f"policy{i}", d) for i, d in enumerate(documents, start=1)]
        return evaluate(policies, self.action, self.resource, dict(self.context), self.complete).allowed


ResourceTags = Callable[[str], Mapping[str, str] | None]
"""A recovery point's tags by ARN (``None``: unknown, so a condition on them cannot be decided)."""
RESOURCE_TAG = "aws:ResourceTag/"
_RECOVERY_POINT_ACTIONS = frozenset(
    {
        "backup:StartRestoreJob",
        "backup:DescribeRecoveryPoint",
        "backup:DeleteRecoveryPoint",
        "backup:GetRecoveryPointRestoreMetadata",
    }
)


def is_recovery_point(arn: str) -> bool:
    """An AWS Backup recovery point ARN or a DynamoDB backup ARN (both are IAM's ``recoveryPoint``)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return False
    return (parts[2] == "backup" and parts[5].startswith("recovery-point:")) or (
        parts[2] == "dynamodb" and parts[5].startswith("table/") and "/backup/" in parts[5]
    )


def with_resource_tags(permission: Permission, resource_tags: ResourceTags | None) -> Permission:
    """``permission`` with its recovery point's ``aws:ResourceTag/`` keys, complete, when the tags are known."""
    if resource_tags is None or permission.action not in _RECOVERY_POINT_ACTIONS:
        return permission
    if not is_recovery_point(permission.resource):
        return permission
    tags = {} if permission.resource.split(":")[2] == "dynamodb" else resource_tags(permission.resource)
    if tags is None:
        return permission
    keys = tuple((f"{RESOURCE_TAG}{k}", str(v)) for k, v in sorted(tags.items()))
    return Permission(permission.action, permission.resource, permission.context + keys, (RESOURCE_TAG,))


def pass_role(role: Any, service: str) -> Permission:
    """``iam:PassRole`` on ``role`` with ``iam:PassedToService`` (id_roles_use_passrole.html)."""
    return Permission("iam:PassRole", str(role), (("iam:PassedToService", service),))


def table_arn(name: str, region: str, account: str) -> str:
    """A table's ARN from its name (an ARN passes through, as DynamoDB accepts either)."""
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def function_arn(name: str, region: str, account: str) -> str:
    """A function's ARN from its name (an ARN passes through, as Lambda accepts either)."""
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def unqualified(arn: str) -> str:
    """A function ARN without its version/alias qualifier (IAM authorizes qualified ARNs on the same resource)."""
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn
