"""Discovery of a deployed stack is read-only and refuses, before any write, a table in another account than the
target's credentials, a named function, plan or vault that does not exist, and a Number hash key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from dr_infra.errors import ConfigError
from dr_infra.stack.deployed import DeployedDefinition
from dr_infra.stack.deployed_discovery import discover
from dr_infra.targets.embedded import EmbeddedTarget


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = EmbeddedTarget()
    embedded.start()
    yield embedded
    embedded.stop()


class OtherAccount:
    """The same endpoint, but credentials of another account (what a mistyped profile gives on AWS)."""

    def __init__(self, inner: EmbeddedTarget) -> None:
        self.inner = inner
        self.account_id = "999999999999"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _table(target: EmbeddedTarget) -> str:
    name = f"disc-{secrets.token_hex(3)}"
    target.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_a_table_of_another_account_is_refused(target: EmbeddedTarget) -> None:
    name = _table(target)
    with pytest.raises(ConfigError, match="is in account 123456789012, not the target's 999999999999"):
        discover(OtherAccount(target), DeployedDefinition(table=name), "d.toml")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("function", "deployed.function: no function 'nope-fn'"),
        ("plan", "deployed.plan: no backup plan named 'nope-fn'"),
        ("vault", "deployed.vault: no backup vault 'nope-fn'"),
    ],
)
def test_a_named_part_that_does_not_exist_is_one_line(target: EmbeddedTarget, key: str, match: str) -> None:
    deployed = DeployedDefinition(table=_table(target), **{key: "nope-fn"})
    with pytest.raises(ConfigError, match=match):
        discover(target, deployed, "d.toml")


def test_parts_left_out_and_missing_are_notes_not_errors(target: EmbeddedTarget) -> None:
    parts = discover(target, DeployedDefinition(table=_table(target)), "d.toml")
    assert parts.function == "" and parts.plan_id == "" and parts.stream_arn == ""
    assert any("no change monitor" in note for note in parts.notes)
    assert any("no backup plan" in note for note in parts.notes)
