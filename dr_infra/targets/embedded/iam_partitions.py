"""Finding the account an access key belongs to looks only at the IAM backends that exist.

What AWS does: a request signed with an access key is made by the account that owns the key
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html); a key belongs to one
account in one partition (aws, aws-cn, aws-us-gov, ...).

What moto 5.2.5 does: ``get_account_id_from`` (each request's account, ``BaseResponse.get_current_account``)
asks every account's IAM backend of every partition whether it holds the key, and asking for a partition's
backend creates it. Creating an IAM backend loads every AWS managed policy (1,582, :mod:`aws_managed_policies`),
about 0.37 CPU-s each, so the first such request made six of them (2.2 CPU-s) on the embedded server, while the
first drills provisioned their stacks.

What is done here: the same search over the backends already created. A backend that does not exist yet holds no
access key (a new one starts with none), so the answer is the one moto gives; the backends of partitions no
drill uses are simply never made.
"""

from __future__ import annotations

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam import models as iam_models
from moto.utilities.utils import PARTITION_NAMES

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.iam.models.get_account_id_from",
    "moto.iam.models.iam_backends",
    "moto.utilities.utils.PARTITION_NAMES",
    "moto.core.models.DEFAULT_ACCOUNT_ID",
)


def get_account_id_from(access_key: str) -> str:
    """moto's ``get_account_id_from`` without creating a backend to ask it (see the module docstring)."""
    for account_id, account in list(iam_models.iam_backends.items()):
        created = set(account.keys())
        for partition in PARTITION_NAMES:
            if partition in created and access_key in account[partition].access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


def install() -> None:
    moto_patch.replace(iam_models, "get_account_id_from", get_account_id_from, by=__name__)
