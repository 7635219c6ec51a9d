"""``drdrill run -n 2``: same verdicts as a serial run, one run id, no shared stack, one merged report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, run_drdrill

FEATURES = [str(REPO / "features" / "posture"), str(REPO / "features" / "deletion")]

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, name: str, *extra: str) -> dict:
    report = tmp_path / name
    result = run_drdrill("run", *FEATURES, "--report-dir", str(report), "-q", *extra, cwd=tmp_path, timeout=300)
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    assert "Traceback" not in result.stderr
    files = sorted(p.name for p in report.iterdir())
    assert files.count("report.json") == 1, files
    return json.loads((report / "report.json").read_text(encoding="utf-8"))


def _scenario_names_in_collection_order() -> list[str]:
    """What a serial run lists: the arguments in order, each folder's files sorted, scenarios as written."""
    names: list[str] = []
    for folder in FEATURES:
        for feature in sorted(Path(folder).glob("*.feature")):
            lines = feature.read_text(encoding="utf-8").splitlines()
            names.extend(line.split(":", 1)[1].strip() for line in lines if line.strip().startswith("Scenario:"))
    return names


def test_parallel_run_gives_the_serial_verdicts_in_one_report(tmp_path: Path) -> None:
    """Serially these scenarios all pass (the default suite runs them in-process), so -n 2 must too."""
    parallel = _run(tmp_path, "parallel", "-n", "2")

    assert parallel["status"] == "met"
    assert {s["status"] for s in parallel["scenarios"]} == {"passed"}
    features = {Path(s["feature_file"]).parent.name for s in parallel["scenarios"]}
    assert features == {"posture", "deletion"}
    # collection order, as in a serial report
    assert [s["name"] for s in parallel["scenarios"]] == _scenario_names_in_collection_order()
    assert parallel["target"]["name"] == "embedded" and parallel["target"]["workers"] == 2
    assert all(s["steps"] and s["cleanup"]["failed"] == [] for s in parallel["scenarios"])

    # one run id for every worker, and no two scenarios shared a stack
    run_id = parallel["run_id"]
    prefixes = [s["evidence"]["stack"]["prefix"] for s in parallel["scenarios"]]
    assert all(p.startswith(f"drdrill-{run_id}-") for p in prefixes), prefixes
    assert len(set(prefixes)) == len(prefixes), prefixes
    text = (tmp_path / "parallel" / "report.json").read_text(encoding="utf-8")
    assert set(re.findall(r"drdrill-(\d{8}t\d{6}-[0-9a-f]{4})-", text)) == {run_id}
