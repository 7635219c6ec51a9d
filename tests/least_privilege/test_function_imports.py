"""A function sees only its package and what AWS's Python runtime provides: anything else is ImportModuleError."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from collections.abc import Iterator

import pytest

from dr_infra.targets.embedded import EmbeddedTarget

from .conftest import Principals, wait_active

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def deploy(embedded: EmbeddedTarget, principals: Principals) -> Iterator[object]:
    lam = embedded.client("lambda")
    role = principals.role("lambda.amazonaws.com", managed=(BASIC,))
    made: list[str] = []

    def _deploy(files: dict[str, str]) -> str:
        name = f"lp-imports-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name, Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": _zip(files)}
        )
        made.append(name)
        wait_active(lam, name)
        return name

    yield _deploy
    for name in made:
        lam.delete_function(FunctionName=name)


@pytest.mark.parametrize("module", ["yaml", "moto", "tenacity", "requests", "dr_infra"])
def test_a_package_drdrill_has_but_the_function_does_not_ship_fails_to_import(
    embedded: EmbeddedTarget, deploy: object, module: str
) -> None:
    name = deploy({"app.py": f"import {module}\n\ndef handler(event, context):\n    return 'imported'\n"})  # type: ignore[operator]
    answer = embedded.client("lambda").invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    assert answer.get("FunctionError") == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == f"Unable to import module 'app': No module named '{module}'"
    log = base64.b64decode(answer["LogResult"]).decode()
    assert f"[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named '{module}'" in log


def test_the_sdk_its_dependencies_the_standard_library_and_shipped_code_import(
    embedded: EmbeddedTarget, deploy: object
) -> None:
    code = (
        "import json, sqlite3, boto3, botocore, jmespath, s3transfer, dateutil, six, urllib3\n"
        "import helper\n\n"
        "def handler(event, context):\n    return helper.VALUE\n"
    )
    name = deploy({"app.py": code, "helper.py": "VALUE = 'shipped'\n"})  # type: ignore[operator]
    answer = embedded.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == "shipped"
