"""A table still CREATING refuses DeleteTable (ResourceInUseException, as DynamoDB does); drdrill's teardown waits
for it to settle and deletes it, so a restore still running at the end of a drill never leaves its table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr_infra.stack.table_delete import delete_table_when_settled


@pytest.fixture
def slow_create(embedded: Any) -> Iterator[None]:
    """Tables stay CREATING for a while (the aws-scaled profile: CreateTable's 20 s at a scale of 0.1)."""
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.1)
    try:
        yield
    finally:
        embedded.control.reset_settings()


def _new_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_creating_table_refuses_a_plain_delete(embedded: Any, unique: str, slow_create: None) -> None:
    ddb = embedded.client("dynamodb")
    _new_table(ddb, f"creating-{unique}")
    with pytest.raises(ClientError) as caught:
        ddb.delete_table(TableName=f"creating-{unique}")
    assert caught.value.response["Error"]["Code"] == "ResourceInUseException"
    delete_table_when_settled(ddb, f"creating-{unique}")


def test_the_teardown_delete_waits_for_the_table_to_settle(embedded: Any, unique: str, slow_create: None) -> None:
    ddb = embedded.client("dynamodb")
    _new_table(ddb, f"settle-{unique}")
    delete_table_when_settled(ddb, f"settle-{unique}")
    names = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    assert f"settle-{unique}" not in names


def test_it_gives_up_after_its_timeout_with_dynamodbs_error(embedded: Any, unique: str, slow_create: None) -> None:
    ddb = embedded.client("dynamodb")
    _new_table(ddb, f"stuck-{unique}")
    with pytest.raises(ClientError) as caught:
        delete_table_when_settled(ddb, f"stuck-{unique}", timeout_s=0.01)
    assert caught.value.response["Error"]["Code"] == "ResourceInUseException"
    delete_table_when_settled(ddb, f"stuck-{unique}")
