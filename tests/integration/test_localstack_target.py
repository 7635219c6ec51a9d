"""The localstack target against a plain moto server on loopback (what CI can run)."""

from __future__ import annotations

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


# The shipped features through this target against plain moto: tests/contract/test_contract_endpoints.py
