"""The order ``drdrill run -n N`` hands drills to its workers: by the plan's estimate of each, longest first.

The scheduling rule is :mod:`dr_infra.bdd.schedule`; this module gives it the figures: the per-scenario
estimates ``drdrill plan`` prints (:func:`dr_infra.app.plan.scenario_estimates`), looked up by a collected test's
node id (its feature file, resolved against the run's root, and its test name; the rows of a Scenario Outline
share a test name and take the longest row's estimate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dr_infra.bdd.schedule import Estimate, LongestFirst
from dr_infra.errors import ConfigError


def estimates_by_nodeid(rows: list[tuple[str, str, float]], root: Path) -> Estimate:
    """A node id's estimate from ``(feature file, test name, seconds)`` rows (``None`` for any other test)."""
    table: dict[tuple[Path, str], float] = {}
    for feature_file, test_name, seconds in rows:
        key = (Path(feature_file).resolve(), test_name)
        table[key] = max(seconds, table.get(key, seconds))

    def estimate(nodeid: str) -> float | None:
        file, _, rest = nodeid.partition("::")
        return table.get(((root / file).resolve(), rest.split("[", 1)[0]))

    return estimate


def longest_first_plugin(args: argparse.Namespace, root: Path) -> LongestFirst | None:
    """The scheduler plugin for a run with workers; ``None`` for a serial run or one the plan cannot estimate
    (a bad feature: the run reports it itself, as without workers)."""
    if getattr(args, "workers", None) is None:
        return None
    from dr_infra.app.plan import scenario_estimates

    try:
        rows = scenario_estimates(args)
    except ConfigError:
        return None
    return LongestFirst(estimates_by_nodeid(rows, root))
