"""A function's cold start takes a spare worker process started ahead of need (dr_infra.targets.embedded.lambda_spares),
and the function cannot tell: it sees its own environment, its own folder first on sys.path, only what AWS's
runtime provides, and its own copy of a module it ships that the spare had already imported."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dr_infra.targets.embedded import EmbeddedTarget, lambda_spares

from .conftest import Principals, wait_active
from .test_function_imports import BASIC, _zip

PROBE = """import os, sys, boto3

def handler(event, context):
    return {
        "pid": os.getpid(),
        "name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "custom": os.environ.get("CUSTOM"),
        "cwd": os.getcwd(),
        "path0": sys.path[0],
        "boto3": boto3.__file__,
        "bytecode": sys.dont_write_bytecode,
        "tz": os.environ.get("TZ"),
    }
"""


@pytest.fixture
def deploy(embedded: EmbeddedTarget, principals: Principals) -> Iterator[Any]:
    lam = embedded.client("lambda")
    role = principals.role("lambda.amazonaws.com", managed=(BASIC,))
    made: list[str] = []

    def _deploy(files: dict[str, str]) -> str:
        name = f"lp-spares-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _zip(files)},
            Environment={"Variables": {"CUSTOM": "mine"}},
        )
        made.append(name)
        wait_active(lam, name)
        return name

    yield _deploy
    for name in made:
        lam.delete_function(FunctionName=name)


def _waiting_spares(timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while not lambda_spares.pids():
        assert time.monotonic() < deadline, "no spare worker started"
        time.sleep(0.05)
    return lambda_spares.pids()


def _invoke(embedded: EmbeddedTarget, name: str) -> dict[str, Any]:
    answer = embedded.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return dict(payload)


def test_a_cold_start_runs_in_a_spare_that_became_the_functions_environment(
    embedded: EmbeddedTarget, deploy: Any
) -> None:
    name = deploy({"app.py": PROBE})
    spares = _waiting_spares()
    seen = _invoke(embedded, name)
    assert seen["pid"] in spares  # no process was started for this cold start
    assert seen["name"] == name and seen["custom"] == "mine"
    assert seen["cwd"] == seen["task_root"] == seen["path0"]  # its folder, first on sys.path, as PYTHONPATH puts it
    assert seen["key"] and seen["key"].startswith("ASIA")  # its execution role's session, not the server's keys
    assert "drdrill-python-runtime-" in seen["boto3"]  # the runtime's SDK
    assert seen["bytecode"] is True and seen["tz"] == ":UTC"
    assert _waiting_spares()  # a replacement waits for the next cold start


def test_a_package_shipping_its_own_sdk_gets_its_own_copy(embedded: EmbeddedTarget, deploy: Any) -> None:
    """The spare had imported the runtime's boto3: it re-executes itself as a fresh worker for this function."""
    code = "import boto3\n\ndef handler(event, context):\n    return {'boto3': boto3.__file__, 'mark': boto3.MARK}\n"
    name = deploy({"app.py": code, "boto3/__init__.py": "MARK = 'vendored'\n"})
    _waiting_spares()
    seen = _invoke(embedded, name)
    assert seen["mark"] == "vendored" and "drdrill-python-runtime-" not in seen["boto3"]


def test_a_spare_still_refuses_what_the_runtime_does_not_provide(embedded: EmbeddedTarget, deploy: Any) -> None:
    name = deploy({"app.py": "import moto\n\ndef handler(event, context):\n    return 'imported'\n"})
    _waiting_spares()
    answer = embedded.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    error = json.loads(answer["Payload"].read())
    assert answer.get("FunctionError") == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError" and "No module named 'moto'" in error["errorMessage"]


def test_no_spares_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lambda_spares.ENV, "0")
    assert lambda_spares.wanted() == 0
    monkeypatch.setenv(lambda_spares.ENV, "x")
    assert lambda_spares.wanted() == 0
    monkeypatch.delenv(lambda_spares.ENV)
    assert lambda_spares.wanted() == lambda_spares.DEFAULT_SPARES
