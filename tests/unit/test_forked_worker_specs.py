"""Which xdist worker specs ``drdrill run -n N`` starts from its fork server (dr_infra.bdd.forked_workers)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dr_infra.bdd.forked_workers import ForkedWorkers


class _Server:
    python = "/venv/bin/python -I -S launcher.py /tmp/s"

    def __init__(self, up: bool = True) -> None:
        self.up, self.closed = up, False

    def ready(self) -> bool:
        return self.up

    def close(self) -> None:
        self.closed = True


def _session(tx: list[str]) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace(tx=list(tx))))


def test_plain_local_workers_start_from_the_fork_server() -> None:
    session = _session(["popen"] * 3)
    ForkedWorkers(_Server()).pytest_sessionstart(session)  # type: ignore[arg-type]
    assert session.config.option.tx == [f"popen//python={_Server.python}"] * 3


@pytest.mark.parametrize("tx", [["popen//python=python3.12", "popen"], ["ssh=host"], ["popen//chdir=/elsewhere"], []])
def test_any_other_spec_is_left_as_given(tx: list[str]) -> None:
    session = _session(tx)
    ForkedWorkers(_Server()).pytest_sessionstart(session)  # type: ignore[arg-type]
    assert session.config.option.tx == tx


def test_a_server_that_did_not_come_up_leaves_plain_workers() -> None:
    session = _session(["popen", "popen"])
    ForkedWorkers(_Server(up=False)).pytest_sessionstart(session)  # type: ignore[arg-type]
    assert session.config.option.tx == ["popen", "popen"]


def test_the_server_ends_with_the_session() -> None:
    server = _Server()
    ForkedWorkers(server).pytest_unconfigure(SimpleNamespace())  # type: ignore[arg-type]
    assert server.closed
