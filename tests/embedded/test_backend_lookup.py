"""The embedded server routes each host to the service moto would, resolving a host once, not per request.

dr_infra/targets/embedded/backend_lookup.py: moto's dispatcher listed its package folder and tried every
service's URL patterns on each request, under one lock; the remembering dispatcher answers from what it found.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from dr_infra.targets.embedded.backend_lookup import RememberingDispatcher

HOSTS = [
    "dynamodb",
    "dynamodbstreams",
    "dynamodb.us-east-1.amazonaws.com",
    "lambda.us-east-1.amazonaws.com",
    "backup.eu-west-1.amazonaws.com",
    "iam.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
    "sts.amazonaws.com",
    "moto_api",
]


@pytest.mark.parametrize("host", HOSTS)
def test_a_host_is_routed_where_moto_routes_it(host: str) -> None:
    assert RememberingDispatcher(create_backend_app).get_backend_for_host(host) == DomainDispatcherApplication(
        create_backend_app
    ).get_backend_for_host(host)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = backends.list_of_moto_modules

    def counted() -> Any:
        calls.append(1)
        return original()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    return calls


def test_a_host_is_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    dispatcher = RememberingDispatcher(create_backend_app)
    first = dispatcher.get_backend_for_host("dynamodb.us-east-1.amazonaws.com")
    for _ in range(5):
        assert dispatcher.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") == first
    assert first == "dynamodb" and len(calls) == 1


def test_a_host_moto_cannot_route_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """No answer is remembered as no answer: moto is consulted (and prints its hint) every time, as before."""
    calls = _counting(monkeypatch)
    dispatcher = RememberingDispatcher(create_backend_app)
    assert dispatcher.get_backend_for_host("nosuchservice.us-east-1.amazonaws.com") is None
    assert dispatcher.get_backend_for_host("nosuchservice.us-east-1.amazonaws.com") is None
    assert dispatcher.get_backend_for_host(None) is None
    assert len(calls) == 2
