"""Shards for a job matrix: the feature files split over K runners so each finishes in about the same time.

When one runner is not enough (its timeout, or the drills one machine should hold at once), the scheduled
workflow runs K ``drdrill run`` jobs, one per shard, and merges their journals with ``drdrill report --merge``.
A shard is a list of feature files (what ``drdrill run`` takes); files are dealt longest first to the shard with
the least estimated work (LPT), and each shard gets the ``-n`` that fits the budget on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dr_infra.app.plan_time import Timings, estimate
from dr_infra.errors import ConfigError

__all__ = ["MAX_SHARDS", "shard_run"]

MAX_SHARDS = 256
"""GitHub Actions runs at most 256 jobs from one matrix."""


def shard_run(
    rows: Sequence[dict[str, Any]], shards: int, timings: Timings, budget_s: float | None, cores: int
) -> list[dict[str, Any]]:
    """``shards`` groups of feature files from the plan's scenario rows, each with its workers and estimate.

    Files whose scenarios the target skips still go to a shard (the run records the skips); a shard with no
    file is left out, so fewer than ``shards`` come back when there are fewer files.
    """
    if not 1 <= shards <= MAX_SHARDS:
        raise ConfigError(f"--shards {shards} must be 1 to {MAX_SHARDS} (a GitHub Actions matrix runs 256 jobs)")
    per_file: dict[str, list[float]] = {}
    for row in rows:
        durations = per_file.setdefault(row["feature_file"], [])
        if not row["skipped_on_target"]:
            durations.append(float(row["estimate_s"]))
    groups: list[dict[str, Any]] = [{"paths": [], "durations": []} for _ in range(shards)]
    for path, durations in sorted(per_file.items(), key=lambda kv: (-sum(kv[1]), kv[0])):
        lightest = min(groups, key=lambda g: (sum(g["durations"]), len(g["paths"])))
        lightest["paths"].append(path)
        lightest["durations"].extend(durations)
    out: list[dict[str, Any]] = []
    for group in (g for g in groups if g["paths"]):
        mine = set(group["paths"])
        durations = [float(r["estimate_s"]) for r in rows if r["feature_file"] in mine and not r["skipped_on_target"]]
        figures = estimate(durations, timings, None, budget_s, cores)  # the shard schedules its drills longest first
        out.append(
            {
                "index": len(out) + 1,
                "paths": sorted(group["paths"]),
                "scenarios": sum(1 for row in rows if row["feature_file"] in group["paths"]),
                "workers": figures["workers"],
                "estimate_s": figures["concurrent"],
            }
        )
    return out
