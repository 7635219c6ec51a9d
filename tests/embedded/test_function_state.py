"""Lambda function states on the embedded target, black box through boto3.

AWS: https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html and the CreateFunction response LocalStack
recorded on AWS (tests/aws/services/lambda_/test_lambda_api.snapshot.json, test_lambda_code_location_zipfile).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from lambda_stack import ASSUME_ROLE, wait_for, zip_bytes

from dr_infra.targets.embedded import EmbeddedTarget


def _create(target: EmbeddedTarget, name: str) -> dict[str, object]:
    role = target.client("iam").create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument=ASSUME_ROLE)["Role"]
    return dict(
        target.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role["Arn"],
            Handler="app.handler",
            Code={"ZipFile": zip_bytes()},
        )
    )


def _conflict(exc: pytest.ExceptionInfo[ClientError]) -> str:
    assert exc.value.response["Error"]["Code"] == "ResourceConflictException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    return str(exc.value.response["Error"]["Message"])


def test_a_new_function_is_pending_and_cannot_be_invoked_or_updated(embedded: EmbeddedTarget, unique: str) -> None:
    name = f"pending-{unique}"
    lam = embedded.client("lambda")
    created = _create(embedded, name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201  # type: ignore[index]
    assert (created["State"], created["StateReason"], created["StateReasonCode"]) == (
        "Pending",
        "The function is being created.",
        "Creating",
    )
    assert "LastUpdateStatus" not in created
    with pytest.raises(ClientError) as invoked:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert _conflict(invoked) == (
        "The operation cannot be performed at this time. The function is currently in the following state: Pending"
    )
    with pytest.raises(ClientError) as updated:
        lam.update_function_configuration(FunctionName=name, Timeout=30)
    assert "Pending" in _conflict(updated)

    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
    assert "pid" in json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())


def test_an_update_is_in_progress_for_a_while_and_refuses_another(embedded: EmbeddedTarget, unique: str) -> None:
    name = f"update-{unique}"
    lam = embedded.client("lambda")
    assert embedded.control is not None
    # the update stays InProgress for 3 s, so the second update surely comes during it on a busy machine
    embedded.control.update_settings(function_pending_seconds=3)
    _create(embedded, name)
    wait_for(lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active", what="Active")
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    first = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"A": "1"}})
    assert (first["State"], first["LastUpdateStatus"], first["LastUpdateStatusReasonCode"]) == (
        "Active",
        "InProgress",
        "Creating",
    )
    with pytest.raises(ClientError) as second:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"A": "2"}})
    assert _conflict(second) == (
        f"The operation cannot be performed at this time. An update is in progress for resource: {arn}"
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    done = lam.get_function_configuration(FunctionName=name)
    assert done["LastUpdateStatus"] == "Successful" and done["Environment"]["Variables"] == {"A": "1"}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"A": "2"}})  # now accepted


def test_invocations_during_an_update_run_the_previous_configuration(embedded: EmbeddedTarget, unique: str) -> None:
    """AWS: while LastUpdateStatus is InProgress the function keeps running its previous code and configuration;
    the new one runs once the update is Successful."""
    assert embedded.control is not None
    name = f"old-config-{unique}"
    lam = embedded.client("lambda")
    _create(embedded, name)
    wait_for(lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active", what="Active")
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"A": "old"}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    embedded.control.update_settings(function_pending_seconds=3)  # the next update stays InProgress 3 s
    assert lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"A": "new"}})[
        "LastUpdateStatus"
    ] == "InProgress"  # fmt: skip
    during = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "InProgress"
    assert during["env"]["A"] == "old"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    after = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert after["env"]["A"] == "new"
