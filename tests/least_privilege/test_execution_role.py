"""Every function runs as its execution role: trust, credentials, logs and stream reads, each denied and allowed."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr_infra.targets.embedded import EmbeddedTarget

from .conftest import Principals, denied, policy, wait_active

HANDLER = """
import boto3


def handler(event, context):
    if event.get("whoami"):
        return boto3.client("sts").get_caller_identity()["Arn"]
    if event.get("put"):
        print("writing", event["put"])
        boto3.client("dynamodb").put_item(TableName=event["put"], Item={"pk": {"S": "from-function"}})
        return "written"
    print("records", len(event.get("Records", [])))
    return {"batchItemFailures": []}
"""
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
STREAMS = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


@pytest.fixture
def functions(embedded: EmbeddedTarget) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        embedded.client("lambda").delete_function(FunctionName=name)
        with contextlib.suppress(ClientError):
            embedded.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{name}")


def _function(embedded: EmbeddedTarget, functions: list[str], role: str) -> str:
    name = f"lp-fn-{uuid.uuid4().hex[:8]}"
    embedded.client("lambda").create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": _zip()}, Timeout=20
    )
    functions.append(name)
    wait_active(embedded.client("lambda"), name)
    return name


def _invoke(embedded: EmbeddedTarget, name: str, event: dict[str, Any]) -> tuple[Any, bool]:
    answer = embedded.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    return json.loads(answer["Payload"].read()), "FunctionError" in answer


def _log_lines(embedded: EmbeddedTarget, name: str) -> list[str]:
    logs = embedded.client("logs")
    group = f"/aws/lambda/{name}"
    try:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except ClientError:
        return []
    return [
        e["message"]
        for s in streams
        for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"]
    ]


def test_create_function_refuses_a_role_lambda_cannot_assume(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str]
) -> None:
    backup_role = principals.role("backup.amazonaws.com")
    with pytest.raises(ClientError) as refused:
        _function(embedded, functions, backup_role)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == "The role defined for the function cannot be assumed by Lambda."
    assert _function(embedded, functions, principals.role("lambda.amazonaws.com"))


def test_the_function_calls_aws_as_its_role(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str], table: str
) -> None:
    bare = principals.role("lambda.amazonaws.com")
    name = _function(embedded, functions, bare)
    who, failed = _invoke(embedded, name, {"whoami": True})
    assert not failed and who == f"arn:aws:sts::123456789012:assumed-role/{bare.split('/')[-1]}/{name}"
    error, failed = _invoke(embedded, name, {"put": table})
    assert failed and error["errorType"] == "ClientError"
    assert "AccessDeniedException" in error["errorMessage"] and "dynamodb:PutItem" in error["errorMessage"]
    assert "Item" not in embedded.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "from-function"}})

    writer = principals.role(
        "lambda.amazonaws.com", policy({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"})
    )
    ok, failed = _invoke(embedded, _function(embedded, functions, writer), {"put": table})
    assert not failed and ok == "written"
    assert "Item" in embedded.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "from-function"}})


def test_logs_reach_cloudwatch_only_if_the_role_allows_it(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str]
) -> None:
    silent = _function(embedded, functions, principals.role("lambda.amazonaws.com"))
    embedded.client("logs").create_log_group(logGroupName=f"/aws/lambda/{silent}")
    _, failed = _invoke(embedded, silent, {})
    assert not failed
    assert _log_lines(embedded, silent) == []

    logged = _function(embedded, functions, principals.role("lambda.amazonaws.com", managed=(BASIC,)))
    _invoke(embedded, logged, {})
    lines = _log_lines(embedded, logged)  # AWSLambdaBasicExecutionRole may create the group too
    assert any(line.startswith("START RequestId:") for line in lines)
    assert "records 0" in lines


def _stream(embedded: EmbeddedTarget, table: str) -> str:
    ddb = embedded.client("dynamodb")
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    return str(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])


def test_the_mapping_reads_the_stream_with_the_roles_permissions(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str], table: str
) -> None:
    stream = _stream(embedded, table)
    lam = embedded.client("lambda")
    no_streams = _function(embedded, functions, principals.role("lambda.amazonaws.com", managed=(BASIC,)))
    with pytest.raises(ClientError) as refused:
        lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=no_streams, StartingPosition="LATEST")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == (
        f"Cannot access stream {stream}. Please ensure the role can perform the GetRecords, GetShardIterator, "
        "DescribeStream, and ListStreams Actions on your stream in IAM."
    )

    role = principals.role("lambda.amazonaws.com", managed=(STREAMS,))
    reader = _function(embedded, functions, role)
    mapping = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=reader, StartingPosition="LATEST")
    try:
        # the permission goes away: nothing is read, the mapping says why, nothing is lost
        embedded.client("iam").detach_role_policy(RoleName=role.split("/")[-1], PolicyArn=STREAMS)
        embedded.client("iam").attach_role_policy(RoleName=role.split("/")[-1], PolicyArn=BASIC)
        time.sleep(0.6)
        embedded.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "while-denied"}})
        deadline = time.monotonic() + 10
        state = ""
        while time.monotonic() < deadline and not state.startswith("PROBLEM: Cannot access stream"):
            state = lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"]
            time.sleep(0.1)
        assert state.startswith("PROBLEM: Cannot access stream")
        assert not any(line == "records 1" for line in _log_lines(embedded, reader))
        embedded.client("iam").attach_role_policy(RoleName=role.split("/")[-1], PolicyArn=STREAMS)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "records 1" not in _log_lines(embedded, reader):
            time.sleep(0.1)
        assert "records 1" in _log_lines(embedded, reader)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_permissions_boundary_caps_what_the_function_may_do(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str], table: str
) -> None:
    iam = embedded.client("iam")
    reads = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName=f"lp-reads-{table}", PolicyDocument=json.dumps(reads))["Policy"]["Arn"]
    writer = principals.role(
        "lambda.amazonaws.com", policy({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"})
    )
    iam.put_role_permissions_boundary(RoleName=writer.split("/")[-1], PermissionsBoundary=arn)
    try:
        name = _function(embedded, functions, writer)
        error, failed = _invoke(embedded, name, {"put": table})
        assert failed and "because no permissions boundary allows the dynamodb:PutItem action" in error["errorMessage"]
        assert "Item" not in embedded.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "from-function"}})
    finally:
        iam.delete_role_permissions_boundary(RoleName=writer.split("/")[-1])
        iam.delete_policy(PolicyArn=arn)
    ok, failed = _invoke(embedded, name, {"put": table})  # the boundary is gone: the role's own policy holds
    assert not failed and ok == "written"


def test_update_function_configuration_refuses_a_role_lambda_cannot_assume(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str]
) -> None:
    lam = embedded.client("lambda")
    first = principals.role("lambda.amazonaws.com")
    name = _function(embedded, functions, first)
    for role in (principals.role("backup.amazonaws.com"), f"arn:aws:iam::123456789012:role/lp-missing-{name}"):
        with pytest.raises(ClientError) as refused:
            lam.update_function_configuration(FunctionName=name, Role=role)
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidParameterValueException"
        assert error["Message"] == "The role defined for the function cannot be assumed by Lambda."
        assert lam.get_function_configuration(FunctionName=name)["Role"] == first  # nothing changed
    who, failed = _invoke(embedded, name, {"whoami": True})
    assert not failed and f"assumed-role/{first.split('/')[-1]}/" in who

    second = principals.role("lambda.amazonaws.com")
    lam.update_function_configuration(FunctionName=name, Role=second)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    who, failed = _invoke(embedded, name, {"whoami": True})
    assert not failed and f"assumed-role/{second.split('/')[-1]}/" in who  # the new role's credentials


def test_invoking_a_function_needs_lambda_invoke_function_on_it(
    embedded: EmbeddedTarget, principals: Principals, functions: list[str]
) -> None:
    name = _function(embedded, functions, principals.role("lambda.amazonaws.com"))
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    reader = principals.user(policy({"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": arn}))
    with pytest.raises(ClientError) as refused:
        reader("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert f"lambda:InvokeFunction on resource: {arn} " in denied(refused, 403)
    invoker = principals.user(policy({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}))
    answer = invoker("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
