"""An item's size limit is checked once per item, with moto's answer (dr_infra/targets/embedded/dynamodb_item_size.py).

What a drill relies on: an item over the limit is refused with DynamoDB's ValidationException, by PutItem and by
BatchWriteItem, and one under it is stored whole; the item built is the one moto's per-attribute path builds.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from restore_helpers import create_table

from dr_infra.targets.embedded import EmbeddedTarget, patches
from dr_infra.targets.embedded.dynamodb_item_size import MOTO_ITEM_LIMIT

patches.install_all()


def _per_attribute(attrs: dict[str, Any]) -> LimitedSizeDict:
    """What moto's own ``Item.__init__`` does: one checked insert per attribute."""
    values = LimitedSizeDict()
    for key, value in attrs.items():
        values[key] = DynamoType(value)
    return values


def _attrs(name_length: int, padding: int) -> dict[str, Any]:
    return {"pk": {"S": "k"}, "n" * name_length: {"S": "x" * padding}, "count": {"N": "3"}}


@pytest.fixture
def table(embedded: EmbeddedTarget) -> Any:
    ddb = embedded.client("dynamodb")
    name = f"size-{uuid.uuid4().hex[:8]}"
    create_table(ddb, name)
    yield ddb, name
    ddb.delete_table(TableName=name)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.builds(lambda s: {"S": s}, st.text(max_size=30)),
            st.builds(lambda n: {"N": str(n)}, st.integers()),
            st.builds(lambda xs: {"L": [{"S": x} for x in xs]}, st.lists(st.text(max_size=5), max_size=4)),
            st.builds(
                lambda m: {"M": {k: {"BOOL": v} for k, v in m.items()}},
                st.dictionaries(st.text(max_size=4), st.booleans(), max_size=3),
            ),
        ),
        max_size=12,
    )
)
def test_the_item_built_is_the_one_moto_builds(attrs: dict[str, Any]) -> None:
    item = Item(DynamoType({"S": "k"}), None, attrs)
    assert item.attrs == _per_attribute(attrs) and isinstance(item.attrs, LimitedSizeDict)


@pytest.mark.parametrize("padding", [MOTO_ITEM_LIMIT - 40, MOTO_ITEM_LIMIT - 12, MOTO_ITEM_LIMIT - 11, MOTO_ITEM_LIMIT])
def test_the_limit_falls_where_motos_per_attribute_check_puts_it(padding: int) -> None:
    attrs = _attrs(1, padding)
    try:
        _per_attribute(attrs)
        refused_by_moto = False
    except ItemSizeTooLarge:
        refused_by_moto = True
    try:
        Item(DynamoType({"S": "k"}), None, attrs)
        refused = False
    except ItemSizeTooLarge:
        refused = True
    assert refused == refused_by_moto


def test_boundary_cases_differ_on_each_side() -> None:
    """The parametrized cases above straddle the limit: at least one accepted and one refused."""
    outcomes = set()
    for padding in (MOTO_ITEM_LIMIT - 40, MOTO_ITEM_LIMIT):
        try:
            Item(DynamoType({"S": "k"}), None, _attrs(1, padding))
            outcomes.add("stored")
        except ItemSizeTooLarge:
            outcomes.add("refused")
    assert outcomes == {"stored", "refused"}


def test_put_item_stores_an_item_under_the_limit_whole(table: Any) -> None:
    ddb, name = table
    ddb.put_item(TableName=name, Item=_attrs(1, MOTO_ITEM_LIMIT - 1000))
    got = ddb.get_item(TableName=name, Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
    assert len(got["n"]["S"]) == MOTO_ITEM_LIMIT - 1000 and got["count"] == {"N": "3"}


@pytest.mark.parametrize("call", ["put_item", "batch_write_item"])
def test_an_item_over_the_limit_is_refused_with_validation_exception(table: Any, call: str) -> None:
    ddb, name = table
    item = _attrs(1, MOTO_ITEM_LIMIT + 10)
    with pytest.raises(ClientError) as refused:
        if call == "put_item":
            ddb.put_item(TableName=name, Item=item)
        else:
            ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": item}}]})
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == "Item size has exceeded the maximum allowed size"
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "k"}}, ConsistentRead=True)
