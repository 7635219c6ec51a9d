"""The control routes answer only the server's own clients: a token and the loopback Host, else 403."""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from dr_infra.targets import control_token
from dr_infra.targets.control_client import ControlClient, ControlRefused
from dr_infra.targets.embedded.server import EmbeddedServer
from dr_infra.targets.embedded.target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    running = EmbeddedServer()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback test server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    "route", ["info", "plan-clock", "tables/anything/items?region=us-east-1"], ids=["info", "plan-clock", "export"]
)
def test_a_request_without_the_token_is_refused_with_403(server: EmbeddedServer, route: str) -> None:
    status, body = _get(f"{server.endpoint_url}/_drdrill/{route}", {})
    assert status == 403
    assert "missing control token" in str(body["error"])


def test_a_wrong_token_is_refused(server: EmbeddedServer) -> None:
    status, body = _get(f"{server.endpoint_url}/_drdrill/info", {control_token.HEADER: "guess"})
    assert status == 403 and "wrong control token" in str(body["error"])


def test_a_rebinding_host_is_refused_even_with_the_token(server: EmbeddedServer) -> None:
    headers = {control_token.HEADER: server.control_token, "Host": "attacker.example:80"}
    status, body = _get(f"{server.endpoint_url}/_drdrill/info", headers)
    assert status == 403 and "not the loopback address" in str(body["error"])


def test_the_token_opens_the_routes(server: EmbeddedServer) -> None:
    status, body = _get(f"{server.endpoint_url}/_drdrill/info", {control_token.HEADER: server.control_token})
    assert status == 200 and body["drdrill"] is True


def test_a_client_of_the_same_user_finds_the_token_file_and_it_is_private(server: EmbeddedServer) -> None:
    assert server.token_file is not None
    mode = server.token_file.stat().st_mode
    assert stat.S_IMODE(mode) == 0o600 and server.token_file.stat().st_uid == os.getuid()
    assert stat.S_IMODE(server.token_file.parent.stat().st_mode) == 0o700
    assert ControlClient(server.endpoint_url).info() is not None  # token read from the file


def test_a_client_without_the_token_is_told_why(server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ControlClient(server.endpoint_url)
    client.token = None
    with pytest.raises(ControlRefused, match="missing control token"):
        client.info()
    monkeypatch.setenv(control_token.ENV, "not-the-token")
    with pytest.raises(ControlRefused, match="wrong control token"):
        ControlClient(server.endpoint_url).info()


def test_aws_apis_need_no_token(server: EmbeddedServer) -> None:
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY,
    )
    assert "TableNames" in ddb.list_tables()


def test_the_export_route_is_closed_while_iam_is_enforced(server: EmbeddedServer) -> None:
    control = ControlClient(server.endpoint_url, token=server.control_token)
    headers = {control_token.HEADER: server.control_token}
    url = f"{server.endpoint_url}/_drdrill/tables/nope/items?region=us-east-1"
    assert _get(url, headers)[0] == 404  # open: an unknown table is simply not found
    with control.iam_enforced():
        status, body = _get(url, headers)
    assert status == 403 and body["code"] == control_token.EXPORT_DENIED
    assert _get(url, headers)[0] == 404


def test_the_token_file_is_removed_when_the_server_stops() -> None:
    running = EmbeddedServer()
    running.start()
    path = running.token_file
    assert path is not None and path.exists()
    running.stop()
    assert not path.exists()
