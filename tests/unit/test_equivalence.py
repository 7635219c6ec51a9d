"""The streaming equivalence check: exact per DynamoDB type, exact counts, bounded drill-down and memory."""

from __future__ import annotations

import base64
import copy
import json
import random
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from dr_infra.verify.equivalence import (
    Diff,
    ItemFormatError,
    attribute_diffs,
    canonical,
    canonical_number,
    compare_streams,
)

Item = dict[str, Any]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def source(items: list[Item]) -> Callable[[], Iterable[Item]]:
    return lambda: iter(items)


class CountingSource:
    """A re-iterable source that counts its calls and the items it yields."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.calls = 0
        self.yielded = 0

    def __call__(self) -> Iterator[Item]:
        self.calls += 1
        for item in self.items:
            self.yielded += 1
            yield item


def full_item(i: int) -> Item:
    return {
        "pk": {"S": f"k{i:06d}"},
        "n": {"N": str(i)},
        "b": {"B": b64(i.to_bytes(3, "big"))},
        "flag": {"BOOL": bool(i % 2)},
        "nothing": {"NULL": True},
        "ss": {"SS": ["a", "b", f"c{i}"]},
        "ns": {"NS": ["1", "2.5", str(i)]},
        "bs": {"BS": [b64(b"x"), b64(b"y")]},
        "profile": {"M": {"name": {"S": f"n{i}"}, "tags": {"L": [{"S": "t0"}, {"N": "1"}, {"S": "t2"}]}}},
    }


# --- canonical encoding: exact per type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"N": "1.0"}, {"N": "1"}),
        ({"N": "1E+1"}, {"N": "10"}),
        ({"N": "-0"}, {"N": "0.000"}),
        ({"N": "0.10"}, {"N": ".1"}),
        ({"N": "12345678901234567890123456789012345678"}, {"N": "12345678901234567890123456789012345678.0"}),
        ({"SS": ["a", "b"]}, {"SS": ["b", "a"]}),
        ({"NS": ["1", "2.50"]}, {"NS": ["2.5", "1.0"]}),
        ({"BS": [b64(b"\x00"), b64(b"\xff")]}, {"BS": [b64(b"\xff"), b64(b"\x00")]}),
        ({"B": b64(b"\x00\x01")}, {"B": b"\x00\x01"}),
        ({"BS": [b64(b"a")]}, {"BS": [b"a"]}),
        ({"M": {"x": {"N": "1"}, "y": {"S": "s"}}}, {"M": {"y": {"S": "s"}, "x": {"N": "1.00"}}}),
        ({"L": [{"M": {"a": {"NS": ["1", "2"]}}}]}, {"L": [{"M": {"a": {"NS": ["2", "1"]}}}]}),
    ],
)
def test_equal_values_encode_equal(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert canonical({"a": left}) == canonical({"a": right})


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"N": "1"}, {"S": "1"}),
        ({"N": "1"}, {"N": "1.0000000000000000000000000000000000001"}),
        ({"N": "1" * 40}, {"N": "1" * 39 + "2"}),  # beyond 38 digits: kept exact, not rounded together
        ({"S": "a"}, {"S": "A"}),
        ({"B": b64(b"a")}, {"B": b64(b"b")}),
        ({"B": b64(b"a")}, {"S": b64(b"a")}),
        ({"BOOL": True}, {"BOOL": False}),
        ({"NULL": True}, {"BOOL": True}),
        ({"L": [{"S": "a"}, {"S": "b"}]}, {"L": [{"S": "b"}, {"S": "a"}]}),  # lists keep order
        ({"L": [{"S": "a"}]}, {"SS": ["a"]}),
        ({"SS": ["a"]}, {"SS": ["a", "b"]}),
        ({"M": {"x": {"N": "1"}}}, {"M": {"x": {"N": "1"}, "y": {"NULL": True}}}),
        ({"NS": ["1"]}, {"SS": ["1"]}),
    ],
)
def test_different_values_encode_differently(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert canonical({"a": left}) != canonical({"a": right})


def test_canonical_is_attribute_order_independent_and_ignores() -> None:
    item = full_item(3)
    reordered = dict(reversed(list(item.items())))
    assert canonical(item) == canonical(reordered)
    changed = {**item, "ts": {"N": "5"}}
    assert canonical(changed) != canonical(item)
    assert canonical(changed, ignore_attributes=["ts"]) == canonical(item)


def test_canonical_number() -> None:
    assert canonical_number("1.0") == canonical_number("1") == "1"
    assert canonical_number("100") == canonical_number("1E2")
    assert canonical_number("-0.0") == "0"
    with pytest.raises(ItemFormatError):
        canonical_number("NaN")
    with pytest.raises(ItemFormatError):
        canonical_number("one")


def test_integer_fast_path_spells_numbers_like_decimal() -> None:
    rng = random.Random(7)
    samples = ["0", "00", "7", "10", "100", "120", "1200", "0012", "9" * 38, "1" + "0" * 37]
    samples += [str(rng.randint(0, 10**12)) * rng.randint(1, 3) for _ in range(500)]
    for text in samples:
        slow = canonical_number(text + ".0")  # the Decimal path
        assert canonical_number(text) == slow, text


def test_malformed_values_are_rejected() -> None:
    with pytest.raises(ItemFormatError):
        canonical({"a": {"X": "1"}})
    with pytest.raises(ItemFormatError):
        canonical({"a": {"S": "x", "N": "1"}})
    with pytest.raises(ItemFormatError):
        canonical({"a": {"B": "not base64!"}})


# --- comparison ---------------------------------------------------------------------------------------------


def test_equal_streams_in_any_order_and_representation() -> None:
    items = [full_item(i) for i in range(500)]
    other = copy.deepcopy(items)
    random.Random(1).shuffle(other)
    for item in other:
        item["n"] = {"N": item["n"]["N"] + ".000"}
        item["b"] = {"B": base64.b64decode(item["b"]["B"])}  # boto3's bytes form
        item["ss"] = {"SS": list(reversed(item["ss"]["SS"]))}
    diff = compare_streams(source(items), source(other), ["pk"])
    assert diff.equal, diff.summary()
    assert (diff.compared_expected, diff.compared_actual) == (500, 500)
    assert diff.differing_partitions == 0 and diff.drilldown_passes == 0
    assert diff.summary() == "equal: 500 expected, 500 actual items"
    assert json.loads(json.dumps(diff.to_dict()))["equal"] is True


def test_counts_are_exact_beyond_max_examples() -> None:
    items = [full_item(i) for i in range(1000)]
    actual = [copy.deepcopy(item) for item in items[30:]]  # 30 missing
    for item in actual[:25]:  # 25 changed
        item["n"] = {"N": "-1"}
    actual += [full_item(i) for i in range(5000, 5040)]  # 40 extra
    diff = compare_streams(source(items), source(actual), ["pk"], max_examples=10)
    assert (diff.missing, diff.extra, diff.changed) == (30, 40, 25)
    assert not diff.equal
    assert len(diff.examples) == 10
    assert {e["kind"] for e in diff.examples} <= {"missing", "extra", "changed"}
    assert diff.compared_expected == 1000 and diff.compared_actual == 1010
    assert "30 missing, 40 extra, 25 changed" in diff.summary()
    evidence = diff.to_dict()
    assert evidence["examples_truncated"] is True and evidence["changed"] == 25


def test_examples_name_keys_and_kinds() -> None:
    expected = [full_item(1), full_item(2), full_item(3)]
    actual = [full_item(1), full_item(3), full_item(4)]
    actual[1]["flag"] = {"BOOL": not actual[1]["flag"]["BOOL"]}
    diff = compare_streams(source(expected), source(actual), ["pk"])
    by_kind = {e["kind"]: e for e in diff.examples}
    assert by_kind["missing"]["key"] == {"pk": {"S": "k000002"}}
    assert by_kind["extra"]["key"] == {"pk": {"S": "k000004"}}
    assert by_kind["changed"]["key"] == {"pk": {"S": "k000003"}}
    assert by_kind["changed"]["attribute_diffs"] == [
        {"attribute": "flag", "expected": {"BOOL": True}, "actual": {"BOOL": False}}
    ]


def test_composite_keys() -> None:
    expected = [{"h": {"S": "a"}, "r": {"N": str(i)}, "v": {"S": "x"}} for i in range(50)]
    actual = [{"h": {"S": "a"}, "r": {"N": f"{i}.0"}, "v": {"S": "x"}} for i in range(50)]
    assert compare_streams(source(expected), source(actual), ["h", "r"]).equal
    actual[7]["v"] = {"S": "y"}
    diff = compare_streams(source(expected), source(actual), ["h", "r"])
    assert diff.changed == 1 and diff.examples[0]["key"] == {"h": {"S": "a"}, "r": {"N": "7.0"}}


def test_missing_key_attribute_is_an_error() -> None:
    with pytest.raises(ItemFormatError, match="key attribute 'pk'"):
        compare_streams(source([{"x": {"S": "1"}}]), source([]), ["pk"], parallel=False)


def test_ignore_attributes() -> None:
    expected = [full_item(i) for i in range(20)]
    actual = [{**full_item(i), "written_at": {"N": str(i)}} for i in range(20)]
    assert not compare_streams(source(expected), source(actual), ["pk"]).equal
    assert compare_streams(source(expected), source(actual), ["pk"], ignore_attributes=["written_at"]).equal


# --- attribute-level diffs ---------------------------------------------------------------------------------


def test_attribute_diffs_nested_paths() -> None:
    expected = full_item(1)
    actual = copy.deepcopy(expected)
    actual["profile"]["M"]["tags"]["L"][2] = {"S": "changed"}
    actual["profile"]["M"]["name"] = {"N": "1"}
    actual["profile"]["M"]["new"] = {"BOOL": True}
    actual["ns"] = {"NS": ["1", "2.5", "99"]}
    del actual["nothing"]
    actual["b"] = {"B": b64(b"other")}
    diffs = {d["attribute"]: d for d in attribute_diffs(expected, actual)}
    assert set(diffs) == {
        "profile.tags[2]",
        "profile.name",
        "profile.new",
        "ns",
        "nothing",
        "b",
    }
    assert diffs["profile.tags[2]"] == {
        "attribute": "profile.tags[2]",
        "expected": {"S": "t2"},
        "actual": {"S": "changed"},
    }
    assert diffs["profile.new"]["expected"] is None
    assert diffs["nothing"] == {"attribute": "nothing", "expected": {"NULL": True}, "actual": None}
    assert diffs["b"]["actual"] == {"B": b64(b"other")}


def test_attribute_diffs_lists_of_different_length_and_bytes_are_jsonable() -> None:
    expected = {"pk": {"S": "a"}, "l": {"L": [{"S": "x"}]}, "b": {"B": b"\x00"}}
    actual = {"pk": {"S": "a"}, "l": {"L": [{"S": "x"}, {"B": b"\x01"}]}, "b": {"B": b64(b"\x00")}}
    diffs = attribute_diffs(expected, actual)
    assert diffs == [{"attribute": "l[1]", "expected": None, "actual": {"B": b64(b"\x01")}}]
    json.dumps(diffs)


def test_changed_example_ignores_set_and_number_spelling() -> None:
    expected = {"pk": {"S": "a"}, "ns": {"NS": ["1", "2"]}, "x": {"S": "1"}}
    actual = {"pk": {"S": "a"}, "ns": {"NS": ["2.0", "1"]}, "x": {"S": "2"}}
    assert attribute_diffs(expected, actual) == [{"attribute": "x", "expected": {"S": "1"}, "actual": {"S": "2"}}]


# --- drill-down only re-reads what differs -----------------------------------------------------------------


def test_equal_sides_are_read_once() -> None:
    items = [full_item(i) for i in range(2000)]
    expected, actual = CountingSource(items), CountingSource(copy.deepcopy(items))
    assert compare_streams(expected, actual, ["pk"]).equal
    assert (expected.calls, actual.calls) == (1, 1)
    assert (expected.yielded, actual.yielded) == (2000, 2000)


def test_drilldown_examines_only_differing_partitions() -> None:
    items = [full_item(i) for i in range(10_000)]
    other = copy.deepcopy(items)
    other[123]["n"] = {"N": "-5"}
    del other[4567]
    expected, actual = CountingSource(items), CountingSource(other)
    diff = compare_streams(expected, actual, ["pk"], partitions=1024)
    assert (diff.missing, diff.extra, diff.changed) == (1, 0, 1)
    assert diff.differing_partitions == 2
    assert diff.drilldown_passes == 1
    assert (expected.calls, actual.calls) == (2, 2)
    # Only the two differing partitions are examined (about 10 000 / 1024 items each, per side).
    assert diff.drilldown_items < 200, diff.drilldown_items


def test_drilldown_budget_splits_into_groups_with_exact_counts() -> None:
    items = [full_item(i) for i in range(3000)]
    other = [copy.deepcopy(item) for item in items if int(item["pk"]["S"][1:]) % 10]  # 300 missing
    expected, actual = CountingSource(items), CountingSource(other)
    diff = compare_streams(expected, actual, ["pk"], partitions=64, drilldown_budget=500)
    assert diff.missing == 300 and diff.extra == 0 and diff.changed == 0
    assert diff.drilldown_passes > 1
    assert expected.calls == 1 + diff.drilldown_passes


def test_single_partition_and_serial_mode() -> None:
    items = [full_item(i) for i in range(100)]
    other = copy.deepcopy(items[:-1])
    diff = compare_streams(source(items), source(other), ["pk"], partitions=1, parallel=False)
    assert diff.missing == 1 and diff.differing_partitions == 1


# --- property-style: random items and random mutations ------------------------------------------------------


def random_value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS"] + (["L", "M"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "S":
        return {"S": rng.choice(["", "a", "ü", "x" * rng.randint(1, 20), "\u2603"])}
    if kind == "N":
        return {"N": rng.choice(["0", "-1", "1.5", "1e3", str(rng.randint(-(10**30), 10**30)), "3.14159"])}
    if kind == "B":
        return {"B": b64(rng.randbytes(rng.randint(0, 8)))}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": sorted({f"s{rng.randint(0, 9)}" for _ in range(rng.randint(1, 4))})}
    if kind == "NS":
        return {"NS": sorted({str(rng.randint(0, 9)) for _ in range(rng.randint(1, 4))})}
    if kind == "BS":
        return {"BS": sorted({b64(bytes([rng.randint(0, 9)])) for _ in range(rng.randint(1, 4))})}
    if kind == "L":
        return {"L": [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    return {"M": {f"m{j}": random_value(rng, depth + 1) for j in range(rng.randint(0, 3))}}


def respell(av: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same value spelled differently (number formats, set order, bytes vs base64)."""
    ((kind, value),) = av.items()
    if kind == "N":
        return {"N": value + ".0" if "." not in value and "e" not in value else value}
    if kind in ("SS", "NS", "BS"):
        shuffled = list(value)
        rng.shuffle(shuffled)
        return {kind: shuffled}
    if kind == "B":
        return {"B": base64.b64decode(value)}
    if kind == "L":
        return {"L": [respell(v, rng) for v in value]}
    if kind == "M":
        return {"M": {k: respell(v, rng) for k, v in reversed(list(value.items()))}}
    return av


