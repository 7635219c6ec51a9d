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


def test_parallel_run_gives_the_serial_verdicts_in_one_report(tmp_path: Path) -> None:
    serial = _run(tmp_path, "serial")
    parallel = _run(tmp_path, "parallel", "-n", "2")

    assert parallel["status"] == serial["status"] == "met"
    verdicts = {s["id"]: s["status"] for s in serial["scenarios"]}
    assert {s["id"]: s["status"] for s in parallel["scenarios"]} == verdicts
    features = {s["feature_file"].split("/features/")[-1].split("/")[0] for s in parallel["scenarios"]}
    assert features == {"posture", "deletion"} and len(verdicts) >= 4, verdicts
    # collection order, as in the serial report
    assert [s["id"] for s in parallel["scenarios"]] == [s["id"] for s in serial["scenarios"]]
    assert parallel["target"]["name"] == "embedded" and parallel["target"]["workers"] == 2
    assert all(s["steps"] and s["cleanup"]["failed"] == [] for s in parallel["scenarios"])

    # one run id for every worker, and no two scenarios shared a stack
    run_id = parallel["run_id"]
    prefixes = [s["evidence"]["stack"]["prefix"] for s in parallel["scenarios"]]
    assert all(p.startswith(f"drdrill-{run_id}-") for p in prefixes), prefixes
    assert len(set(prefixes)) == len(prefixes), prefixes
    text = (tmp_path / "parallel" / "report.json").read_text(encoding="utf-8")
    assert set(re.findall(r"drdrill-(\d{8}t\d{6}-[0-9a-f]{4})-", text)) == {run_id}
