"""The event source mapping API of the embedded target, black box through boto3, against AWS's recorded answers.

AWS: https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html, and the responses LocalStack recorded on AWS
(tests/aws/services/lambda_/test_lambda_api.snapshot.json, event_source_mapping/
test_lambda_integration_dynamodbstreams.snapshot.json).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from lambda_stack import create_function, create_table, wait_for, wait_state

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.target import fake_session

STREAM_DEFAULTS = {
    "BatchSize": 100,
    "BisectBatchOnFunctionError": False,
    "DestinationConfig": {"OnFailure": {}},
    "FunctionResponseTypes": [],
    "MaximumBatchingWindowInSeconds": 0,
    "MaximumRecordAgeInSeconds": -1,
    "MaximumRetryAttempts": -1,
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 0,
    "LastProcessingResult": "No records processed",
    "StateTransitionReason": "User action",
}


class Env:
    def __init__(self, target: EmbeddedTarget, unique: str) -> None:
        self.target = target
        self.ddb = target.client("dynamodb")
        self.lam = target.client("lambda")
        self.logs = target.client("logs")
        self.iam = target.client("iam")
        self.sqs = target.client("sqs")
        self.sns = target.client("sns")
        self.name = f"fn-{unique}"
        self.table = f"tbl-{unique}"
        self.stream = create_table(self.ddb, self.table)
        create_function(self.iam, self.lam, self.logs, self.name)

    def create(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("StartingPosition", "TRIM_HORIZON")
        return dict(self.lam.create_event_source_mapping(EventSourceArn=self.stream, FunctionName=self.name, **kwargs))

    def unvalidated(self) -> Any:
        """A Lambda client that sends what it is given (boto3 checks minimums itself, AWS checks the rest)."""
        session = fake_session(self.target.region)
        unchecked = Config(parameter_validation=False)
        return session.client("lambda", endpoint_url=self.target.endpoint_url, config=unchecked)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def env(embedded: EmbeddedTarget, unique: str) -> Env:
    return Env(embedded, unique)


def test_create_answers_202_creating_with_every_default_then_enabled(env: Env) -> None:
    created = env.create(Tags={"k": "v"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert {k: created[k] for k in STREAM_DEFAULTS} == STREAM_DEFAULTS
    assert created["StartingPosition"] == "TRIM_HORIZON"
    assert "Tags" not in created  # AWS lists tags with ListTags, not in the configuration
    assert env.lam.get_event_source_mapping(UUID=created["UUID"])["State"] == "Creating"
    enabled = wait_state(env.lam, created["UUID"])
    assert enabled["StateTransitionReason"] == "User action"


def test_latest_is_the_shard_tip_when_polling_starts_not_when_created(env: Env, slow_mapping_start: None) -> None:
    uuid = env.create(StartingPosition="LATEST")["UUID"]
    env.ddb.put_item(TableName=env.table, Item={"pk": {"S": "during-creating"}})
    wait_state(env.lam, uuid)
    env.ddb.put_item(TableName=env.table, Item={"pk": {"S": "after-enabled"}})
    wait_for(lambda: "after-enabled" in "".join(_messages(env)), timeout=30, what="the record written after Enabled")
    assert "during-creating" not in "".join(_messages(env))


def _messages(env: Env) -> list[str]:
    try:
        return [e["message"] for e in env.logs.filter_log_events(logGroupName=f"/aws/lambda/{env.name}")["events"]]
    except env.logs.exceptions.ResourceNotFoundException:
        return []


def test_changes_while_a_mapping_is_changing_are_refused(env: Env, slow_mapping_start: None) -> None:
    """Each transitional state lasts 3 s (slow_mapping_start), so every call below surely meets it: the default
    0.3 s Deleting once ended between DeleteEventSourceMapping and the List call on a loaded CI machine."""
    uuid = env.create()["UUID"]
    with pytest.raises(ClientError) as refused:
        env.lam.update_event_source_mapping(UUID=uuid, BatchSize=10)
    assert _error(refused)[0] == "ResourceInUseException"
    with pytest.raises(ClientError) as refused_delete:
        env.lam.delete_event_source_mapping(UUID=uuid)
    assert _error(refused_delete)[0] == "ResourceInUseException"
    wait_state(env.lam, uuid)
    updated = env.lam.update_event_source_mapping(UUID=uuid, BatchSize=10)
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202 and updated["State"] == "Updating"
    assert wait_state(env.lam, uuid)["BatchSize"] == 10
    disabling = env.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert disabling["State"] == "Disabling"
    wait_state(env.lam, uuid, "Disabled")
    assert env.lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    wait_state(env.lam, uuid)
    deleted = env.lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202 and deleted["State"] == "Deleting"
    assert env.lam.get_event_source_mapping(UUID=uuid)["State"] == "Deleting"  # readable while AWS deletes it
    listed = env.lam.list_event_source_mappings(EventSourceArn=env.stream)["EventSourceMappings"]
    assert [(m["UUID"], m["State"]) for m in listed] == [(uuid, "Deleting")]
    for change in (
        lambda: env.lam.update_event_source_mapping(UUID=uuid, BatchSize=5),
        lambda: env.lam.delete_event_source_mapping(UUID=uuid),
    ):
        with pytest.raises(ClientError) as deleting:
            change()
        assert _error(deleting)[0] == "ResourceInUseException"
    wait_for(lambda: not env.lam.list_event_source_mappings(EventSourceArn=env.stream)["EventSourceMappings"],
             what="the Deleting mapping gone")  # fmt: skip
    with pytest.raises(ClientError) as gone:
        env.lam.get_event_source_mapping(UUID=uuid)
    assert _error(gone)[:2] == ("ResourceNotFoundException", "The resource you requested does not exist.")
    with pytest.raises(ClientError) as gone_update:
        env.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert _error(gone_update)[0] == "ResourceNotFoundException"


def test_a_second_mapping_of_the_same_stream_and_function_is_a_conflict(env: Env) -> None:
    first = env.create()["UUID"]
    with pytest.raises(ClientError) as conflict:
        env.create(StartingPosition="LATEST")
    code, message, status = _error(conflict)
    assert (code, status) == ("ResourceConflictException", 409)
    assert message == (
        f'The event source arn (" {env.stream} ") and function (" {env.name} ") provided mapping already exists. '
        f"Please update or delete the existing mapping with UUID {first}"
    )
    assert len(env.lam.list_event_source_mappings(EventSourceArn=env.stream)["EventSourceMappings"]) == 1


VALIDATION = "ValidationException"
INVALID = "InvalidParameterValueException"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:no-such-queue"
AT = "failed to satisfy constraint: Member must have value"
REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"BatchSize": 20000}, VALIDATION, "Value '20000' at 'batchSize' " + AT + " less than or equal to 10000"),
    ({"BatchSize": 0}, VALIDATION, "Value '0' at 'batchSize' " + AT + " greater than or equal to 1"),
    ({"MaximumRetryAttempts": 20000}, VALIDATION, "at 'maximumRetryAttempts' " + AT + " less than or equal to 10000"),
    ({"MaximumRecordAgeInSeconds": 604801}, VALIDATION, "at 'maximumRecordAgeInSeconds' failed to satisfy constraint"),
    ({"ParallelizationFactor": 11}, VALIDATION, "at 'parallelizationFactor' " + AT + " less than or equal to 10"),
    ({"MaximumBatchingWindowInSeconds": 301}, VALIDATION, "at 'maximumBatchingWindowInSeconds'"),
    ({"FunctionResponseTypes": ["Bogus"]}, VALIDATION, "Member must satisfy enum value set: [ReportBatchItemFailures]"),
    (
        {"StartingPosition": "SOMEWHERE"},
        VALIDATION,
        "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    ),
    (
        {"StartingPosition": None},
        INVALID,
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
        "Member must not be null.",
    ),
    ({"StartingPosition": "AT_TIMESTAMP"}, INVALID, "Unsupported starting position for arn type"),
    ({"MaximumRecordAgeInSeconds": 59}, INVALID, "use -1 (infinite) or 60 to 604800 seconds"),
    ({"DestinationConfig": {"OnFailure": {"Destination": QUEUE}}}, INVALID, "does not exist"),
    (
        {"DestinationConfig": {"OnSuccess": {"Destination": QUEUE}}},
        INVALID,
        "Unsupported DestinationConfig parameter for given event source mapping type.",
    ),
    ({"FilterCriteria": {"Filters": [{"Pattern": "{}"}]}}, INVALID, "is not modelled by drdrill's embedded target"),
    ({"ParallelizationFactor": 2}, INVALID, "ParallelizationFactor 2 is not modelled by drdrill's embedded target"),
    ({"FunctionName": "no-such-function"}, INVALID, "Function does not exist"),
    (
        {"BatchSize": "ten"},
        VALIDATION,
        "Value 'ten' at 'batchSize' failed to satisfy constraint: Member must be an integer",
    ),
    ({"BisectBatchOnFunctionError": "yes"}, VALIDATION, "at 'bisectBatchOnFunctionError'"),
]


@pytest.mark.parametrize(("params", "code", "message"), REFUSED)
def test_parameters_aws_refuses_are_refused_with_its_code(
    env: Env, params: dict[str, Any], code: str, message: str
) -> None:
    request = {"EventSourceArn": env.stream, "FunctionName": env.name, "StartingPosition": "TRIM_HORIZON", **params}
    request = {k: v for k, v in request.items() if v is not None}
    with pytest.raises(ClientError) as refused:
        env.unvalidated().create_event_source_mapping(**request)
    got_code, got_message, status = _error(refused)
    assert (got_code, status) == (code, 400) and message in got_message, got_message
    assert env.lam.list_event_source_mappings(EventSourceArn=env.stream)["EventSourceMappings"] == []


def test_the_documented_extremes_are_accepted(env: Env) -> None:
    queue = env.sqs.create_queue(QueueName=f"dlq-{env.name}")["QueueUrl"]
    queue_arn = env.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    created = env.create(
        BatchSize=10000,
        MaximumBatchingWindowInSeconds=300,
        MaximumRetryAttempts=10000,
        MaximumRecordAgeInSeconds=60,
        ParallelizationFactor=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
    uuid = created["UUID"]
    wait_state(env.lam, uuid)
    for params in ({"MaximumRetryAttempts": 10001}, {"MaximumRecordAgeInSeconds": 30}, {"BatchSize": 10001}):
        with pytest.raises(ClientError) as refused:
            env.unvalidated().update_event_source_mapping(UUID=uuid, **params)
        assert _error(refused)[0] in {"ValidationException", "InvalidParameterValueException"}
    assert env.lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 10000  # a refused update changed nothing
    env.lam.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=-1)
    config = wait_state(env.lam, uuid)
    assert (config["MaximumRetryAttempts"], config["MaximumRecordAgeInSeconds"]) == (-1, -1)


def _fail_all(env: Env) -> None:
    env.lam.update_function_configuration(FunctionName=env.name, Environment={"Variables": {"FAIL_KEYS": "poison"}})


def test_a_discarded_batch_is_described_to_the_sqs_on_failure_destination(env: Env) -> None:
    queue = env.sqs.create_queue(QueueName=f"dlq-{env.name}")["QueueUrl"]
    queue_arn = env.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _fail_all(env)
    uuid = env.create(MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue_arn}})["UUID"]
    wait_state(env.lam, uuid)
    env.ddb.put_item(TableName=env.table, Item={"pk": {"S": "poison"}})
    messages = wait_for(
        lambda: env.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"),
        timeout=30,
        what="the discarded batch's record on the queue",
    )
    body = json.loads(messages[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 2  # the first attempt and one retry
    assert body["requestContext"]["functionArn"].endswith(f":function:{env.name}")
    assert body["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert body["version"] == "1.0"
    info = body["DDBStreamBatchInfo"]
    assert info["streamArn"] == env.stream and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    shards = env.target.client("dynamodbstreams").describe_stream(StreamArn=env.stream)["StreamDescription"]["Shards"]
    assert info["shardId"] == shards[0]["ShardId"]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")


def test_a_batch_retried_without_limit_is_never_sent_to_the_destination(env: Env) -> None:
    queue = env.sqs.create_queue(QueueName=f"dlq-{env.name}")["QueueUrl"]
    queue_arn = env.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _fail_all(env)
    uuid = env.create(DestinationConfig={"OnFailure": {"Destination": queue_arn}})["UUID"]  # retries: -1
    wait_state(env.lam, uuid)
    env.ddb.put_item(TableName=env.table, Item={"pk": {"S": "poison"}})
    time.sleep(2.0)
    assert env.sqs.receive_message(QueueUrl=queue).get("Messages") is None
    env.lam.update_event_source_mapping(UUID=uuid, Enabled=False)  # stop the endless retries
    wait_state(env.lam, uuid, "Disabled")


def test_a_discarded_batch_reaches_an_sns_on_failure_destination(env: Env) -> None:
    topic = env.sns.create_topic(Name=f"dlt-{env.name}")["TopicArn"]
    queue = env.sqs.create_queue(QueueName=f"sub-{env.name}")["QueueUrl"]
    queue_arn = env.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    env.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    _fail_all(env)
    uuid = env.create(MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic}})["UUID"]
    wait_state(env.lam, uuid)
    env.ddb.put_item(TableName=env.table, Item={"pk": {"S": "poison"}})
    messages = wait_for(
        lambda: env.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"),
        timeout=30,
        what="the SNS notification on the subscribed queue",
    )
    notification = json.loads(messages[0]["Body"])
    assert notification["TopicArn"] == topic
    document = json.loads(notification["Message"])
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 1
    assert document["DDBStreamBatchInfo"]["streamArn"] == env.stream


def test_records_past_their_maximum_age_are_described_as_record_age_exceeded(env: Env) -> None:
    queue = env.sqs.create_queue(QueueName=f"dlq-{env.name}")["QueueUrl"]
    queue_arn = env.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    env.ddb.put_item(TableName=env.table, Item={"pk": {"S": "old"}})
    assert env.target.control is not None
    env.target.control.set_fault("stream_records_aged", seconds=3600)  # AWS's minimum age limit is 60 s
    env.create(MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    messages = wait_for(
        lambda: env.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"),
        timeout=30,
        what="the expired batch's record",
    )
    document = json.loads(messages[0]["Body"])
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 0 and "responseContext" not in document
    assert not any("old" in m for m in _messages(env) if m.startswith("EVENT"))