@pytest.mark.parametrize("seed", range(8))
def test_property_random_items_and_mutations(seed: int) -> None:
    rng = random.Random(seed)
    expected = [
        {"pk": {"S": f"p{i}"}, **{f"a{j}": random_value(rng) for j in range(rng.randint(0, 5))}} for i in range(400)
    ]
    actual = [{name: respell(av, rng) for name, av in item.items()} for item in expected]
    rng.shuffle(actual)
    assert compare_streams(source(expected), source(actual), ["pk"]).equal

    truth = {"missing": 0, "extra": 0, "changed": 0}
    mutated: list[Item] = []
    for item in actual:
        roll = rng.random()
        if roll < 0.05:
            truth["missing"] += 1
            continue
        if roll < 0.10:
            item = {**item, "mutation": {"S": "new attribute"}}
            truth["changed"] += 1
        mutated.append(item)
    for i in range(rng.randint(0, 20)):
        mutated.append({"pk": {"S": f"extra{i}"}})
        truth["extra"] += 1
    diff = compare_streams(source(expected), source(mutated), ["pk"], max_examples=3, partitions=32)
    assert {"missing": diff.missing, "extra": diff.extra, "changed": diff.changed} == truth
    assert len(diff.examples) == min(3, sum(truth.values()))
    for example in diff.examples:
        if example["kind"] == "changed":
            assert example["attribute_diffs"] == [
                {"attribute": "mutation", "expected": None, "actual": {"S": "new attribute"}}
            ]


