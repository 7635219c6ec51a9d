"""Fixtures for the change monitor's unit tests: cold start, moto, injected runtime.

``lambda/`` is put on ``sys.path`` by this package's ``__init__`` (and pytest's
``pythonpath`` config).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from change_monitor import handler
from change_monitor.clients import Clients
from change_monitor.settings import Settings
from change_monitor.strategies.base import Runtime
from moto import mock_aws

from .support import LEDGER, REGION, TABLE, LogLines


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> LogLines:
    return LogLines(capsys)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def _fresh_cold_start() -> Iterator[None]:
    """Each test is a cold start: no runtime cached from an earlier test."""
    handler.reset_runtime()
    yield
    handler.reset_runtime()


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def ddb(moto: None) -> Any:
    """A moto DynamoDB client with the source table (pk+sk) and the ledger table."""
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=LEDGER,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


@pytest.fixture
def make_runtime() -> Callable[..., Runtime]:
    """Build a Runtime with injected clients and a sleep that must not really sleep."""

    def _make(
        settings: Settings,
        *,
        dynamodb: Any = None,
        backup: Any = None,
        lambda_: Any = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Runtime:
        def no_sleep(seconds: float) -> None:
            raise AssertionError(f"unexpected real sleep({seconds})")

        clients = Clients(dynamodb_client=dynamodb, backup_client=backup, lambda_client=lambda_)
        return Runtime(settings=settings, clients=clients, sleep=sleep or no_sleep)

    return _make
