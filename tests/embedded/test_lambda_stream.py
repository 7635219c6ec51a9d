"""Lambda on the stream, on the embedded target: every assertion is on what plain boto3 reads back.

AWS behaviour under test: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from lambda_stack import batches, create_function, create_table, log_messages, wait_for, wait_state

from dr_infra.targets.embedded import EmbeddedTarget, esm_poller, lambda_runtime, patches
from dr_infra.targets.embedded.target import fake_session

OTHER_REGION = "eu-west-1"


class Stack:
    """Clients for one region of the embedded target, plus the stack's names."""

    def __init__(self, target: EmbeddedTarget, unique: str, region: str | None = None) -> None:
        if region is None:
            self.client = target.client
        else:
            session = fake_session(region)
            self.client = lambda service: session.client(service, endpoint_url=target.endpoint_url)
        self.region = region or target.region
        self.ddb = self.client("dynamodb")
        self.lam = self.client("lambda")
        self.logs = self.client("logs")
        self.iam = self.client("iam")
        self.name = f"fn-{unique}"
        self.table = f"tbl-{unique}"

    def build(self, env: dict[str, str] | None = None, timeout: int = 10, **mapping: Any) -> tuple[str, str]:
        """Table with stream, function, mapping; returns (stream ARN, mapping UUID)."""
        stream_arn = create_table(self.ddb, self.table)
        create_function(self.iam, self.lam, self.logs, self.name, env, timeout)
        uuid = ""
        if mapping is not None:
            mapping.setdefault("StartingPosition", "LATEST")
            uuid = self.lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=self.name, **mapping)[
                "UUID"
            ]
            wait_state(self.lam, uuid)  # a LATEST mapping reads from where the shard is once it polls
        return stream_arn, uuid

    def put(self, *keys: str) -> None:
        for key in keys:
            self.ddb.put_item(TableName=self.table, Item={"pk": {"S": key}, "v": {"N": "1"}})

    def keys_seen(self) -> list[list[str]]:
        return [b["keys"] for b in batches(self.logs, self.name)]


def _delivered(stack: Stack, count: int) -> list[list[str]]:
    return wait_for(
        lambda: (seen := stack.keys_seen()) and sum(len(k) for k in seen) >= count and seen,
        what=f"{count} records delivered to {stack.name}",
    )


