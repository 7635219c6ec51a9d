"""``drdrill report --merge``: the journals of a sharded run give the verdict and scenario order of one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import REPO, run_drdrill

SHARDS = ("features/insertion", "features/posture")
"""Two small shards, in the order ``drdrill run features/`` collects them (folder entries sorted by name)."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One run of both folders, and one run per folder (the shards)."""
    base = tmp_path_factory.mktemp("merge")
    single = run_drdrill("run", *SHARDS, "-q", "--report-dir", str(base / "single"), cwd=REPO, timeout=300)
    assert single.code == 0, single.stderr
    out = {"single": base / "single" / "report.json"}
    for shard in SHARDS:
        name = shard.rsplit("/", 1)[1]
        done = run_drdrill("run", shard, "-q", "--report-dir", str(base / name), cwd=REPO, timeout=300)
        assert done.code == 0, done.stderr
        out[name] = base / name / "report.json"
    return out


def _journal(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _merge(*journals: Path, out: Path) -> Any:
    return run_drdrill("report", "--merge", *map(str, journals), "--out", str(out), cwd=REPO)


def test_merged_shards_list_the_scenarios_of_one_run_in_its_order_with_its_verdict(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    done = _merge(runs["posture"], runs["insertion"], out=tmp_path / "merged")  # in any order, as CI downloads them
    assert done.code == 0, done.stderr
    assert "merged 2 journals, 6 scenarios (verdict: met)" in done.stdout
    merged, single = _journal(tmp_path / "merged" / "report.json"), _journal(runs["single"])
    assert [(s["id"], s["status"]) for s in merged["scenarios"]] == [
        (s["id"], s["status"]) for s in single["scenarios"]
    ]
    assert merged["status"] == single["status"] == "met"
    runs_merged = {_journal(runs["posture"])["run_id"], _journal(runs["insertion"])["run_id"]}
    assert set(merged["merged_from"]) == runs_merged
    for name in ("report.html", "report.md", "junit.xml"):
        assert (tmp_path / "merged" / name).is_file()


def test_a_violation_in_one_shard_is_the_merged_verdict_and_exit_code(runs: dict[str, Path], tmp_path: Path) -> None:
    broken = _journal(runs["posture"])
    broken["scenarios"][1]["status"] = "failed"
    broken["scenarios"][1]["failure"] = "the backup plan runs every 24 hours"
    path = tmp_path / "posture-violated.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    done = _merge(runs["insertion"], path, out=tmp_path / "merged")
    assert done.code == 1, done.stderr
    assert _journal(tmp_path / "merged" / "report.json")["status"] == "violated"
    errors = _journal(runs["insertion"])
    errors["usage_errors"] = ["features/x.feature:3: unknown step"]
    path = tmp_path / "insertion-usage.json"
    path.write_text(json.dumps(errors), encoding="utf-8")
    assert _merge(path, runs["posture"], out=tmp_path / "m2").code == 2


def test_overlapping_or_foreign_journals_are_refused_with_one_line(runs: dict[str, Path], tmp_path: Path) -> None:
    done = _merge(runs["single"], runs["posture"], out=tmp_path / "m")
    assert done.code == 2 and len(done.error_lines) == 1 and "disjoint shards" in done.stderr, done.stderr
    other = _journal(runs["posture"])
    other["target"]["name"] = "aws"
    path = tmp_path / "aws.json"
    path.write_text(json.dumps(other), encoding="utf-8")
    done = _merge(runs["insertion"], path, out=tmp_path / "m")
    assert done.code == 2 and len(done.error_lines) == 1 and "one target" in done.stderr, done.stderr
    done = _merge(runs["insertion"], out=tmp_path / "m")
    assert done.code == 2 and "two or more journals" in done.stderr
    done = _merge(runs["insertion"], tmp_path / "missing.json", out=tmp_path / "m")
    assert done.code == 2 and len(done.error_lines) == 1 and "missing.json" in done.stderr
