"""on_restore_completed: the restored table gets stream, PITR, tags and the monitor."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from change_monitor import handler
from change_monitor.strategies.base import Runtime

from .support import ACCOUNT, REGION, TABLE, LogLines, settings_for

RESTORED = "orders-restored-20240501T120000Z"
SOURCE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
RESTORED_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{RESTORED}"
POINT_ARN = f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:abc"
TAGS = [{"Key": "team", "Value": "payments"}, {"Key": "dr", "Value": "protected"}]


@pytest.fixture
def world(ddb: Any) -> dict[str, Any]:
    """Source table with stream, tags and monitor mapping; a bare restored table."""
    ddb.update_table(
        TableName=TABLE,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.tag_resource(ResourceArn=SOURCE_ARN, Tags=TAGS)
    ddb.create_table(
        TableName=RESTORED,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="monitor",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("change_monitor/__init__.py", "")
    lam = boto3.client("lambda", region_name=REGION)
    function_arn = lam.create_function(
        FunctionName="drdrill-monitor",
        Runtime="python3.12",
        Role=role,
        Handler="change_monitor.handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    source_stream = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    lam.create_event_source_mapping(
        EventSourceArn=source_stream,
        FunctionName=function_arn,
        StartingPosition="LATEST",
        BatchSize=25,
        MaximumRetryAttempts=3,
        BisectBatchOnFunctionError=True,
        MaximumRecordAgeInSeconds=3600,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return {"ddb": ddb, "lambda": lam, "function_arn": function_arn}


@pytest.fixture
def backup(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("backup", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def install(
    world: dict[str, Any], backup: tuple[Any, Stubber], make_runtime: Callable[..., Runtime]
) -> Callable[..., None]:
    def _install(**env: str) -> None:
        settings = settings_for("backup", **env)
        handler.reset_runtime(make_runtime(settings, dynamodb=world["ddb"], backup=backup[0], lambda_=world["lambda"]))

    return _install


def backup_event(status: str = "COMPLETED") -> dict[str, Any]:
    return {
        "version": "0",
        "source": "aws.backup",
        "detail-type": "Restore Job State Change",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [],
        "detail": {
            "restoreJobId": "job-1",
            "backupSizeInBytes": "1024",
            "creationDate": "2024-05-01T12:01:00Z",
            "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/drdrill-restore",
            "resourceType": "DynamoDB",
            "status": status,
            "createdResourceArn": RESTORED_ARN,
        },
    }


def assert_protected(world: dict[str, Any]) -> None:
    ddb = world["ddb"]
    table = ddb.describe_table(TableName=RESTORED)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    pitr = ddb.describe_continuous_backups(TableName=RESTORED)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = ddb.list_tags_of_resource(ResourceArn=RESTORED_ARN)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == sorted(TAGS, key=lambda t: t["Key"])
    [mapping] = world["lambda"].list_event_source_mappings(EventSourceArn=table["LatestStreamArn"])[
        "EventSourceMappings"
    ]
    assert mapping["FunctionArn"] == world["function_arn"]
    assert mapping["BatchSize"] == 25
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_backup_restore_completed_reprotects_the_restored_table(
    world: dict[str, Any], backup: tuple[Any, Stubber], install: Callable[..., None], logs: LogLines
) -> None:
    _, stubber = backup
    install(DR_MONITOR_FUNCTION_ARN=world["function_arn"])
    stubber.add_response(
        "describe_restore_job",
        {"RestoreJobId": "job-1", "RecoveryPointArn": POINT_ARN, "CreatedResourceArn": RESTORED_ARN},
        {"RestoreJobId": "job-1"},
    )
    stubber.add_response(
        "describe_recovery_point",
        {"RecoveryPointArn": POINT_ARN, "ResourceArn": SOURCE_ARN},
        {"BackupVaultName": "drdrill-vault", "RecoveryPointArn": POINT_ARN},
    )

    handler.on_restore_completed(backup_event(), None)

    assert_protected(world)
    [line] = logs.read()
    assert line["decision"] == "reprotected"
    assert line["table"] == RESTORED
    assert line["restoredTable"] == RESTORED
    assert line["sourceTable"] == TABLE
    assert line["restoreJobId"] == "job-1"
    assert line["actions"] == ["stream", "pitr", "tags:2", "mapping"]


def test_pitr_shaped_event_and_redelivery_are_idempotent(
    world: dict[str, Any], install: Callable[..., None], logs: LogLines
) -> None:
    install()  # no DR_MONITOR_FUNCTION_ARN: the source mapping's function is used
    event = {
        "source": "drdrill",
        "detail-type": "PITR Restore Completed",
        "detail": {"sourceTableArn": SOURCE_ARN, "restoredTableArn": RESTORED_ARN},
    }

    handler.on_restore_completed(event, None)
    handler.on_restore_completed(event, None)

    assert_protected(world)
    first, second = logs.read()
    assert first["actions"] == ["stream", "pitr", "tags:2", "mapping"]
    assert second["decision"] == "reprotected"
    assert second["actions"] == []  # every step checks first: nothing is redone


def test_a_failed_restore_job_is_ignored(world: dict[str, Any], install: Callable[..., None], logs: LogLines) -> None:
    install()

    handler.on_restore_completed(backup_event(status="FAILED"), None)

    [line] = logs.read()
    assert line["decision"] == "ignored"
    assert line["reason"] == "restore job status FAILED, not COMPLETED"
    spec = world["ddb"].describe_table(TableName=RESTORED)["Table"].get("StreamSpecification")
    assert not (spec or {}).get("StreamEnabled")
