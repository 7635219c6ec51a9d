"""Teardown order and failure handling: newest first, one failure recorded, the rest still run."""

from __future__ import annotations

from botocore.exceptions import ClientError

from dr_infra.stack.cleanup import Cleanups


def _client_error(code: str, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DeleteSomething")


def test_runs_newest_first() -> None:
    ran: list[str] = []
    cleanups = Cleanups()
    for name in ("role", "table", "mapping"):
        cleanups.add(f"delete {name}", lambda name=name: ran.append(name))
    assert cleanups.run() == []
    assert ran == ["mapping", "table", "role"]
    assert cleanups.done == ["delete mapping", "delete table", "delete role"]
    assert len(cleanups) == 0


def test_one_failure_is_recorded_and_the_rest_still_run() -> None:
    ran: list[str] = []
    cleanups = Cleanups()
    cleanups.add("delete role", lambda: ran.append("role"))
    cleanups.add("delete vault", lambda: (_ for _ in ()).throw(_client_error("InvalidRequestException", "not empty")))
    cleanups.add("delete table", lambda: ran.append("table"))
    failures = cleanups.run()
    assert ran == ["table", "role"]
    assert len(failures) == 1
    assert "delete vault" in failures[0]
    assert "InvalidRequestException" in failures[0]
    assert "not empty" in failures[0]
    assert cleanups.failed == failures


def test_a_non_aws_exception_is_recorded_too() -> None:
    ran: list[str] = []
    cleanups = Cleanups()
    cleanups.add("first", lambda: ran.append("first"))
    cleanups.add("broken", lambda: 1 / 0)
    assert cleanups.run() == ["broken: ZeroDivisionError: division by zero"]
    assert ran == ["first"]


def test_not_found_counts_as_done() -> None:
    def gone() -> None:
        raise _client_error("ResourceNotFoundException")

    def no_entity() -> None:
        raise _client_error("NoSuchEntity")

    cleanups = Cleanups()
    cleanups.add("delete table", gone)
    cleanups.add("delete role", no_entity)
    assert cleanups.run() == []
    assert cleanups.failed == []
    assert sorted(cleanups.done) == ["delete role (already gone)", "delete table (already gone)"]


def test_running_twice_does_nothing_the_second_time() -> None:
    calls: list[int] = []
    cleanups = Cleanups()
    cleanups.add("once", lambda: calls.append(1))
    cleanups.run()
    cleanups.run()
    assert calls == [1]
