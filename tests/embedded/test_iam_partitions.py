"""A request's account is found from its access key without making IAM backends no drill uses
(dr_infra/targets/embedded/iam_partitions.py)."""

from __future__ import annotations

import uuid

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import models as iam_models

from dr_infra.targets.embedded import EmbeddedTarget, iam_partitions, patches

patches.install_all()


def _account() -> str:
    return str(uuid.uuid4().int)[:12]


def test_a_key_is_found_in_its_account_and_partition() -> None:
    account = _account()
    for partition in ("aws", "aws-cn"):
        backend = iam_models.iam_backends[account][partition]
        user = f"u-{uuid.uuid4().hex[:6]}"
        backend.create_user(region_name=partition, user_name=user)
        key = backend.create_access_key(user_name=user)
        assert iam_models.get_account_id_from(key.access_key_id) == account


def test_an_unknown_key_is_the_default_account_and_makes_no_backend() -> None:
    account = _account()
    iam_models.iam_backends[account]["aws"]  # one partition in use
    assert iam_models.get_account_id_from("AKIA" + "X" * 16) == DEFAULT_ACCOUNT_ID
    assert set(iam_models.iam_backends[account].keys()) == {"aws"}


def test_the_embedded_server_answers_with_the_callers_account_and_one_partition(embedded: EmbeddedTarget) -> None:
    assert iam_models.get_account_id_from is iam_partitions.get_account_id_from
    identity = embedded.client("sts").get_caller_identity()
    embedded.client("iam").list_roles()
    assert set(iam_models.iam_backends[identity["Account"]].keys()) == {"aws"}
