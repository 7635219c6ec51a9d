"""``drdrill run -n N`` with more workers than cores: the workers attach to one embedded server the controller
runs, instead of starting one each (issue 19: a waiting drill should cost a worker process, not a server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dr_infra.bdd.xdist import share_endpoint

REPO = Path(__file__).resolve().parents[2]


def test_workers_share_the_server_only_when_there_are_more_of_them_than_cores() -> None:
    assert share_endpoint("auto", 3, 2) and share_endpoint("auto", 9, 8)
    assert not share_endpoint("auto", 2, 2) and not share_endpoint("auto", None, 2)
    assert share_endpoint("always", 2, 8) and not share_endpoint("never", 16, 2)


def _run(tmp_path: Path, share: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_"))}
    env["DRDRILL_SHARE_TARGET"] = share
    report = tmp_path / share
    done = subprocess.run(
        [str(Path(sys.executable).with_name("drdrill")), "run", "features/posture", "features/insertion", "-n", "2",
         "-q", "--report-dir", str(report)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return dict(json.loads((report / "report.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("share", ["always", "never"])
def test_drills_on_a_shared_server_reach_the_verdicts_of_separate_servers(tmp_path: Path, share: str) -> None:
    journal = _run(tmp_path, share)
    assert journal["status"] == "met"
    assert [s["status"] for s in journal["scenarios"]] == ["passed"] * 6
    if share == "always":  # the workers said they attached to the server the controller started
        assert journal["target"]["workers_shared_endpoint"] == journal["target"]["endpoint"]
    else:
        assert "workers_shared_endpoint" not in journal["target"]
