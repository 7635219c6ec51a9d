"""The oracle computes the expected table at a moment from the seed and the recorded writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dr_infra.drill.items import seed_item
from dr_infra.drill.oracle import CANARY_KIND, Oracle, Write

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def _keys(items: object) -> set[str]:
    return {i["LockId"]["S"] for i in items()}  # type: ignore[operator]


def _oracle() -> Oracle:
    oracle = Oracle(hash_key="LockId")
    oracle.seed_count = 5
    oracle.seeded_at = T0
    return oracle


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_seed_only() -> None:
    oracle = _oracle()
    assert len(list(oracle.state_at(_at(1))())) == 5
    assert list(oracle.state_at(_at(-1))()) == []  # before seeding the table was empty


def test_deletes_count_only_once_finished() -> None:
    oracle = _oracle()
    victim = oracle.seed(2)
    oracle.record(Write(oracle.key(victim), None, _at(10), _at(11), harmful=True))
    before = _keys(oracle.state_at(_at(9)))
    after = _keys(oracle.state_at(_at(12)))
    assert victim["LockId"]["S"] in before
    assert victim["LockId"]["S"] not in after
    assert len(after) == 4
    assert victim["LockId"]["S"] in _keys(oracle.state_at(_at(10.5)))  # not finished yet


def test_modifications_and_inserts_overlay_the_seed() -> None:
    oracle = _oracle()
    changed = {**oracle.seed(0), "status": {"S": "tampered"}}
    new = seed_item(99)
    oracle.record(Write(oracle.key(changed), changed, _at(5), _at(5.1)))
    oracle.record(Write(oracle.key(new), new, _at(6), _at(6.1)))
    later = list(oracle.state_at(_at(7))())
    assert changed in later
    assert oracle.seed(0) not in later
    assert new in later
    earlier = list(oracle.state_at(_at(4))())
    assert oracle.seed(0) in earlier
    assert new not in earlier


def test_canaries_are_excluded_unless_asked_for() -> None:
    oracle = _oracle()
    canary = {**seed_item(500), "kind": {"S": CANARY_KIND}, "sequence": {"N": "1"}}
    oracle.record(Write(oracle.key(canary), canary, _at(1), _at(1.1), canary=True))
    assert canary not in list(oracle.state_at(_at(2))())
    assert canary in list(oracle.state_at(_at(2), include_canaries=True)())
    assert canary not in oracle.live_keys()
    assert oracle.last_write_finished() == T0  # canaries do not count as data that must survive
    assert oracle.last_write_finished(include_canaries=True) == _at(1.1)


def test_state_factory_is_re_iterable() -> None:
    items = _oracle().state_at(_at(1))
    assert list(items()) == list(items())
