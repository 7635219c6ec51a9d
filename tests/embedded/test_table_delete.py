"""A table still CREATING refuses DeleteTable (ResourceInUseException, as DynamoDB does); drdrill's teardown waits
for it to settle and deletes it, so a restore still running at the end of a drill never leaves its table."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr_infra.stack.table_delete import delete_table_when_settled


def _in_use() -> ClientError:
    error = {"Code": "ResourceInUseException", "Message": "Table is being created: t"}
    return ClientError({"Error": error}, "DeleteTable")


class Creating:
    """A DynamoDB client whose table stays CREATING for ``busy`` DeleteTable calls."""

    def __init__(self, busy: int) -> None:
        self.busy, self.calls = busy, 0

    def delete_table(self, TableName: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.busy:
            raise _in_use()
        return {"TableDescription": {"TableName": TableName, "TableStatus": "DELETING"}}


def test_the_delete_waits_out_a_creating_table() -> None:
    client = Creating(busy=2)
    delete_table_when_settled(client, "t")
    assert client.calls == 3


def test_it_gives_up_after_its_timeout_with_dynamodbs_error() -> None:
    client = Creating(busy=10_000)
    with pytest.raises(ClientError) as caught:
        delete_table_when_settled(client, "t", timeout_s=0.3)
    assert caught.value.response["Error"]["Code"] == "ResourceInUseException"


def test_other_errors_are_not_retried() -> None:
    class Denied:
        calls = 0

        def delete_table(self, TableName: str) -> None:
            self.calls += 1
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DeleteTable")

    client = Denied()
    with pytest.raises(ClientError):
        delete_table_when_settled(client, "t")
    assert client.calls == 1


def test_a_table_deleted_right_after_creation_is_gone(embedded: Any, unique: str) -> None:
    ddb = embedded.client("dynamodb")
    ddb.create_table(
        TableName=f"settle-{unique}",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    delete_table_when_settled(ddb, f"settle-{unique}")
    names = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    assert f"settle-{unique}" not in names
