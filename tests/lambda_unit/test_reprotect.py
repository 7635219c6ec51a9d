"""on_restore_completed: the restored table gets stream, PITR, tags and the monitor."""

from __future__ import annotations

import ast
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.stub import Stubber
from change_monitor import handler
from change_monitor.handler import process_event
from change_monitor.records import to_client_image
from change_monitor.settings import load_settings
from change_monitor.strategies.base import Runtime

from dr_infra.stack import iam_policies
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import StackNames
from dr_infra.stack.provision import Stack
from dr_infra.stack.spec import StackSpec
from dr_infra.verify import iam_eval

from .support import ACCOUNT, REGION, TABLE, FakeContext, LogLines, load_event, settings_for, with_changes

RESTORED = "orders-restored-20240501T120000Z"
SOURCE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
RESTORED_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{RESTORED}"
POINT_ARN = f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:abc"
TAGS = [{"Key": "team", "Value": "payments"}, {"Key": "dr", "Value": "protected"}]

STREAM_READER = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": "*",
            }
        ],
    }
)
"""The mapping reads the stream as the function's role (AWS and the embedded target refuse it otherwise)."""


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
    iam.put_role_policy(RoleName="monitor", PolicyName="streams", PolicyDocument=STREAM_READER)
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


# -- every AWS call the monitor makes is granted by the stack's IAM policy ---------------------------------------
# The embedded target does not enforce IAM, so flows that pass there can still be refused on AWS. These tests run
# the monitor's flows (the three strategies on the protected table and on a re-protected restored table, and
# re-protection itself), record every API call with a botocore hook, and check each authorization the call needs
# (dr_infra.verify.iam_eval.permissions_for_call) against the policy the stack deploys. A call added to the monitor
# without a grant fails here; so does a call these flows do not exercise (see test_the_flows_exercise_every_call...).
LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda" / "change_monitor"
NAMES = StackNames("20250301t120000-abcd", 1, "orders")
PROTECTED = NAMES.table
PROTECTED_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PROTECTED}"
REPROTECTED = f"{PROTECTED}-restored-20250301T120500Z"
REPROTECTED_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{REPROTECTED}"
Call = tuple[str, str, dict[str, Any]]
DRILL_POINT = f"arn:aws:backup:{REGION}:{ACCOUNT}:recovery-point:1EB3B5E7"
RECOVERY_POINT_TAGS = {DRILL_POINT: NAMES.tags()}
"""What IAM sees of the recovery points the flows touch: the run's tags, as drdrill's backups carry them."""


def _create_table(ddb: Any, name: str, **extra: Any) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def _record_calls(calls: list[Call], *clients: Any) -> None:
    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.service_model.service_name, model.name, dict(params)))

    for client in clients:
        client.meta.events.register("provide-client-params.*.*", hook)


def _latest_restorable_trails_now(ddb: Any) -> None:
    """Vanilla moto never moves LatestRestorableDateTime; AWS keeps it trailing now (here by 1 s)."""

    def hook(parsed: dict[str, Any], **_: Any) -> None:
        pitr = parsed.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
        trailing = datetime.fromtimestamp(time.time() - 1, tz=UTC)
        if pitr.get("LatestRestorableDateTime") is not None and pitr["LatestRestorableDateTime"] < trailing:
            pitr["LatestRestorableDateTime"] = trailing

    ddb.meta.events.register("after-call.dynamodb.DescribeContinuousBackups", hook)


def _event_for(table: str, when: float, *names: str) -> dict[str, Any]:
    stream = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/stream/2025-03-01T00:00:00.000"
    records = []
    for i, name in enumerate(names):
        record = with_changes(load_event(name)["Records"][0], ApproximateCreationDateTime=when)
        record["eventSourceARN"] = stream
        record["dynamodb"]["SequenceNumber"] = str(10**20 + i)
        key = {"pk": {"S": f"customer#{i}"}, "sk": {"S": "order#1"}}
        record["dynamodb"]["Keys"] = key
        for image in ("NewImage", "OldImage"):
            if image in record["dynamodb"]:
                record["dynamodb"][image].update(key)
                record["dynamodb"][image].pop("blob", None)  # moto's stream -> Lambda hand-off cannot carry bytes
        records.append(record)
    return {"Records": records}


