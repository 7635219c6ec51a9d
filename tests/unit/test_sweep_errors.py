"""A backup plan sweep that fails before a request: the request is served, the error shown by that server's
``GET /_drdrill/plan-clock`` (each server's own, its last 20), never kept by a module for every server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from dr_infra.targets.embedded import backup_schedule, control


def _app(seen: list[dict[str, Any]]) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(environ)
        return [b"served"]

    return app


def _request(app: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]) -> list[bytes]:
    return list(app({"REQUEST_METHOD": "GET", "QUERY_STRING": ""}, lambda *args: None))


def test_a_failing_sweep_is_served_anyway_and_shown_by_its_own_server(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    first, second = backup_schedule.ticking(_app(seen)), backup_schedule.ticking(_app(seen))
    assert _request(first) == [b"served"] and control._plan_clock(seen[-1])["sweep_errors"] == []  # negative

    failures = iter(range(1, 100))

    def broken_sweep() -> None:
        raise RuntimeError(f"scheduler bug {next(failures)}")

    monkeypatch.setattr(backup_schedule, "sweep_all", broken_sweep)
    for _ in range(25):
        assert _request(first) == [b"served"]
    shown = control._plan_clock(seen[-1])["sweep_errors"]
    assert shown == [f"RuntimeError: scheduler bug {n}" for n in range(6, 26)]  # the last 20, oldest first
    assert _request(second) == [b"served"]
    assert control._plan_clock(seen[-1])["sweep_errors"] == ["RuntimeError: scheduler bug 26"]  # its own only
