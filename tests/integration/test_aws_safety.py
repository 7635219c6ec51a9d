"""Safety interlocks of aws drills, with botocore's Stubber (no AWS): tag checks, stop alarm, cost cap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import steps.when
from dr_infra.drill.canary import CanaryWriter
from dr_infra.drill.oracle import Oracle
from dr_infra.errors import ConfigError, UnsafeOperation
from dr_infra.stack import safety
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.pricing import estimate_cost

REPO = Path(__file__).resolve().parents[2]
RUN = "20260101t000000-abcd"
ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/drdrill-20260101t000000-abcd-1-orders"
OURS = [{"Key": "drdrill:managed", "Value": "true"}, {"Key": "drdrill:run-id", "Value": RUN}]


def _client(service: str) -> Any:
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="eu-west-1")
    return session.client(service)  # type: ignore[call-overload]


def _drill(ddb: Any) -> Any:
    """Just what the When steps touch before they harm anything."""
    names = SimpleNamespace(table=ARN.rsplit("/", 1)[-1])
    stack = SimpleNamespace(table_arn=ARN, names=names, spec=SimpleNamespace(deployed=False))  # drdrill provisioned it
    return SimpleNamespace(
        run_id=RUN,
        client=lambda service: ddb,
        require_stack=lambda: stack,
        ensure_monitor_attached=lambda: pytest.fail("the monitor was attached before the tag check"),
    )


def _step(module: Any, text: str) -> Any:
    fixture = next(v for k, v in vars(module).items() if k.startswith("pytestbdd_stepdef") and k.endswith(text))
    return fixture._get_wrapped_function()().step_func


# -- tag checks before destructive steps ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tags", "seen"),
    [
        ([], "no drdrill tags"),
        ([{"Key": "team", "Value": "payments"}], "no drdrill tags"),
        (
            [{"Key": "drdrill:managed", "Value": "true"}, {"Key": "drdrill:run-id", "Value": "other"}],
            "run-id=other",
        ),
        (
            [{"Key": "drdrill:managed", "Value": "false"}, {"Key": "drdrill:run-id", "Value": RUN}],
            "managed=false",
        ),
    ],
)
def test_when_steps_refuse_a_table_not_tagged_as_this_runs(tags: list[dict[str, str]], seen: str) -> None:
    ddb = _client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_response("list_tags_of_resource", {"Tags": tags}, {"ResourceArn": ARN})
        with pytest.raises(UnsafeOperation) as caught:
            steps.when._prepare(_drill(ddb), 1)  # type: ignore[arg-type]
        stub.assert_no_pending_responses()  # and nothing else was called: Stubber rejects unexpected calls
    message = str(caught.value)
    assert "\n" not in message
    assert "refusing to change items of table drdrill-20260101t000000-abcd-1-orders" in message
    assert seen in message


def test_table_deletion_step_refuses_an_untagged_table() -> None:
    ddb = _client("dynamodb")
    delete_step = _step(steps.when, "the table is deleted")
    with Stubber(ddb) as stub:
        stub.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": ARN})
        with pytest.raises(UnsafeOperation, match="refusing to delete table"):
            delete_step(_drill(ddb))
        stub.assert_no_pending_responses()


def test_tags_are_read_across_pages() -> None:
    ddb = _client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_response("list_tags_of_resource", {"Tags": OURS[:1], "NextToken": "t"}, {"ResourceArn": ARN})
        stub.add_response("list_tags_of_resource", {"Tags": OURS[1:]}, {"ResourceArn": ARN, "NextToken": "t"})
        safety.check_table(ddb, ARN, RUN)
        stub.assert_no_pending_responses()


# -- tag checks in teardown ------------------------------------------------------------------------------------
def test_teardown_deletes_a_table_of_this_run() -> None:
    ddb = _client("dynamodb")
    with Stubber(ddb) as stub:
        stub.add_response("list_tags_of_resource", {"Tags": OURS}, {"ResourceArn": ARN})
        stub.add_response("delete_table", {}, {"TableName": ARN.rsplit("/", 1)[-1]})
        safety.delete_table(ddb, ARN, RUN)
        stub.assert_no_pending_responses()


def test_teardown_refuses_untagged_table_role_and_function_and_records_it() -> None:
    ddb, iam, lam = _client("dynamodb"), _client("iam"), _client("lambda")
    fn_arn = "arn:aws:lambda:eu-west-1:111111111111:function:prod-monitor"
    cleanups = Cleanups()
    cleanups.add("delete table", lambda: safety.delete_table(ddb, ARN, RUN))
    cleanups.add("delete role", lambda: safety.delete_role(iam, "prod-role", RUN))
    cleanups.add("delete function", lambda: safety.delete_function(lam, fn_arn, RUN))
    with Stubber(ddb) as s1, Stubber(iam) as s2, Stubber(lam) as s3:
        s1.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": ARN})
        s2.add_response("list_role_tags", {"Tags": [], "IsTruncated": False}, {"RoleName": "prod-role"})
        s3.add_response("list_tags", {"Tags": {"drdrill:managed": "true"}}, {"Resource": fn_arn})
        failures = cleanups.run()  # no delete_* response is stubbed: a delete call would raise instead
        for stub in (s1, s2, s3):
            stub.assert_no_pending_responses()
    assert len(failures) == 3
    assert all("UnsafeOperation" in f and "refusing to delete" in f for f in failures)


def test_teardown_of_a_table_already_gone_is_clean() -> None:
    ddb = _client("dynamodb")
    cleanups = Cleanups()
    cleanups.add("delete table", lambda: safety.delete_table(ddb, ARN, RUN))
    with Stubber(ddb) as stub:
        stub.add_client_error("list_tags_of_resource", "ResourceNotFoundException", "gone")
        assert cleanups.run() == []
    assert cleanups.done == ["delete table (already gone)"]


def test_teardown_deletes_role_and_function_of_this_run() -> None:
    iam, lam = _client("iam"), _client("lambda")
    fn_arn = "arn:aws:lambda:eu-west-1:111111111111:function:drdrill-x-monitor"
    with Stubber(iam) as s1, Stubber(lam) as s2:
        s1.add_response("list_role_tags", {"Tags": OURS, "IsTruncated": False}, {"RoleName": "r"})
        s1.add_response("delete_role", {}, {"RoleName": "r"})
        s2.add_response("list_tags", {"Tags": {t["Key"]: t["Value"] for t in OURS}}, {"Resource": fn_arn})
        s2.add_response("delete_function", {}, {"FunctionName": fn_arn})
        safety.delete_role(iam, "r", RUN)
        safety.delete_function(lam, fn_arn, RUN)
        s1.assert_no_pending_responses()
        s2.assert_no_pending_responses()


# -- stop alarm ------------------------------------------------------------------------------------------------
def _alarm(state: str) -> dict[str, Any]:
    return {"MetricAlarms": [{"AlarmName": "db-errors", "StateValue": state}], "CompositeAlarms": []}


def test_stop_alarm_in_alarm_stops_the_drill() -> None:
    cw = _client("cloudwatch")
    expected = {"AlarmNames": ["db-errors"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    with Stubber(cw) as stub:
        stub.add_response("describe_alarms", _alarm("OK"), expected)
        stub.add_response("describe_alarms", _alarm("ALARM"), expected)
        safety.check_stop_alarm(cw, "db-errors")
        with pytest.raises(safety.StopConditionTriggered) as caught:
            safety.check_stop_alarm(cw, "db-errors")
    assert str(caught.value) == "stopped: alarm db-errors is in ALARM"


def test_a_stop_alarm_that_does_not_exist_is_a_configuration_error() -> None:
    cw = _client("cloudwatch")
    with Stubber(cw) as stub:
        stub.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []})
        with pytest.raises(ConfigError, match="stop alarm 'nope' does not exist"):
            safety.check_stop_alarm(cw, "nope")


def test_no_stop_alarm_calls_nothing() -> None:
    cw = _client("cloudwatch")
    with Stubber(cw):
        safety.check_stop_alarm(cw, None)


class _DynamoDB:
    """Records when each canary PutItem starts (the writer's only call)."""

    def __init__(self) -> None:
        self.started: list[float] = []

    def put_item(self, **_: Any) -> dict[str, Any]:
        self.started.append(time.monotonic())
        return {}


def _canary(ddb: _DynamoDB) -> CanaryWriter:
    return CanaryWriter(ddb, "t", Oracle(hash_key="pk"), interval_s=0.01)


def test_the_stop_guard_trips_once_and_then_fails_every_check_without_a_call() -> None:
    """Once seen in ALARM the run is stopped for good: later checks (later scenarios) raise at once, even if
    the alarm is OK again, and never call CloudWatch (the Stubber has no response left: a call would fail)."""
    cw = _client("cloudwatch")
    guard = safety.StopGuard("db-errors")
    stops: list[str] = []
    guard.on_stop(lambda: stops.append("stopped"))
    with Stubber(cw) as stub:
        stub.add_response("describe_alarms", _alarm("OK"))
        stub.add_response("describe_alarms", _alarm("ALARM"))
        guard.check(cw)
        assert not guard.stopped
        with pytest.raises(safety.StopConditionTriggered, match=r"^stopped: alarm db-errors is in ALARM$"):
            guard.check(cw)
        stub.assert_no_pending_responses()
        for _ in range(3):
            with pytest.raises(safety.StopConditionTriggered, match=r"^stopped: alarm db-errors is in ALARM$"):
                guard.check(cw)
    assert stops == ["stopped"]
    late: list[str] = []
    guard.on_stop(lambda: late.append("stopped"))  # registered after the trip: told at once
    assert late == ["stopped"]


def test_canary_writers_stop_writing_the_moment_the_alarm_is_seen() -> None:
    cw, ddb = _client("cloudwatch"), _DynamoDB()
    guard = safety.StopGuard("db-errors")
    writer = _canary(ddb)
    guard.on_stop(writer.halt)
    writer.start()
    try:
        deadline = time.monotonic() + 5
        while len(ddb.started) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(ddb.started) >= 3, "the canary never wrote"
        with Stubber(cw) as stub:
            stub.add_response("describe_alarms", _alarm("ALARM"))
            with pytest.raises(safety.StopConditionTriggered):
                guard.check(cw)
        seen = time.monotonic()
        time.sleep(0.2)  # 20 intervals: a writer still running would have written again
        assert writer.halted
        assert [t for t in ddb.started if t > seen] == []
        assert not writer._thread.is_alive()
    finally:
        writer.stop()


def test_the_watcher_stops_canaries_between_steps_during_a_long_wait() -> None:
    """No step runs (a restore wait on AWS takes 20 minutes): the guard's own polling sees the alarm."""
    cw, ddb = _client("cloudwatch"), _DynamoDB()
    guard = safety.StopGuard("db-errors")
    writer = _canary(ddb)
    guard.on_stop(writer.halt)
    writer.start()
    try:
        with Stubber(cw) as stub:
            stub.add_response("describe_alarms", _alarm("OK"))
            stub.add_response("describe_alarms", _alarm("ALARM"))
            guard.watch(lambda: cw, interval_s=0.05)
            deadline = time.monotonic() + 5
            while not guard.stopped and time.monotonic() < deadline:
                time.sleep(0.01)
            stub.assert_no_pending_responses()
        assert guard.reason == "stopped: alarm db-errors is in ALARM"
        written = len(ddb.started)
        time.sleep(0.2)
        assert writer.halted and len(ddb.started) == written
    finally:
        guard.close()
        writer.stop()


def test_a_guard_without_an_alarm_never_stops_nor_calls() -> None:
    cw = _client("cloudwatch")
    guard = safety.StopGuard(None)
    with Stubber(cw):
        guard.check(cw)
        guard.watch(lambda: cw, interval_s=0.01)
        time.sleep(0.05)
    assert not guard.stopped


# -- cost cap --------------------------------------------------------------------------------------------------
def test_cost_cap_parsing() -> None:
    assert safety.parse_max_cost(None) is None
    assert safety.parse_max_cost("") is None
    assert safety.parse_max_cost("2.5") == 2.5
    for bad in ("0", "-1", "abc", "nan", "inf"):
        with pytest.raises(ConfigError, match="--dr-max-cost"):
            safety.parse_max_cost(bad)


def test_cost_cap_compares_the_plan_estimate_times_the_scenarios() -> None:
    per_drill = safety.check_cost(None, 1)
    assert per_drill == pytest.approx(estimate_cost(1.0)["total_usd"])  # one drill with its restore
    assert safety.check_cost(per_drill * 3 + 0.01, 3) == pytest.approx(per_drill * 3)
    with pytest.raises(ConfigError, match="exceeds the cost cap") as caught:
        safety.check_cost(per_drill * 3 - 0.01, 3)
    assert "\n" not in str(caught.value)


def test_cost_cap_counts_a_restore_only_for_the_scenarios_that_start_one() -> None:
    without = estimate_cost(1.0, restores=0)["total_usd"]
    restore = estimate_cost(1.0, restores=1)["total_usd"] - without
    assert restore > 0
    assert safety.check_cost(None, 5, restoring=2) == pytest.approx(5 * without + 2 * restore)
    assert safety.check_cost(None, 5, restoring=2) < safety.check_cost(None, 5)
    safety.check_cost(5 * without + 2 * restore + 0.001, 5, restoring=2)  # fewer restores fit under the cap
    with pytest.raises(ConfigError, match=r"5 scenario\(s\), 5 with a restore"):
        safety.check_cost(5 * without + 2 * restore + 0.001, 5)


def _drdrill() -> str:
    return str(Path(sys.executable).with_name("drdrill"))


def test_run_over_the_cost_cap_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    """Exit 2 with one line; the aws target is never started (the fake credentials would fail if it were)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRDRILL_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="eu-west-1")
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens: any AWS call would fail loudly
    done = subprocess.run(
        [_drdrill(), "run", str(REPO / "features" / "deletion"), "--target", "aws", "--allow-account",
         "111111111111", "--max-cost", "0.01", "--report-dir", str(tmp_path / "r"), "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("drdrill: estimated AWS cost $") and "exceeds the cost cap $0.01" in lines[0]
    journal = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert journal["status"] == "usage-error"
    assert journal["scenarios"] == []
