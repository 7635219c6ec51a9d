"""The localstack target against a plain moto server on loopback (what CI can run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dr_infra.targets.localstack import LocalStackTarget

REPO = Path(__file__).resolve().parents[2]


MOTO_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A plain (unpatched) moto server on loopback, in its own process: the embedded target patches moto
    in-process, so a ThreadedMotoServer in this process would serve the embedded gap-fillers too."""
    process = subprocess.Popen(
        [sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = ""
        while not line.startswith("http://"):  # moto prints a banner first
            line = process.stdout.readline().strip()
            assert line or process.poll() is None, "the moto server did not start"
        yield line
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_starts_and_probes_capabilities(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    target = LocalStackTarget()
    assert target.endpoint_url == moto_endpoint
    target.start()
    try:
        capabilities = target.capabilities
        assert {"dynamodb", "backup", "iam", "lambda", "logs"} <= capabilities
        assert "lambda_execution" not in capabilities  # plain moto never runs functions
        assert "backup_jobs" not in capabilities  # nor AWS Backup jobs
        assert target.describe()["endpoint"] == moto_endpoint
    finally:
        target.stop()


@pytest.mark.xfail(
    reason="plain moto 5.2.5 does not implement CreateBackupSelection: provisioning fails with HTTP 500 "
    "on the localstack target, so every scenario errors instead of passing or being skipped",
    strict=True,
)
def test_posture_passes_and_backup_scenario_is_skipped(moto_endpoint: str, tmp_path: Path) -> None:
    feature = tmp_path / "dr" / "backup_restore.feature"
    feature.parent.mkdir()
    feature.write_text(
        """Feature: restore from backup
  Scenario: deleted items come back from a recovery point
    Given a DR-protected table "orders" with 5 items
    And the change monitor restores with the "backup" strategy
    When 2 items are deleted
    Then a restore job completes within 60 seconds
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    env["AWS_ENDPOINT_URL"] = moto_endpoint
    report = tmp_path / "report"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("drdrill")),
            "run",
            str(REPO / "features" / "posture"),
            str(feature),
            "--target",
            "localstack",
            "--report-dir",
            str(report),
            "-q",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))
    by_name = {s["feature_file"]: s for s in journal["scenarios"]}
    posture = next(s for f, s in by_name.items() if f.endswith("stack_posture.feature"))
    backup = by_name[str(feature)]
    assert posture["status"] == "passed", posture.get("failure")
    assert backup["status"] == "skipped"
    assert "backup_jobs" in backup["skip_reason"]
    assert journal["target"]["name"] == "localstack"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