def test_write_invokes_function_asynchronously_with_the_documented_event(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique, region=OTHER_REGION)
    stream_arn, uuid = stack.build(env={"GREETING": "hello"}, BatchSize=10)

    stack.put("a")
    stack.ddb.update_item(
        TableName=stack.table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    stack.ddb.delete_item(TableName=stack.table, Key={"pk": {"S": "a"}})

    seen = wait_for(
        lambda: (b := batches(stack.logs, stack.name)) and sum(len(x["keys"]) for x in b) >= 3 and b,
        what="three records delivered",
    )
    records = [r for b in seen for r in b["event"]["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert os.getpid() not in {b["pid"] for b in seen}
    first = records[0]
    assert set(first) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert first["eventVersion"] == "1.1"
    assert first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"] == OTHER_REGION
    assert first["eventSourceARN"] == stream_arn
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int | float)
    assert abs(first["dynamodb"]["ApproximateCreationDateTime"] - time.time()) < 60
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert first["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert "OldImage" not in first["dynamodb"]
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert "NewImage" not in records[2]["dynamodb"]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3

    # START / END / REPORT and the handler's own lines land in /aws/lambda/<name>.
    messages = wait_for(
        lambda: (m := log_messages(stack.logs, stack.name)) and any(x.startswith("REPORT") for x in m) and m,
        what="REPORT line",
    )
    assert any(re.fullmatch(r"START RequestId: [0-9a-f-]{36} Version: \$LATEST", m) for m in messages)
    assert any(re.fullmatch(r"END RequestId: [0-9a-f-]{36}", m) for m in messages)
    report = next(m for m in messages if m.startswith("REPORT"))
    assert re.fullmatch(
        r"REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 256 MB\tMax Memory Used: \d+ MB(\tInit Duration: [\d.]+ ms)?",
        report,
    ), report
    assert any(re.match(r"\[INFO\]\t\S+Z\t[0-9a-f-]{36}\tbatch of \d records", m) for m in messages)
    streams = stack.logs.describe_log_streams(logGroupName=f"/aws/lambda/{stack.name}")["logStreams"]
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", s["logStreamName"]) for s in streams)

    # Another reader of the stream still sees every record.
    streams_client = stack.client("dynamodbstreams")
    shard = streams_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams_client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    got = streams_client.get_records(ShardIterator=iterator)["Records"]
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]

    mapping = stack.lam.get_event_source_mapping(UUID=uuid)
    assert mapping["State"] == "Enabled"
    assert mapping["LastProcessingResult"] == "OK"


def test_function_environment_context_and_direct_invoke(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    create_function(stack.iam, stack.lam, stack.logs, stack.name, {"GREETING": "hello"}, timeout=7)

    response = stack.lam.invoke(FunctionName=stack.name, Payload=json.dumps({"print": "direct hello"}), LogType="Tail")
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    result = json.loads(response["Payload"].read())
    assert result["pid"] != os.getpid()
    assert result["function_name"] == stack.name
    assert result["function_version"] == "$LATEST"
    assert result["memory_limit_in_mb"] == 256
    assert result["invoked_function_arn"].endswith(f":function:{stack.name}")
    assert result["log_group_name"] == f"/aws/lambda/{stack.name}"
    assert 0 < result["remaining_ms"] <= 7000
    assert result["drdrill_importable"] is False
    repo_root = str(Path(__file__).resolve().parents[2])
    assert not any(p.rstrip("/") in (repo_root, str(Path.cwd())) for p in result["sys_path"])
    env = result["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == embedded.region
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == stack.name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{stack.name}"
    assert env["AWS_ENDPOINT_URL"] == embedded.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]  # the role's session
    assert "PYTHONPATH" in env and repo_root not in env["PYTHONPATH"].split(":")
    assert not any(k.startswith(("PYTEST", "VIRTUAL_ENV")) for k in env)
    assert "direct hello" in base64.b64decode(response["LogResult"]).decode()

    # A warm worker serves the next invocation.
    again = json.loads(stack.lam.invoke(FunctionName=stack.name, Payload=b"{}")["Payload"].read())
    assert again["pid"] == result["pid"]

    # An unhandled exception: Unhandled, AWS's error JSON, logged.
    failed = stack.lam.invoke(FunctionName=stack.name, Payload=json.dumps({"raise": "boom"}))
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    assert isinstance(error["stackTrace"], list) and "app.py" in error["stackTrace"][-1]
    messages = log_messages(stack.logs, stack.name)
    assert any(m.startswith("[ERROR] ValueError: boom\nTraceback") for m in messages)

    # Event: 202 at once, runs in the background; DryRun: 204, nothing runs.
    event = stack.lam.invoke(FunctionName=stack.name, InvocationType="Event", Payload=json.dumps({"print": "async hi"}))
    assert event["StatusCode"] == 202
    wait_for(lambda: "async hi" in log_messages(stack.logs, stack.name), what="async invocation log")
    dry = stack.lam.invoke(FunctionName=stack.name, InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204


def test_log_group_created_when_missing(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    create_function(stack.iam, stack.lam, stack.logs, stack.name)
    stack.logs.delete_log_group(logGroupName=f"/aws/lambda/{stack.name}")
    stack.lam.invoke(FunctionName=stack.name, Payload=json.dumps({"print": "still logged"}))
    assert "still logged" in log_messages(stack.logs, stack.name)


def test_batch_size_and_trim_horizon(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    stream_arn = create_table(stack.ddb, stack.table)
    create_function(stack.iam, stack.lam, stack.logs, stack.name)
    stack.put("k1", "k2", "k3", "k4", "k5")  # before the mapping exists
    stack.lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=stack.name, StartingPosition="TRIM_HORIZON", BatchSize=2
    )
    assert _delivered(stack, 5) == [["k1", "k2"], ["k3", "k4"], ["k5"]]


def test_batching_window_gathers_records(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    _, uuid = stack.build(BatchSize=10, MaximumBatchingWindowInSeconds=1)
    written = time.time()
    stack.put("w1", "w2", "w3")
    assert _delivered(stack, 3) == [["w1", "w2", "w3"]]
    stats = esm_poller.mapping_stats(uuid)
    assert stats is not None and stats["last_invocation_started"] - written >= 0.9


def test_latest_skips_earlier_records(embedded: EmbeddedTarget, unique: str, slow_mapping_start: None) -> None:
    stack = Stack(embedded, unique)
    stream_arn = create_table(stack.ddb, stack.table)
    create_function(stack.iam, stack.lam, stack.logs, stack.name)
    stack.put("before")
    uuid = stack.lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=stack.name, StartingPosition="LATEST"
    )["UUID"]
    stack.put("while-creating")  # AWS: LATEST is the shard's tip when polling starts, after Creating
    wait_state(stack.lam, uuid)
    stack.put("after")
    assert _delivered(stack, 1) == [["after"]]


def test_partial_batch_failure_resumes_at_the_failed_sequence_number(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    stream_arn = create_table(stack.ddb, stack.table)
    create_function(stack.iam, stack.lam, stack.logs, stack.name, {"FAIL_KEYS": "c", "PARTIAL": "1"})
    stack.put("a", "b", "c", "d")
    uuid = stack.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=stack.name,
        StartingPosition="TRIM_HORIZON",
        BatchSize=4,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
    )["UUID"]
    wait_for(lambda: (s := esm_poller.mapping_stats(uuid)) and s["batches_discarded"] == 1, what="discard")
    seen = batches(stack.logs, stack.name)
    assert [b["keys"] for b in seen] == [["a", "b", "c", "d"], ["c", "d"]]
    first_seqs = [r["dynamodb"]["SequenceNumber"] for r in seen[0]["event"]["Records"]]
    assert seen[1]["event"]["Records"][0]["dynamodb"]["SequenceNumber"] == first_seqs[2]
    stats = esm_poller.mapping_stats(uuid)
    assert stats is not None and stats["partial_failures"] == 2 and stats["records_delivered"] == 2

    # The poller moved past the discarded batch: later records flow again.
    stack.put("e")
    wait_for(lambda: stack.keys_seen()[-1:] == [["e"]], what="record after the discarded batch")


def test_bisect_and_bounded_retries_isolate_a_poison_record(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    stream_arn = create_table(stack.ddb, stack.table)
    create_function(stack.iam, stack.lam, stack.logs, stack.name, {"FAIL_KEYS": "c"})
    stack.put("a", "b", "c", "d")
    uuid = stack.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=stack.name,
        StartingPosition="TRIM_HORIZON",
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
    )["UUID"]
    wait_for(lambda: ["d"] in stack.keys_seen(), what="the record after the poison one")
    assert stack.keys_seen() == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["c"], ["d"]]
    stats = esm_poller.mapping_stats(uuid)
    assert stats is not None
    assert stats["bisections"] == 2 and stats["batches_discarded"] == 1 and stats["records_discarded"] == 1
    assert stack.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK"


def test_retries_bounded_without_bisect(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    _, uuid = stack.build(env={"FAIL_KEYS": "x"}, MaximumRetryAttempts=2, BatchSize=10)
    stack.put("x")
    wait_for(lambda: (s := esm_poller.mapping_stats(uuid)) and s["batches_discarded"] == 1, what="discard")
    assert stack.keys_seen() == [["x"], ["x"], ["x"]]  # first attempt + 2 retries
    assert stack.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "PROBLEM: Function call failed"


def test_maximum_record_age_discards_old_records(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    stream_arn = create_table(stack.ddb, stack.table)
    create_function(stack.iam, stack.lam, stack.logs, stack.name)
    stack.put("old")
    # AWS's minimum age limit is 60 s: the fault switch ages every record by 58 s, so "old" (written 2.5 s ago)
    # is past it and "fresh" is not.
    assert embedded.control is not None
    time.sleep(2.5)
    embedded.control.set_fault("stream_records_aged", seconds=58)
    uuid = stack.lam.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=stack.name,
        StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60,
    )["UUID"]
    stack.put("fresh")
    assert _delivered(stack, 1) == [["fresh"]]
    stats = esm_poller.mapping_stats(uuid)
    assert stats is not None and stats["records_discarded"] == 1


def test_disabled_mapping_delivers_nothing_until_re_enabled(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    _, uuid = stack.build()
    stack.put("one")
    assert _delivered(stack, 1) == [["one"]]

    assert stack.lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    wait_state(stack.lam, uuid, "Disabled")
    stack.put("two")
    time.sleep(0.8)
    assert stack.keys_seen() == [["one"]]

    assert stack.lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    assert _delivered(stack, 2) == [["one"], ["two"]]
    wait_state(stack.lam, uuid, "Enabled")

    assert esm_poller.poller_running(uuid)
    stack.lam.delete_event_source_mapping(UUID=uuid)
    wait_for(lambda: not esm_poller.poller_running(uuid), what="poller stopped after delete")
    stack.put("three")
    time.sleep(0.3)
    assert stack.keys_seen() == [["one"], ["two"]]


def test_timeout_is_enforced(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    create_function(stack.iam, stack.lam, stack.logs, stack.name, timeout=1)
    warm = json.loads(stack.lam.invoke(FunctionName=stack.name, Payload=b"{}")["Payload"].read())["pid"]
    started = time.monotonic()
    response = stack.lam.invoke(FunctionName=stack.name, Payload=json.dumps({"sleep": 5}))
    assert time.monotonic() - started < 3
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    messages = log_messages(stack.logs, stack.name)
    assert any(m.endswith("Task timed out after 1.00 seconds") for m in messages)
    assert any(m.startswith("REPORT") and m.endswith("Status: timeout") for m in messages)
    # The timed-out environment is gone; the next invocation gets a fresh one.
    assert warm not in lambda_runtime.live_worker_pids()
    fresh = json.loads(stack.lam.invoke(FunctionName=stack.name, Payload=b"{}")["Payload"].read())["pid"]
    assert fresh != warm


def test_function_timeout_fault_times_out_without_waiting(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    create_function(stack.iam, stack.lam, stack.logs, stack.name, timeout=30)
    assert embedded.control is not None
    embedded.control.set_fault("function_timeout", count=1, function=stack.name)
    started = time.monotonic()
    response = stack.lam.invoke(FunctionName=stack.name, Payload=b"{}")
    assert time.monotonic() - started < 5
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 30.00 seconds" in json.loads(response["Payload"].read())["errorMessage"]
    assert any(m.endswith("Task timed out after 30.00 seconds") for m in log_messages(stack.logs, stack.name))
    assert "FunctionError" not in stack.lam.invoke(FunctionName=stack.name, Payload=b"{}")


def test_function_error_fault_is_retried_by_the_poller(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    _, uuid = stack.build()
    assert embedded.control is not None
    embedded.control.set_fault("function_error", count=1, function=stack.name, message="injected failure")
    stack.put("r")
    assert _delivered(stack, 1) == [["r"]]  # the failed attempt never reached the handler
    stats = esm_poller.mapping_stats(uuid)
    assert stats is not None and stats["failures"] == 1 and stats["successes"] == 1 and stats["retries"] == 1
    assert "injected failure" in (m := "\n".join(log_messages(stack.logs, stack.name))) and "[ERROR]" in m


def test_function_writing_to_its_own_table_does_not_recurse_in_request(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    stack.build(env={"ECHO": "1", "TABLE": f"tbl-{unique}"})
    started = time.monotonic()
    stack.put("seed")
    assert time.monotonic() - started < 0.5  # the write did not wait for the function
    wait_for(
        lambda: "Item" in stack.ddb.get_item(TableName=stack.table, Key={"pk": {"S": "echo-seed"}}),
        what="the function's own write",
    )
    # Its write is a new stream record, delivered by a later, separate invocation.
    wait_for(lambda: ["echo-seed"] in stack.keys_seen(), what="echo record delivered")
    assert stack.keys_seen() == [["seed"], ["echo-seed"]]


def test_moto_synchronous_delivery_is_disabled() -> None:
    assert patches.check_internals() == []
    hooked = patches.all_hooked_internals()
    assert "moto.awslambda.models.LambdaBackend.send_dynamodb_items" in hooked
    assert "moto.awslambda.models.LambdaFunction._invoke_lambda" in hooked
    from moto.awslambda.models import LambdaBackend

    with pytest.raises(RuntimeError, match="esm_poller"):
        LambdaBackend.send_dynamodb_items(None, "arn", [], "source")  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


def test_no_orphan_worker_processes(embedded: EmbeddedTarget, unique: str) -> None:
    stack = Stack(embedded, unique)
    create_function(stack.iam, stack.lam, stack.logs, stack.name)
    pid = json.loads(stack.lam.invoke(FunctionName=stack.name, Payload=b"{}")["Payload"].read())["pid"]
    assert _alive(pid)
    stack.lam.delete_function(FunctionName=stack.name)
    assert not _alive(pid)

    other = EmbeddedTarget()
    other.start()
    try:
        second = Stack(other, f"{unique}x")
        create_function(second.iam, second.lam, second.logs, second.name)
        response = json.loads(second.lam.invoke(FunctionName=second.name, Payload=b"{}")["Payload"].read())
        assert response["env"]["AWS_ENDPOINT_URL"] == other.endpoint_url
        pid2 = response["pid"]
        assert _alive(pid2)
    finally:
        other.stop()
    assert not _alive(pid2)
    # The session's server still runs functions.
    third = Stack(embedded, f"{unique}y")
    create_function(third.iam, third.lam, third.logs, third.name)
    assert "FunctionError" not in third.lam.invoke(FunctionName=third.name, Payload=b"{}")
