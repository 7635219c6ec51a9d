"""``drdrill plan --shards N``: every feature file in exactly one shard, the work balanced, a budget per shard."""

from __future__ import annotations

import pytest

from dr_infra.app.plan_shards import shard_run
from dr_infra.app.plan_time import AWS_TIMINGS
from dr_infra.errors import ConfigError


def _rows() -> list[dict[str, object]]:
    sizes = {"a.feature": [1800, 1800], "b.feature": [1800], "c.feature": [300, 300, 300], "d.feature": [60]}
    rows: list[dict[str, object]] = [
        {"feature_file": path, "estimate_s": float(s), "skipped_on_target": None}
        for path, durations in sizes.items()
        for s in durations
    ]
    rows.append({"feature_file": "e.feature", "estimate_s": 0.0, "skipped_on_target": "target aws lacks x: y"})
    return rows


def test_each_file_lands_in_one_shard_and_the_longest_are_spread() -> None:
    shards = shard_run(_rows(), 3, AWS_TIMINGS, None, 4)
    files = [path for shard in shards for path in shard["paths"]]
    assert sorted(files) == ["a.feature", "b.feature", "c.feature", "d.feature", "e.feature"]
    assert len(files) == len(set(files)) and len(shards) == 3
    first = {path: shard["index"] for shard in shards for path in shard["paths"]}
    assert first["a.feature"] != first["b.feature"]  # the two longest files on different runners
    assert sum(shard["scenarios"] for shard in shards) == len(_rows())


def test_each_shard_gets_the_workers_that_fit_the_budget_and_fewer_shards_than_files_is_fine() -> None:
    (only,) = shard_run(_rows(), 1, AWS_TIMINGS, 3600.0, 4)
    assert only["estimate_s"] <= 3600.0 and only["workers"] >= 3  # three 30-minute drills at once
    assert len(shard_run(_rows(), 10, AWS_TIMINGS, None, 4)) == 5  # one file per shard at most
    with pytest.raises(ConfigError, match="--shards 0"):
        shard_run(_rows(), 0, AWS_TIMINGS, None, 4)
