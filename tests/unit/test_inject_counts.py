"""Counts in steps: negative and absurd numbers are refused in one line."""

from __future__ import annotations

import pytest

from dr_infra.drill.inject import MAX_ITEMS, check_count
from dr_infra.errors import ConfigError


@pytest.mark.parametrize("count", [0, 1, 3, MAX_ITEMS])
def test_sane_counts_pass(count: int) -> None:
    assert check_count(count) == count


def test_negative_count() -> None:
    with pytest.raises(ConfigError, match="cannot be negative"):
        check_count(-3)


@pytest.mark.parametrize("count", [MAX_ITEMS + 1, 10_000_000])
def test_count_above_cap(count: int) -> None:
    with pytest.raises(ConfigError) as caught:
        check_count(count)
    assert f"{MAX_ITEMS:,}" in str(caught.value)
    assert "\n" not in str(caught.value)
