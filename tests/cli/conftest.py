"""Helpers for running the real ``drdrill`` command in a subprocess (each run small)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRDRILL = Path(sys.executable).with_name("drdrill")
POSTURE = REPO / "features" / "posture"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_drdrill(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180) -> Result:
    merged = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_", "LOCALSTACK_"))}
    merged.update(env or {})
    done = subprocess.run(
        [str(DRDRILL), *args],
        cwd=cwd,
        env=merged,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def drdrill(tmp_path: Path):
    def call(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_drdrill(*args, cwd=tmp_path, env=env)

    return call


@pytest.fixture
def feature(tmp_path: Path):
    def write(text: str, name: str = "bad.feature") -> Path:
        path = tmp_path / "features" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write