# --- memory -------------------------------------------------------------------------------------------------


def generated(n: int, skip: int = -1, change: int = -1) -> Callable[[], Iterator[Item]]:
    def items() -> Iterator[Item]:
        for i in range(n):
            if i == skip:
                continue
            item = {"pk": {"S": f"item-{i:07d}"}, "n": {"N": str(i)}, "s": {"S": "payload-0123456789"}}
            if i == change:
                item["n"] = {"N": "-1"}
            yield item

    return items


def _peak_bytes(n: int) -> int:
    tracemalloc.start()
    try:
        diff = compare_streams(generated(n), generated(n, skip=10, change=20), ["pk"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (diff.missing, diff.changed, diff.extra) == (1, 1, 0)
    assert diff.compared_expected == n and diff.compared_actual == n - 1
    return peak


def test_memory_does_not_grow_with_the_number_of_items() -> None:
    """Five times the items, not five times the memory: the comparison streams, it never holds a table.

    (bench/bench_equivalence.py measures the 100 k figure; tracemalloc makes that too slow for the suite.)
    """
    small, large = _peak_bytes(2_000), _peak_bytes(10_000)
    assert large < 2 * small, f"peak {small / 1e6:.2f} MB at 2 000 items, {large / 1e6:.2f} MB at 10 000"
    assert large < 8 * 1024 * 1024, f"peak {large / 1e6:.1f} MB"


def test_diff_defaults() -> None:
    diff = Diff()
    assert diff.equal and diff.to_dict()["examples"] == []
