"""`drdrill run -n N` on aws / LocalStack: a target that refuses to start is one line from the controller, exit 2,
before any xdist worker starts (not N workers stopping with it, seen as "node down: keyboard-interrupt").

No AWS call is made: the allow-list is checked before any, and the other cases point at a closed local port.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.cli.conftest import POSTURE
from tests.cli.test_cli_usage_errors import assert_usage_error


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Fake credentials, no config files, no instance metadata, STS at a closed local port: nothing reaches AWS."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("", encoding="utf-8")
    env = {
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_closed_port()}",
    }
    env.update(extra)
    return env


def _no_worker_started(result_stdout: str, result_stderr: str) -> None:
    text = result_stdout + result_stderr
    assert "node down" not in text and "gw0" not in text and "bringing up nodes" not in text, text


def test_aws_without_allow_list_refused_before_workers(drdrill, tmp_path: Path) -> None:
    report = tmp_path / "r"
    result = drdrill("run", str(POSTURE), "-n", "3", "--target", "aws", "--report-dir", str(report), env=_env(tmp_path))
    line = assert_usage_error(result, "allow-list", "--allow-account")
    _no_worker_started(result.stdout, result.stderr)
    journal = json.loads((report / "report.json").read_text(encoding="utf-8"))  # as a serial run records it
    assert journal["scenarios"] == [] and journal["usage_errors"] == [line.removeprefix("drdrill: ")]


def test_aws_sts_unreachable_refused_before_workers(drdrill, tmp_path: Path) -> None:
    env = _env(tmp_path)
    result = drdrill("run", str(POSTURE), "-n", "3", "--target", "aws", "--allow-account", "111111111111", env=env)
    assert_usage_error(result, "cannot reach AWS STS", env["AWS_ENDPOINT_URL"])
    _no_worker_started(result.stdout, result.stderr)


def test_localstack_unreachable_refused_before_workers(drdrill, tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    result = drdrill("run", str(POSTURE), "-n", "2", "--target", "localstack", env={"AWS_ENDPOINT_URL": endpoint})
    assert_usage_error(result, endpoint, "localstack start")
    _no_worker_started(result.stdout, result.stderr)
