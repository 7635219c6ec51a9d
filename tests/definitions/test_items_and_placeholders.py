"""Items that fit a user's table, and placeholders filled with the drill's names (pure functions)."""

from __future__ import annotations

from dr_infra.drill.items import ItemMaker, item_key
from dr_infra.stack import placeholders


def test_generated_items_fit_a_composite_key_and_index_keys() -> None:
    maker = ItemMaker(hash_key=("customerId", "S"), range_key=("orderId", "N"), indexed=(("status", "S"),))
    items = [maker.seed(i) for i in range(9)]
    keys = {item_key(i, maker.key_attributes) for i in items}
    assert len(keys) == 9  # unique by the full primary key
    assert len({i["customerId"]["S"] for i in items}) == 3  # yet partition keys repeat
    assert all("N" in i["orderId"] and "S" in i["status"] for i in items)
    changed = maker.modified(items[0], 1)
    assert changed["status"] == items[0]["status"] and changed["quantity"] != items[0]["quantity"]
    canary = maker.canary(5, {"kind": {"S": "canary"}})
    assert canary["customerId"] == {"S": "canary-0000005"} and canary["orderId"] == {"N": "0"}


def test_sample_items_are_repeated_and_rekeyed_binary_keys_included() -> None:
    sample = ({"digest": {"B": b"\x00"}, "size": {"N": "1"}}, {"digest": {"B": b"\x01"}, "size": {"N": "2"}})
    maker = ItemMaker(hash_key=("digest", "B"), sample=sample)
    items = [maker.seed(i) for i in range(5)]
    assert [i["size"]["N"] for i in items] == ["1", "2", "1", "2", "1"]
    assert len({i["digest"]["B"] for i in items}) == 5 and all(isinstance(i["digest"]["B"], bytes) for i in items)
    assert maker.named("k-1")["digest"] == {"B": b"k-1"}
    assert sample[0]["digest"] == {"B": b"\x00"}  # the sample itself is never changed


def test_a_named_item_on_a_number_key_is_a_stable_number_of_its_name() -> None:
    """'the table holds the item "customer-42"' on a Number-keyed table: a valid number, the same in every step
    (so the When step finds it), never a seeded item's or a canary's; a name that is a number keeps it."""
    maker = ItemMaker(hash_key=("accountNo", "N"))
    named = maker.named("customer-42")["accountNo"]["N"]
    assert named == ItemMaker(hash_key=("accountNo", "N")).named("customer-42")["accountNo"]["N"]
    assert int(named) >= 10**15 and named != maker.named("invoice-7")["accountNo"]["N"]
    assert maker.named("42")["accountNo"] == {"N": "42"}
    assert maker.named("-1.5")["accountNo"] == {"N": "-1.5"}
    assert ItemMaker(hash_key=("id", "S")).named("customer-42")["id"] == {"S": "customer-42"}


def test_placeholders_fill_strings_only_and_leave_iam_variables_alone() -> None:
    policy = {"Resource": ["{table_arn}", "arn:aws:s3:::${aws:username}/*"], "Count": 3}
    filled = placeholders.fill(policy, {"table_arn": "arn:t"})
    assert filled == {"Resource": ["arn:t", "arn:aws:s3:::${aws:username}/*"], "Count": 3}
    assert placeholders.unknown({"a": ["{table_arn}", "{tabel}"]}) == ["tabel"]
    assert placeholders.unknown("${aws:username} {region}") == []
