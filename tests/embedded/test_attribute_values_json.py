"""DynamoDB items are answered byte for byte as moto's own serializer answers them, only cheaper.

dr_infra/targets/embedded/attribute_values_json.py writes ``AttributeValue`` structures (and maps of them)
directly instead of through moto's model walk. The contract is equality: for every value, the JSON body equals the
one moto's own code writes. moto's own path is reached here the way the gap-filler defers to it: a serializer
whose attribute picker carries a response transformer (one that matches no key path).
"""

from __future__ import annotations

import base64
import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model

from dr_infra.targets.embedded import attribute_values_json, patches

patches.install_all()


def _serializer(service: str, operation: str, shortcut: bool) -> Any:
    model = get_service_model(service)
    transformers: dict[str, Any] = {} if shortcut else {"no.such.key.path": lambda value: value}
    cls = get_serializer_class(service, model.protocol)
    return cls(
        operation_model=model.operation_model(operation),
        value_picker=XFormedAttributePicker(response_transformers=transformers),
    )


def body(service: str, operation: str, result: Any, shortcut: bool) -> str:
    return str(_serializer(service, operation, shortcut).serialize(result)["body"])


names = st.text(string.ascii_letters + string.digits + "_-.", min_size=1, max_size=8)
numbers = st.one_of(st.integers(-(10**12), 10**12).map(str), st.decimals(allow_nan=False, places=3).map(str))
binaries = st.one_of(st.binary(max_size=12), st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode()))
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=12)),
    st.builds(lambda v: {"N": v}, numbers),
    st.builds(lambda v: {"B": v}, binaries),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=6), min_size=1, max_size=4, unique=True)),
    st.builds(lambda v: {"NS": v}, st.lists(numbers, min_size=1, max_size=4, unique=True)),
    st.builds(lambda v: {"BS": v}, st.lists(binaries, min_size=1, max_size=3)),
    st.just({"NULL": True}),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
)
attribute_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda v: {"M": v}, st.dictionaries(names, inner, max_size=4)),
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=4)),
    ),
    max_leaves=12,
)
items = st.dictionaries(names, attribute_values, min_size=1, max_size=6)
#: values that are not plain wire data: the gap-filler must hand each to moto unchanged
irregular = st.one_of(
    st.just({"S": 5}),
    st.just({"N": 1.5}),
    st.just({"S": "x", "s": "y"}),
    st.just({"S": None}),
    st.just({"M": {"a": None}}),
    st.just({"L": [None, {"S": "x"}]}),
    st.just({"SS": ("a", "b")}),
    st.just({"BOOL": 1}),
)


def test_the_shortcut_is_taken_for_dynamodb_and_its_streams() -> None:
    """Both models' AttributeValue is recognised (else every test below would compare moto with itself)."""
    for service, operation, path in (
        ("dynamodb", "GetItem", ("Item",)),
        ("dynamodbstreams", "GetRecords", ("Records", "member", "dynamodb", "NewImage")),
    ):
        shape: Any = get_service_model(service).operation_model(operation).output_shape
        for step in path:
            shape = shape.member if step == "member" else shape.members[step]
        assert attribute_values_json.is_attribute_value(shape.value), (service, operation)
    lambda_env = get_service_model("lambda").operation_model("GetFunctionConfiguration").output_shape
    assert not attribute_values_json.is_attribute_value(lambda_env.members["Environment"].members["Variables"].value)


def test_a_value_is_written_without_moto_s_walk() -> None:
    """The shortcut's own output (not moto's) for one nested value: the path a BatchGetItem takes."""
    value = {"M": {"b": {"B": b"\x00\x01"}, "l": {"L": [{"N": "1"}, {"NULL": True}]}}}
    assert attribute_values_json.attribute_value(value, lambda b: base64.b64encode(b).decode()) == {
        "M": {"b": {"B": "AAE="}, "l": {"L": [{"N": "1"}, {"NULL": True}]}}
    }


@settings(max_examples=150, deadline=None)
@given(item=items)
def test_an_item_is_answered_as_moto_answers_it(item: dict[str, Any]) -> None:
    # plain wire data is written by the shortcut itself (it raises to hand anything else to moto)
    attribute_values_json.attribute_map(
        item, lambda b: base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()
    )
    result = {"Item": item, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}
    assert body("dynamodb", "GetItem", result, True) == body("dynamodb", "GetItem", result, False)


@settings(max_examples=60, deadline=None)
@given(found=st.lists(items, max_size=5), unread=st.lists(items, max_size=3))
def test_a_batch_get_item_reply_is_answered_as_moto_answers_it(found: list[Any], unread: list[Any]) -> None:
    result = {
        "Responses": {"orders": found},
        "UnprocessedKeys": {"orders": {"Keys": unread, "ConsistentRead": True}} if unread else {},
    }
    assert body("dynamodb", "BatchGetItem", result, True) == body("dynamodb", "BatchGetItem", result, False)


@settings(max_examples=60, deadline=None)
@given(new=items, old=st.one_of(st.none(), items))
def test_a_stream_record_is_answered_as_moto_answers_it(new: dict[str, Any], old: dict[str, Any] | None) -> None:
    record: dict[str, Any] = {"Keys": {"LockId": {"S": "k"}}, "NewImage": new, "SequenceNumber": "1"}
    if old is not None:
        record["OldImage"] = old
    result = {"Records": [{"eventName": "MODIFY", "eventID": "e", "dynamodb": record}], "NextShardIterator": "i"}
    assert body("dynamodbstreams", "GetRecords", result, True) == body("dynamodbstreams", "GetRecords", result, False)


@settings(max_examples=40, deadline=None)
@given(item=items, odd=irregular)
def test_a_value_that_is_not_plain_wire_data_is_left_to_moto(item: dict[str, Any], odd: dict[str, Any]) -> None:
    """An odd value anywhere in the item: moto's own code writes the whole item, as before."""
    item = {**item, "odd": odd}
    assert body("dynamodb", "GetItem", {"Item": item}, True) == body("dynamodb", "GetItem", {"Item": item}, False)


def test_the_embedded_target_reads_back_what_it_was_given(embedded: Any) -> None:
    """End to end through the server: every kind of value comes back as written (the shortcut serving it)."""
    ddb = embedded.client("dynamodb")
    table = "attribute-values-json"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        item = {
            "k": {"S": "one"},
            "n": {"N": "-1.5"},
            "b": {"B": b"\x00\xff"},
            "ss": {"SS": ["a", "b"]},
            "bs": {"BS": [b"\x01", b"\x02\x03"]},
            "m": {"M": {"deep": {"L": [{"NULL": True}, {"BOOL": False}, {"NS": ["1", "2"]}]}}},
        }
        ddb.put_item(TableName=table, Item=item)
        got = ddb.batch_get_item(RequestItems={table: {"Keys": [{"k": {"S": "one"}}], "ConsistentRead": True}})
        assert got["Responses"][table] == [item]
        assert ddb.get_item(TableName=table, Key={"k": {"S": "missing"}}).get("Item") is None
    finally:
        ddb.delete_table(TableName=table)


@pytest.mark.parametrize("value", [{"S": "a", "N": "1"}, {}])
def test_a_value_with_no_or_many_members_is_written_as_moto_writes_it(value: dict[str, Any]) -> None:
    """AWS refuses such values on input; moto's writer does not, and neither does the shortcut differ."""
    result = {"Item": {"x": value}}
    assert body("dynamodb", "GetItem", result, True) == body("dynamodb", "GetItem", result, False)
    assert json.loads(body("dynamodb", "GetItem", result, True))["Item"]["x"] == value
