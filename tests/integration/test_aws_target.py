"""The aws target refuses before creating anything: allow-list, credentials, region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dr_infra.errors import AccountNotAllowed, TargetUnavailable
from dr_infra.targets.aws import AwsTarget, parse_allow_list


class RecordingSession:
    """A boto3 Session whose only client is a stubbed STS; records every client asked for."""

    def __init__(self) -> None:
        real = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="eu-west-1")
        self.region_name = real.region_name
        self.sts = real.client("sts")
        self.stubber = Stubber(self.sts)
        self.asked: list[str] = []

    def client(self, service: str, **_: Any) -> Any:
        self.asked.append(service)
        if service != "sts":
            raise AssertionError(f"the aws target asked for a {service} client before the account was allowed")
        return self.sts


def _identity(account: str) -> dict[str, str]:
    return {"UserId": "AIDAEXAMPLE", "Account": account, "Arn": f"arn:aws:iam::{account}:user/drill"}


def test_account_not_in_allow_list_is_refused_and_nothing_else_called() -> None:
    session = RecordingSession()
    session.stubber.add_response("get_caller_identity", _identity("999999999999"), {})
    target = AwsTarget(region="eu-west-1", allowed_accounts=frozenset({"111111111111"}), session=session)  # type: ignore[arg-type]
    with session.stubber, pytest.raises(AccountNotAllowed) as caught:
        target.start()
    session.stubber.assert_no_pending_responses()
    assert session.asked == ["sts"]
    assert "999999999999" in str(caught.value) and "111111111111" in str(caught.value)
    with pytest.raises(RuntimeError, match="not started"):
        target.client("dynamodb")


def test_allowed_account_starts() -> None:
    session = RecordingSession()
    session.stubber.add_response("get_caller_identity", _identity("111111111111"), {})
    target = AwsTarget(region="eu-west-1", allowed_accounts=frozenset({"111111111111"}), session=session)  # type: ignore[arg-type]
    with session.stubber:
        target.start()
    assert target.account_id == "111111111111"


def test_no_allow_list_is_refused_without_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRDRILL_ALLOWED_ACCOUNTS", raising=False)
    session = RecordingSession()
    target = AwsTarget(region="eu-west-1", session=session)  # type: ignore[arg-type]
    with pytest.raises(AccountNotAllowed, match="allow-list"):
        target.start()
    assert session.asked == []


def test_expired_credentials_are_one_line() -> None:
    session = RecordingSession()
    session.stubber.add_client_error("get_caller_identity", "ExpiredToken", "The security token has expired")
    target = AwsTarget(region="eu-west-1", allowed_accounts=frozenset({"111111111111"}), session=session)  # type: ignore[arg-type]
    with session.stubber, pytest.raises(TargetUnavailable) as caught:
        target.start()
    assert "ExpiredToken" in str(caught.value) and "\n" not in str(caught.value)


def test_missing_credentials_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    target = AwsTarget(region="eu-west-1", allowed_accounts=frozenset({"111111111111"}))
    with pytest.raises(TargetUnavailable) as caught:
        target.start()
    message = str(caught.value)
    assert "credentials" in message and "\n" not in message


@pytest.mark.parametrize("bad", ["12345", "abcdefghijkl", "1234567890123"])
def test_allow_list_rejects_what_is_not_an_account_id(bad: str) -> None:
    with pytest.raises(AccountNotAllowed, match=bad):
        parse_allow_list(f"111111111111,{bad}")


def test_allow_list_merges_option_values_and_commas() -> None:
    assert parse_allow_list(["111111111111, 222222222222", "333333333333"]) == frozenset(
        {"111111111111", "222222222222", "333333333333"}
    )


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No region or profile from the developer's machine: empty config files, no AWS_* region variables."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty").write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))


@pytest.mark.usefixtures("no_aws_config")
def test_aws_region_alone_sets_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore reads AWS_DEFAULT_REGION only; the error message (and the AWS CLI v2) promise AWS_REGION works too."""
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    target = AwsTarget(allowed_accounts=frozenset({"111111111111"}))
    assert target.region == "eu-west-2"
    session = target._session
    assert session.region_name == "eu-west-2"
    assert session.client("sts", aws_access_key_id="x", aws_secret_access_key="y").meta.region_name == "eu-west-2"


@pytest.mark.usefixtures("no_aws_config")
def test_aws_region_wins_over_aws_default_region_and_an_explicit_region_over_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-1")
    assert AwsTarget(allowed_accounts=frozenset({"111111111111"})).region == "eu-west-2"
    assert AwsTarget(region="ap-south-1", allowed_accounts=frozenset({"111111111111"})).region == "ap-south-1"
    monkeypatch.delenv("AWS_REGION")
    assert AwsTarget(allowed_accounts=frozenset({"111111111111"})).region == "us-west-1"


@pytest.mark.usefixtures("no_aws_config")
def test_no_region_at_all_is_one_line_naming_both_variables() -> None:
    target = AwsTarget(allowed_accounts=frozenset({"111111111111"}))
    with pytest.raises(TargetUnavailable) as caught:
        target.start()
    message = str(caught.value)
    assert "AWS_REGION" in message and "AWS_DEFAULT_REGION" in message and "\n" not in message
