"""The embedded fast whole-table read (``GET /_drdrill/tables/<name>/items``) and the reader's path choice."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from dr_infra.targets import control_token
from dr_infra.targets.base import Target
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.verify import table_reader
from dr_infra.verify.equivalence import canonical, compare_table_to, compare_tables
from dr_infra.verify.table_reader import FAST_EXPORT, TableReadError, read_items, segment_count


def boto_item(i: int) -> dict[str, Any]:
    """An item with every DynamoDB type, as boto3's low-level client takes it (binary as bytes)."""
    return {
        "pk": {"S": f"k{i:04d}"},
        "n": {"N": f"{i}.50"},
        "b": {"B": bytes([i % 256, 0, 255])},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "ss": {"SS": ["a", f"s{i}"]},
        "ns": {"NS": ["1", "2.5", str(i + 3)]},
        "bs": {"BS": [b"\x00", bytes([i % 256 or 1])]},
        "profile": {
            "M": {
                "name": {"S": f"n{i} ü"},
                "tags": {"L": [{"S": "t0"}, {"N": "1"}, {"B": b"\x01"}, {"M": {"deep": {"BOOL": True}}}]},
            }
        },
    }


def wire(av: Any) -> Any:
    """boto3 form -> wire JSON (binary as base64 text)."""
    if isinstance(av, bytes):
        return base64.b64encode(av).decode()
    if isinstance(av, dict):
        return {k: wire(v) for k, v in av.items()}
    if isinstance(av, list):
        return [wire(v) for v in av]
    return av


