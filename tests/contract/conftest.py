"""Endpoints started by the test on loopback, each in its own process, and helpers to run drdrill against them.

A plain moto server must run in a separate process: drdrill's embedded gap-fillers patch moto process-wide,
so a moto server inside the test process would not be plain.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.leftovers import leftovers as shared_leftovers

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "features"
DRDRILL = str(Path(sys.executable).with_name("drdrill"))
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """``python -m moto.server`` on a free loopback port (plain moto, no drdrill patches)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()  # noqa: S310 - loopback
                break
            except OSError:
                assert process.poll() is None, "the moto server exited"
                assert time.monotonic() < deadline, "the moto server did not start within 60 s"
                time.sleep(0.2)
        yield endpoint
    finally:
        _stop(process)


def start_serve() -> tuple[subprocess.Popen[str], str]:
    """``drdrill serve --port 0``; returns the process and the endpoint it printed."""
    process = subprocess.Popen(
        [DRDRILL, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert "listening on http://" in line, line
    return process, line.rsplit(" ", 1)[-1]


@pytest.fixture(scope="module")
def serve_endpoint() -> Iterator[str]:
    process, endpoint = start_serve()
    try:
        yield endpoint
    finally:
        _stop(process)


def clean_env(endpoint: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update(extra)
    return env


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def journal(self) -> dict[str, Any]:
        return dict(json.loads((self.report_dir / "report.json").read_text(encoding="utf-8")))

    def output(self) -> str:
        return self.stdout[-4000:] + self.stderr[-4000:]


def drdrill_run(endpoint: str, tmp_path: Path, *args: str, timeout: float = 600, **env: str) -> Run:
    report = tmp_path / "report"
    done = subprocess.run(
        [DRDRILL, "run", *args, "--target", "localstack", "--report-dir", str(report), "-q"],
        cwd=tmp_path, env=clean_env(endpoint, **env), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return Run(done.returncode, done.stdout, done.stderr, report)


def client(endpoint: str, service: str) -> Any:
    return boto3.Session(**CREDENTIALS).client(service, endpoint_url=endpoint)


def leftovers(endpoint: str, prefix: str) -> dict[str, list[str]]:
    """Every table, role, function, mapping, vault, plan, log group and rule whose name starts with ``prefix``."""
    found = shared_leftovers(lambda service: client(endpoint, service), prefix)
    return {kind: names for kind, names in found.items() if names}
