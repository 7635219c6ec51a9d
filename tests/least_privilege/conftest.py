"""Helpers for the least-privilege tests: principals with given policies, and clients signed as them."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dr_infra.targets.embedded import EmbeddedTarget

ONCE = Config(retries={"mode": "standard", "max_attempts": 1})
Clients = Callable[[str], Any]


def wait_active(lam: Any, name: str, timeout: float = 30) -> None:
    """A new function is Pending for a while, as on AWS: wait until it is Active."""
    import time

    deadline = time.monotonic() + timeout
    while lam.get_function_configuration(FunctionName=name).get("State") != "Active":
        assert time.monotonic() < deadline, f"{name} never became Active"
        time.sleep(0.05)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def denied(exc: pytest.ExceptionInfo[ClientError], status: int) -> str:
    """The message of an AccessDeniedException answered with ``status``; fails on anything else."""
    response = exc.value.response
    assert response["Error"]["Code"] == "AccessDeniedException", response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    return str(response["Error"]["Message"])


class Principals:
    """Creates IAM users / roles on the embedded target and removes them afterwards."""

    def __init__(self, target: EmbeddedTarget) -> None:
        self.target = target
        self.iam = target.client("iam")
        self.users: list[str] = []
        self.roles: list[str] = []

    def _clients(self, key: str, secret: str, token: str | None = None) -> Clients:
        session = boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name="us-east-1"
        )
        return lambda service: session.client(service, endpoint_url=self.target.endpoint_url, config=ONCE)

    def user(self, inline: str | None = None, managed: tuple[str, ...] = ()) -> Clients:
        name = f"lp-user-{uuid.uuid4().hex[:8]}"
        self.iam.create_user(UserName=name)
        self.users.append(name)
        if inline:
            self.iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
        for arn in managed:
            self.iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return self._clients(key["AccessKeyId"], key["SecretAccessKey"])

    def role(
        self, service: str, inline: str | None = None, managed: tuple[str, ...] = (), account_may_assume: bool = False
    ) -> str:
        """A role ``service`` may assume (and, with ``account_may_assume``, the account's own principals)."""
        name = f"lp-role-{uuid.uuid4().hex[:8]}"
        statements = [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
        if account_may_assume:
            statements.append(
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
            )
        trust = policy(*statements)
        arn = str(self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])
        self.roles.append(name)
        if inline:
            self.iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=inline)
        for managed_arn in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=managed_arn)
        return arn

    def session_of(self, role_arn: str) -> tuple[Clients, dict[str, Any]]:
        creds = self.target.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="lp")["Credentials"]
        return self._clients(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]), creds

    def cleanup(self) -> None:
        for name in self.users:
            for key in self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                self.iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            for attached in self.iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
                self.iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
            for inline in self.iam.list_user_policies(UserName=name)["PolicyNames"]:
                self.iam.delete_user_policy(UserName=name, PolicyName=inline)
            self.iam.delete_user(UserName=name)
        for name in self.roles:
            for attached in self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                self.iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            for inline in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
                self.iam.delete_role_policy(RoleName=name, PolicyName=inline)
            self.iam.delete_role(RoleName=name)


@pytest.fixture
def principals(embedded: EmbeddedTarget) -> Iterator[Principals]:
    made = Principals(embedded)
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def table(embedded: EmbeddedTarget) -> Iterator[str]:
    """A table made by the account's root (the embedded target's own, unknown, credentials)."""
    name = f"lp-{uuid.uuid4().hex[:8]}"
    ddb = embedded.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})  # CREATING
    yield name
    with contextlib.suppress(ClientError):
        ddb.delete_table(TableName=name)
