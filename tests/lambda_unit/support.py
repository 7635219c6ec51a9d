"""Helpers shared by the change monitor's unit tests (events, fake context, logs)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from change_monitor.settings import Settings, load_settings

EVENTS = Path(__file__).resolve().parents[1] / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "orders"
LEDGER = "drdrill-ledger"
STREAM_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}/stream/2024-05-01T00:00:00.000"
T0 = 1714564800  # 2024-05-01T12:00:00Z, the recorded events' change time


def load_event(name: str) -> dict[str, Any]:
    """A recorded stream event from tests/events (a fresh copy each time)."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def records_of(*names: str) -> list[dict[str, Any]]:
    """The Records of several recorded events, concatenated."""
    return [r for name in names for r in load_event(name)["Records"]]


def with_changes(record: dict[str, Any], **ddb: Any) -> dict[str, Any]:
    """A copy of ``record`` with fields of its ``dynamodb`` section replaced."""
    out = copy.deepcopy(record)
    out["dynamodb"].update(ddb)
    return out


@dataclass
class FakeContext:
    """A Lambda context whose clock only moves when the fake sleep is called."""

    remaining_ms: int = 60_000
    sleeps: list[float] = field(default_factory=list)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.remaining_ms -= int(seconds * 1000)


class LogLines:
    """The JSON decision lines the handler printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def read(self) -> list[dict[str, Any]]:
        out = self._capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def settings_for(strategy: str, **env: str) -> Settings:
    """Settings as the handler would load them for ``strategy`` plus ``env``."""
    base = {
        "DR_STRATEGY": strategy,
        "DR_BACKUP_VAULT_NAME": "drdrill-vault",
        "DR_RESTORE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/drdrill-restore",
        "DR_LEDGER_TABLE": LEDGER,
    }
    base.update(env)
    return load_settings(base)