def make_table(target: EmbeddedTarget, name: str, items: list[dict[str, Any]], range_key: bool = False) -> None:
    client = target.client("dynamodb")
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    client.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    for start in range(0, len(items), 25):
        request = {name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def by_key(items: list[dict[str, Any]]) -> dict[bytes, bytes]:
    return {canonical({"pk": i["pk"], "sk": i.get("sk", {"NULL": True})}): canonical(i) for i in items}


class NoFastExport(Target):
    """The same endpoint, without the ``fast_export`` capability (as AWS or LocalStack would be)."""

    name = "no-fast-export"

    def __init__(self, inner: EmbeddedTarget) -> None:
        super().__init__(inner.region)
        self.inner = inner
        self._clients = inner.clients

    def start(self) -> None:
        return

    @property
    def capabilities(self) -> frozenset[str]:
        return self.inner.capabilities - {FAST_EXPORT}

    @property
    def endpoint_url(self) -> str | None:
        return self.inner.endpoint_url


def test_embedded_target_advertises_fast_export(embedded: EmbeddedTarget) -> None:
    assert FAST_EXPORT in embedded.capabilities
    assert embedded.control is not None
    info = embedded.control.info()
    assert info is not None and FAST_EXPORT in info["capabilities"]


def _signed(embedded: EmbeddedTarget, url: str) -> urllib.request.Request:
    """The route answers the server's own clients only: the control token goes with the request."""
    assert embedded.control is not None and embedded.control.token
    return urllib.request.Request(url, headers={control_token.HEADER: embedded.control.token})  # noqa: S310


def test_route_streams_exactly_the_items_of_every_type(embedded: EmbeddedTarget, unique: str) -> None:
    name = f"export-{unique}"
    items = [boto_item(i) for i in range(300)]
    make_table(embedded, name, items)
    url = table_reader.export_url(embedded, name)
    with urllib.request.urlopen(_signed(embedded, url), timeout=30) as response:  # noqa: S310 - loopback
        assert response.headers["Content-Type"] == "application/x-ndjson"
        lines = response.read().decode().splitlines()
    header = json.loads(lines[0])
    assert header["item_count"] == 300 and header["table"] == name
    got = [json.loads(line) for line in lines[1:]]
    assert by_key(got) == by_key([wire(i) for i in items])
    # Byte-for-byte what the public API returns, too (wire form).
    scanned = list(table_reader.scan_items(embedded, name))
    assert sorted(json.dumps(i, sort_keys=True) for i in got) == sorted(json.dumps(i, sort_keys=True) for i in scanned)


def test_route_reads_range_key_tables(embedded: EmbeddedTarget, unique: str) -> None:
    name = f"export-range-{unique}"
    items = [{"pk": {"S": f"h{i % 7}"}, "sk": {"N": str(i)}, "v": {"S": "x"}} for i in range(100)]
    make_table(embedded, name, items, range_key=True)
    got = list(read_items(embedded, name))
    assert len(got) == 100
    assert by_key(got) == by_key(items)


def test_unknown_table_is_a_404_json_error(embedded: EmbeddedTarget, unique: str) -> None:
    url = table_reader.export_url(embedded, f"no-such-table-{unique}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(_signed(embedded, url), timeout=10)  # noqa: S310 - loopback
    assert caught.value.code == 404
    assert "not found" in json.loads(caught.value.read())["error"]
    with pytest.raises(TableReadError, match="not found"):
        list(read_items(embedded, f"no-such-table-{unique}"))


def test_other_regions_are_separate_backends(embedded: EmbeddedTarget, unique: str) -> None:
    name = f"export-region-{unique}"
    make_table(embedded, name, [boto_item(1)])
    endpoint = embedded.endpoint_url
    url = f"{endpoint}/_drdrill/tables/{name}/items?region=eu-west-1"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(_signed(embedded, url), timeout=10)  # noqa: S310 - loopback
    assert caught.value.code == 404


def test_read_items_uses_the_fast_path_when_advertised(
    embedded: EmbeddedTarget, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"export-fast-{unique}"
    make_table(embedded, name, [boto_item(i) for i in range(50)])

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Scan path used although the target advertises fast_export")

    monkeypatch.setattr(table_reader, "scan_items", no_scan)
    assert len(list(read_items(embedded, name))) == 50


def test_read_items_falls_back_to_scan_without_the_capability(
    embedded: EmbeddedTarget, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"export-scan-{unique}"
    items = [boto_item(i) for i in range(120)]
    make_table(embedded, name, items)
    plain = NoFastExport(embedded)

    def no_export(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fast path used although the target lacks fast_export")

    monkeypatch.setattr(table_reader, "_read_export", no_export)
    got = list(read_items(plain, name))
    assert by_key(got) == by_key([wire(i) for i in items])
    # A forced parallel scan (threads, bounded queue) gives the same items.
    got_parallel = list(read_items(plain, name, segments=4))
    assert by_key(got_parallel) == by_key(got) and len(got_parallel) == 120


def test_parallel_scan_stops_cleanly_when_abandoned(embedded: EmbeddedTarget, unique: str) -> None:
    name = f"export-abandon-{unique}"
    make_table(embedded, name, [boto_item(i) for i in range(60)])
    stream = table_reader.scan_items(embedded, name, segments=3)
    first = next(iter(stream))
    assert "pk" in first
    stream.close()  # type: ignore[attr-defined]


def test_segment_count_is_sized_to_the_table() -> None:
    gb = 1 << 30
    assert segment_count(0) == 1
    assert segment_count(gb) == 1
    assert segment_count(gb + 1) == 2
    assert segment_count(5 * gb) == 5
    assert segment_count(1000 * gb) == 16


def test_compare_tables_on_the_embedded_target(embedded: EmbeddedTarget, unique: str) -> None:
    left, right = f"eq-left-{unique}", f"eq-right-{unique}"
    items = [boto_item(i) for i in range(200)]
    make_table(embedded, left, items)
    make_table(embedded, right, items)
    diff = compare_tables(embedded, left, right)
    assert diff.equal and diff.compared_expected == 200, diff.summary()

    client = embedded.client("dynamodb")
    client.delete_item(TableName=right, Key={"pk": {"S": "k0005"}})
    client.update_item(
        TableName=right,
        Key={"pk": {"S": "k0007"}},
        UpdateExpression="SET profile.tags[2] = :b",
        ExpressionAttributeValues={":b": {"B": b"\x02"}},
    )
    client.put_item(TableName=right, Item={"pk": {"S": "zzz"}})
    diff = compare_tables(embedded, left, right)
    assert (diff.missing, diff.extra, diff.changed) == (1, 1, 1)
    changed = next(e for e in diff.examples if e["kind"] == "changed")
    assert changed["attribute_diffs"] == [
        {"attribute": "profile.tags[2]", "expected": {"B": "AQ=="}, "actual": {"B": "Ag=="}}
    ]
    json.dumps(diff.to_dict())

    oracle = [wire(i) for i in items]
    diff = compare_table_to(embedded, left, lambda: iter(oracle))
    assert diff.equal, diff.summary()
