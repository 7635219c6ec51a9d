"""Helpers for the embedded Lambda tests: a tiny deployable zip and the stack around it, all plain boto3."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

HANDLER_SOURCE = """
import json
import logging
import os
import sys
import time

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def _importable(name):
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def handler(event, context):
    if "Records" not in event:  # a direct Invoke
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("raise"):
            raise ValueError(event["raise"])
        if event.get("print"):
            print(event["print"])
        return {
            "pid": os.getpid(),
            "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "env": dict(os.environ),
            "drdrill_importable": _importable("dr_infra.targets"),
            "sys_path": sys.path,
            "cwd": os.getcwd(),
        }
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    print("EVENT " + json.dumps({"pid": os.getpid(), "keys": keys, "event": event, "started": time.time()}))
    logger.info("batch of %d records", len(keys))
    failing = set(filter(None, os.environ.get("FAIL_KEYS", "").split(",")))
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        if key in failing:
            if os.environ.get("PARTIAL") == "1":
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            raise ValueError("poison record " + key)
    if os.environ.get("ECHO") == "1":
        import boto3

        table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            if record["eventName"] == "INSERT" and not key.startswith("echo-"):
                table.put_item(Item={"pk": "echo-" + key})
    return {"batchItemFailures": []}
"""

ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)

ITEMS_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "Resource": "arn:aws:dynamodb:*:*:table/*",
            }
        ],
    }
)

T = TypeVar("T")


def zip_bytes(source: str = HANDLER_SOURCE) -> bytes:
    """A deployment package holding only ``app.py``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def wait_for(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def wait_state(lam: Any, uuid: str, state: str = "Enabled", timeout: float = 6.0) -> dict[str, Any]:
    """Wait until the mapping's State is ``state`` (AWS: Creating -> Enabled, Disabling -> Disabled, ...)."""
    config: dict[str, Any] = wait_for(
        lambda: (m := lam.get_event_source_mapping(UUID=uuid)) and m["State"] == state and m,
        timeout=timeout,
        what=f"mapping {uuid} {state}",
    )
    return config


def create_table(ddb: Any, name: str) -> str:
    """A table keyed by ``pk`` with a NEW_AND_OLD_IMAGES stream; returns the stream ARN."""
    desc = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})  # CREATING
    return str(desc["TableDescription"]["LatestStreamArn"])


def create_function(
    iam: Any, lam: Any, logs: Any, name: str, env: dict[str, str] | None = None, timeout: int = 10
) -> str:
    """Role, function (python3.13, the zip above) and its log group; returns the function ARN.

    The role may read streams and write logs (AWS's ``AWSLambdaDynamoDBExecutionRole``) and write items, as the
    handler does: the function runs with its role's credentials."""
    role = iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument=ASSUME_ROLE)["Role"]["Arn"]
    iam.attach_role_policy(
        RoleName=f"role-{name}", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
    )
    iam.put_role_policy(RoleName=f"role-{name}", PolicyName="items", PolicyDocument=ITEMS_POLICY)
    fn = lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_bytes()},
        Timeout=timeout,
        MemorySize=256,
        Environment={"Variables": env or {}},
    )
    logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
    wait_for(
        lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active",
        what=f"function {name} Active (AWS: Pending first)",
    )
    return str(fn["FunctionArn"])


def log_messages(logs: Any, name: str) -> list[str]:
    """Every log event message of the function, oldest first."""
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in sorted(events, key=lambda e: e["timestamp"])]


def batches(logs: Any, name: str) -> list[dict[str, Any]]:
    """The ``EVENT`` lines the handler printed, one per invocation that reached the handler."""
    return [json.loads(m[len("EVENT ") :]) for m in log_messages(logs, name) if m.startswith("EVENT ")]