def _monitor_stack(ddb: Any, lam: Any) -> tuple[str, float]:
    """The stack: protected table (stream, PITR, tags), ledger, re-protected table, monitor function and its
    mapping. Returns the function's ARN and when PITR was enabled."""
    _create_table(ddb, PROTECTED, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.update_continuous_backups(
        TableName=PROTECTED, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    pitr_enabled = time.time()
    ddb.tag_resource(ResourceArn=PROTECTED_ARN, Tags=TAGS)
    ddb.create_table(
        TableName=NAMES.ledger_table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _create_table(ddb, REPROTECTED)  # as AWS restores it: no stream, no PITR, no tags
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=NAMES.monitor_role,
        AssumeRolePolicyDocument=json.dumps(iam_policies.trust_policy("lambda.amazonaws.com")),
    )["Role"]["Arn"]
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=NAMES.monitor_role, PolicyName="streams", PolicyDocument=STREAM_READER
    )
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("change_monitor/__init__.py", "")
    function_arn = lam.create_function(
        FunctionName=NAMES.monitor_function,
        Runtime="python3.12",
        Role=role,
        Handler="change_monitor.handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    lam.create_event_source_mapping(
        EventSourceArn=ddb.describe_table(TableName=PROTECTED)["Table"]["LatestStreamArn"],
        FunctionName=function_arn,
        StartingPosition="LATEST",
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return function_arn, pitr_enabled


def _item_flows(ddb: Any, runtime_for: Callable[[str], Runtime]) -> None:
    """Revert a REMOVE, a MODIFY and an INSERT in place on both tables (mappings removed first, with an
    unrecorded client: moto would try to run the function in Docker on every stream write)."""
    admin = boto3.client("lambda", region_name=REGION)
    for mapping in admin.list_event_source_mappings()["EventSourceMappings"]:
        admin.delete_event_source_mapping(UUID=mapping["UUID"])
    for table in (PROTECTED, REPROTECTED):
        event = _event_for(table, time.time(), "remove.json", "modify.json", "insert.json")
        for record in event["Records"][1:]:  # the MODIFY and the INSERT left their NewImage in the table
            ddb.put_item(TableName=table, Item=to_client_image(record["dynamodb"]["NewImage"]))
        response = process_event(event, None, runtime_for("item"))
        assert response == {"batchItemFailures": []}


@pytest.fixture
def monitor_calls(ddb: Any, make_runtime: Callable[..., Runtime]) -> list[Call]:
    """Run every flow of the monitor against moto (AWS Backup stubbed) and return the calls it made."""
    lam = boto3.client("lambda", region_name=REGION)
    backup_client = boto3.client("backup", region_name=REGION)
    calls: list[Call] = []
    function_arn, pitr_enabled = _monitor_stack(ddb, lam)
    stack = Stack(NAMES, StackSpec(), REGION, ACCOUNT, Cleanups(), monitor_function_arn=function_arn)
    stack.backup_role_arn = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.backup_role}"
    _record_calls(calls, ddb, lam, backup_client)
    _latest_restorable_trails_now(ddb)

    def runtime_for(strategy: str, context: FakeContext | None = None) -> Runtime:
        env = {**stack.monitor_environment(), "DR_STRATEGY": strategy}
        sleep = context.sleep if context else None
        return make_runtime(load_settings(env), dynamodb=ddb, backup=backup_client, lambda_=lam, sleep=sleep)

    with Stubber(backup_client) as stubber:
        # 1. re-protection of a restored table, as AWS Backup's completion event triggers it
        handler.reset_runtime(runtime_for("backup"))
        point = DRILL_POINT
        stubber.add_response("describe_restore_job", {"RestoreJobId": "job-1", "RecoveryPointArn": point})
        stubber.add_response("describe_recovery_point", {"RecoveryPointArn": point, "ResourceArn": PROTECTED_ARN})
        event = backup_event()
        event["detail"]["createdResourceArn"] = REPROTECTED_ARN
        assert handler.on_restore_completed(event, None)["actions"] == ["stream", "pitr", "tags:2", "mapping"]
        # ... and the PITR-shaped event the framework sends (nothing left to do, every step reads first)
        pitr_event = {
            "source": "drdrill",
            "detail-type": "PITR Restore Completed",
            "detail": {"sourceTableArn": PROTECTED_ARN, "restoredTableArn": REPROTECTED_ARN},
        }
        assert handler.on_restore_completed(pitr_event, None)["decision"] == "reprotected"
        reprotected_pitr = time.time()

        # 2. backup: from the protected table's and the re-protected table's DynamoDB-native backups
        for table, table_arn in ((PROTECTED, PROTECTED_ARN), (REPROTECTED, REPROTECTED_ARN)):
            created = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
            points = [
                {
                    "RecoveryPointArn": f"{table_arn}/backup/01740000000000-abcdef12",
                    "Status": "COMPLETED",
                    "BackupVaultName": NAMES.vault,
                    "CreationDate": created,
                }
            ]
            stubber.add_response("list_recovery_points_by_resource", {"RecoveryPoints": points})
            stubber.add_response("list_restore_jobs", {"RestoreJobs": []})
            stubber.add_response("list_restore_jobs", {"RestoreJobs": []})
            stubber.add_response("start_restore_job", {"RestoreJobId": f"job-{table}"})
            change = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp()
            response = process_event(_event_for(table, change, "remove.json"), None, runtime_for("backup"))
            assert response == {"batchItemFailures": []}

        # a redelivery whose ledger claim conflict returns no item: the ledger reads the record back (GetItem)
        def drop_returned_item(parsed: dict[str, Any], **_: Any) -> None:
            parsed.pop("Item", None)

        ddb.meta.events.register("after-call.dynamodb.PutItem", drop_returned_item)
        response = process_event(_event_for(PROTECTED, change, "remove.json"), None, runtime_for("backup"))
        ddb.meta.events.unregister("after-call.dynamodb.PutItem", drop_returned_item)
        assert response == {"batchItemFailures": []}
        stubber.assert_no_pending_responses()

    # 3. pitr: restore the protected table and the re-protected table (a restore of a restore)
    second = int(max(pitr_enabled, reprotected_pitr)) + 1
    time.sleep(max(0.0, second + 1.2 - time.time()))  # inside the restorable window on every target
    for table in (PROTECTED, REPROTECTED):
        context = FakeContext()
        response = process_event(_event_for(table, second, "remove.json"), context, runtime_for("pitr", context))
        assert response == {"batchItemFailures": []}

    # 4. item: revert a REMOVE, a MODIFY and an INSERT in place, on both tables
    _item_flows(ddb, runtime_for)
    return calls


def test_every_call_of_the_monitors_flows_is_allowed_by_the_stacks_policy(monitor_calls: list[Call]) -> None:
    policy = [iam_policies.monitor_role_policy(NAMES, REGION, ACCOUNT)]
    refused = [
        f"{operation}: {permission.action} on {permission.resource} {dict(permission.context)}"
        for service, operation, params in monitor_calls
        for permission in iam_eval.permissions_for_call(
            service, operation, params, REGION, ACCOUNT, RECOVERY_POINT_TAGS.get
        )
        if not permission.allowed_by(policy)
    ]
    assert sorted(set(refused)) == []
    # the flows did reach the calls the audit found refused on AWS
    seen = {(op, p.get("TableName") or p.get("SourceTableName") or p.get("ResourceArn")) for _, op, p in monitor_calls}
    for needed in (
        ("DescribeContinuousBackups", REPROTECTED),
        ("ListTagsOfResource", REPROTECTED_ARN),
        ("UpdateContinuousBackups", REPROTECTED),
        ("UpdateTable", REPROTECTED),
        ("TagResource", REPROTECTED_ARN),
        ("RestoreTableToPointInTime", REPROTECTED),
        ("PutItem", REPROTECTED),
        ("DeleteItem", REPROTECTED),
    ):
        assert needed in seen, needed
    assert {op for _, op, _ in monitor_calls} >= {"CreateEventSourceMapping", "StartRestoreJob", "GetItem"}


def test_the_monitor_still_cannot_delete_tables_or_pass_other_roles() -> None:
    policy = [iam_policies.monitor_role_policy(NAMES, REGION, ACCOUNT)]
    for table in (PROTECTED_ARN, REPROTECTED_ARN, f"{REPROTECTED_ARN}-restored-20250301T130000Z"):
        assert not iam_eval.allows(policy, "dynamodb:DeleteTable", table)
        assert not iam_eval.allows(policy, "dynamodb:DeleteBackup", f"{table}/backup/01740000000000-abcdef12")
    other = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/drdrill-20250301t120000-abcd-2-orders"
    assert not iam_eval.allows(policy, "dynamodb:RestoreTableToPointInTime", other)
    assert not iam_eval.allows(policy, "dynamodb:UpdateTable", PROTECTED_ARN)  # only restored tables are changed
    backup_role = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.backup_role}"
    assert iam_eval.allows(policy, "iam:PassRole", backup_role, {"iam:PassedToService": "backup.amazonaws.com"})
    assert not iam_eval.allows(policy, "iam:PassRole", backup_role, {"iam:PassedToService": "lambda.amazonaws.com"})
    monitor_role = f"arn:aws:iam::{ACCOUNT}:role/{NAMES.monitor_role}"
    assert not iam_eval.allows(policy, "iam:PassRole", monitor_role, {"iam:PassedToService": "backup.amazonaws.com"})


def _operations_in_source() -> set[str]:
    """boto3 method names of DynamoDB, AWS Backup and Lambda operations the monitor's source refers to."""
    session = botocore.session.get_session()
    known = {
        xform_name(op)
        for service in ("dynamodb", "backup", "lambda")
        for op in session.get_service_model(service).operation_names
    }
    found: set[str] = set()
    for path in LAMBDA_SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in known:
                found.add(node.attr)
    return found


def test_the_flows_exercise_every_call_in_the_monitors_source(monitor_calls: list[Call]) -> None:
    in_source = _operations_in_source()
    assert {"restore_table_to_point_in_time", "start_restore_job", "tag_resource"} <= in_source  # the scan works
    exercised = {xform_name(op) for _, op, _ in monitor_calls}
    assert in_source - exercised == set(), "add a flow for these calls so their IAM grant is checked"
