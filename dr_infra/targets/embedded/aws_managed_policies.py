"""AWS managed policies exist in every account, as on AWS: ``arn:aws:iam::aws:policy/...`` can be attached.

What AWS does (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies):
every account sees AWS's managed policies (``AdministratorAccess``,
``service-role/AWSBackupServiceRolePolicyForBackup``, ``service-role/AWSBackupServiceRolePolicyForRestores``,
``service-role/AWSLambdaBasicExecutionRole``, ...); ``AttachRolePolicy`` with one of them succeeds, with an ARN
that exists nowhere it answers ``NoSuchEntity``.

What moto 5.2.5 does: it ships the documents (``moto/iam/aws_managed_policies.py``, 1,582 policies) but loads
them only when ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` (or its config) is set, so by default attaching
``AdministratorAccess`` is ``NoSuchEntity`` - kinder than AWS for a least-privilege check, which then never
sees an attached admin policy. Here ``IAMBackend._init_aws_policies`` loads all of them into every IAM backend
moto creates (parsed once per process), whatever that setting says. The documents are moto's snapshot of AWS's,
not necessarily today's versions.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.iam.aws_managed_policies.aws_managed_policies_data",
    "moto.iam.models.AWSManagedPolicy.from_data",
    "moto.iam.models.IAMBackend._init_aws_policies",
)

_lock = threading.Lock()
_parsed: dict[str, Any] | None = None


def _documents() -> dict[str, Any]:
    global _parsed
    with _lock:
        if _parsed is None:
            _parsed = json.loads(aws_managed_policies_data)
        return _parsed


def _init_aws_policies(self: IAMBackend) -> list[ManagedPolicy]:
    """Replacement for ``IAMBackend._init_aws_policies``: every AWS managed policy, always."""
    return [AWSManagedPolicy.from_data(name, self.account_id, self.region_name, d) for name, d in _documents().items()]


def install() -> None:
    """Load AWS managed policies into IAM backends created from now on."""
    moto_patch.replace(IAMBackend, "_init_aws_policies", _init_aws_policies, by=__name__)
