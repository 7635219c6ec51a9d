"""Fault switches on the restore path of the embedded target, read back through plain boto3."""

from __future__ import annotations

import random
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from restore_helpers import (
    completed_backup,
    create_role,
    create_table,
    finished_restore,
    put,
    restore_job,
    table_status,
    wait_for,
)

from dr_infra.bdd.teardown import close_scenario_switches
from dr_infra.drill.state import Drill
from dr_infra.stack.names import StackNames, new_run_id
from dr_infra.targets.base import RETRY_CONFIG
from dr_infra.targets.control_client import ControlClient
from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.faults import FaultSwitches


def _recovery_point(clients: Any, unique: str) -> tuple[str, str, str]:
    """(table name, recovery point ARN, role ARN) for a fresh table with one item, backed up."""
    ddb, backup, iam = clients("dynamodb"), clients("backup"), clients("iam")
    table = f"faults-{unique}"
    arn = create_table(ddb, table)
    put(ddb, table, "a", 1)
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    role = create_role(iam, f"role-{unique}")
    return table, completed_backup(backup, vault, arn, role), role


@pytest.fixture
def restorable(embedded: EmbeddedTarget, unique: str) -> dict[str, Any]:
    table, rp, role = _recovery_point(embedded.client, unique)
    return {"table": table, "rp": rp, "role": role, "backup": embedded.client("backup")}


def test_restore_job_fails_fault_ends_job_failed_without_table(
    embedded: EmbeddedTarget, restorable: dict[str, Any]
) -> None:
    assert embedded.control is not None
    embedded.control.set_fault("restore_job_fails", message="KMS key disabled (drill)")
    backup = restorable["backup"]
    target = f"{restorable['table']}-failed"
    job_id = backup.start_restore_job(
        RecoveryPointArn=restorable["rp"], Metadata={"targetTableName": target}, IamRoleArn=restorable["role"]
    )["RestoreJobId"]
    job = finished_restore(backup, job_id)
    assert job["Status"] == "FAILED"
    assert job["StatusMessage"] == "KMS key disabled (drill)"
    assert "CreatedResourceArn" not in job
    assert target not in embedded.client("dynamodb").list_tables()["TableNames"]


def test_start_restore_denied_fault_raises_access_denied(embedded: EmbeddedTarget, restorable: dict[str, Any]) -> None:
    assert embedded.control is not None
    embedded.control.set_fault("start_restore_denied", count=1, message="not allowed (drill)")
    backup = restorable["backup"]
    args = {
        "RecoveryPointArn": restorable["rp"],
        "Metadata": {"targetTableName": f"{restorable['table']}-denied"},
        "IamRoleArn": restorable["role"],
    }
    with pytest.raises(ClientError) as err:
        backup.start_restore_job(**args)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert err.value.response["Error"]["Message"] == "not allowed (drill)"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert backup.start_restore_job(**args)["RestoreJobId"]  # count=1: the next call goes through


def test_restore_job_duration_fault_keeps_job_running_with_percent_rising(
    embedded: EmbeddedTarget, restorable: dict[str, Any]
) -> None:
    assert embedded.control is not None
    embedded.control.set_fault("restore_job_duration", seconds=0.8)
    backup, ddb = restorable["backup"], embedded.client("dynamodb")
    target = f"{restorable['table']}-slow"
    job_id = backup.start_restore_job(
        RecoveryPointArn=restorable["rp"], Metadata={"targetTableName": target}, IamRoleArn=restorable["role"]
    )["RestoreJobId"]
    first = wait_for(lambda: restore_job(backup, job_id), lambda j: j["Status"] == "RUNNING")
    assert table_status(ddb, target) == "CREATING"
    second = wait_for(
        lambda: restore_job(backup, job_id),
        lambda j: float(j["PercentDone"].rstrip("%")) > float(first["PercentDone"].rstrip("%")),
    )
    assert second["Status"] == "RUNNING" and "CompletionDate" not in second
    done = finished_restore(backup, job_id)
    assert done["Status"] == "COMPLETED"
    assert (done["CompletionDate"] - done["CreationDate"]).total_seconds() == pytest.approx(0.8, abs=0.01)
    assert table_status(ddb, target) == "ACTIVE"


def test_at_most_50_restores_in_flight_per_account(embedded: EmbeddedTarget, unique: str) -> None:
    """Runs in an account of its own so its in-flight jobs slow no other test: as that account's root (credentials
    the target did not issue act as root; moto's ``x-moto-account-id`` header picks the account), since a session
    of a role that does not exist is, as on AWS, allowed nothing."""
    assert embedded.control is not None
    account = f"{random.randrange(10**11, 10**12)}"
    session: Any = boto3.Session(
        aws_access_key_id="drdrill-limit-test", aws_secret_access_key="unused", region_name=embedded.region
    )

    def _to_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    def clients(service: str, config: Config = RETRY_CONFIG) -> Any:
        client = session.client(service, endpoint_url=embedded.endpoint_url, config=config)
        client.meta.events.register("before-sign", _to_account)
        return client

    assert clients("sts").get_caller_identity()["Account"] == account
    table, rp, role = _recovery_point(clients, unique)
    backup = clients("backup")
    embedded.control.set_fault("restore_job_duration", seconds=30)
    embedded.control.set_fault("restore_job_fails", message="held in flight by the limit test")  # no tables made
    for n in range(50):
        backup.start_restore_job(RecoveryPointArn=rp, Metadata={"targetTableName": f"{table}-{n}"}, IamRoleArn=role)
    # botocore's standard mode counts LimitExceededException as throttling and would retry it: ask once
    once = clients("backup", Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        once.start_restore_job(RecoveryPointArn=rp, Metadata={"targetTableName": f"{table}-50"}, IamRoleArn=role)
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    in_flight = (
        backup.list_restore_jobs(ByStatus="RUNNING")["RestoreJobs"]
        + backup.list_restore_jobs(ByStatus="PENDING")["RestoreJobs"]
    )
    assert len(in_flight) == 50
    # point-in-time restores share the quota (DynamoDB counts both kinds of restore)
    pitr_table = f"{table}-pitr"
    create_table(clients("dynamodb"), pitr_table)
    clients("dynamodb").update_continuous_backups(
        TableName=pitr_table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    once_ddb = clients("dynamodb", Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        once_ddb.restore_table_to_point_in_time(
            SourceTableName=pitr_table, TargetTableName=f"{pitr_table}-x", UseLatestRestorableTime=True
        )
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    assert f"{pitr_table}-x" not in clients("dynamodb").list_tables()["TableNames"]
    # the default account is not affected
    default = embedded.client("backup")
    assert len(default.list_restore_jobs(ByStatus="RUNNING")["RestoreJobs"]) < 50


@pytest.mark.parametrize(
    ("operation", "count"),
    [("DescribeTable", 2), ("DescribeRestoreJob", 1), ("StartRestoreJob", 1)],  # few: botocore backs off
)
def test_throttle_fault_is_retried_transparently_and_counted(
    embedded: EmbeddedTarget, restorable: dict[str, Any], operation: str, count: int
) -> None:
    assert embedded.control is not None
    backup = restorable["backup"]
    job_id = backup.start_restore_job(
        RecoveryPointArn=restorable["rp"],
        Metadata={"targetTableName": f"{restorable['table']}-t"},
        IamRoleArn=restorable["role"],
    )["RestoreJobId"]
    embedded.control.set_fault("throttle", count=count, operation=operation)
    calls = {
        "DescribeTable": lambda: embedded.client("dynamodb").describe_table(TableName=restorable["table"]),
        "DescribeRestoreJob": lambda: backup.describe_restore_job(RestoreJobId=job_id),
        "StartRestoreJob": lambda: backup.start_restore_job(
            RecoveryPointArn=restorable["rp"],
            Metadata={"targetTableName": f"{restorable['table']}-t2"},
            IamRoleArn=restorable["role"],
        ),
    }
    response = calls[operation]()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RetryAttempts"] == count
    info = embedded.control.info()
    assert info is not None
    assert info["throttled"] == {operation: count}
    assert "throttle" not in info["faults"]  # both activations used up


def test_throttle_fault_seen_as_throttling_exception_without_retries(embedded: EmbeddedTarget, unique: str) -> None:
    assert embedded.control is not None
    table = f"throttle-{unique}"
    create_table(embedded.client("dynamodb"), table)
    embedded.control.set_fault("throttle", count=1, operation="DescribeTable")
    no_retries = embedded.clients.session.client(
        "dynamodb",
        endpoint_url=embedded.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as err:
        no_retries.describe_table(TableName=table)
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert no_retries.describe_table(TableName=table)["Table"]["TableName"] == table


# -- switches scoped to a stack's name prefix: parallel drills sharing one endpoint ---------------------------


def _no_retries(embedded: EmbeddedTarget, service: str) -> Any:
    session: Any = embedded.clients.session
    return session.client(
        service,
        endpoint_url=embedded.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def two_stacks(embedded: EmbeddedTarget) -> list[dict[str, Any]]:
    """Two stacks of one run, numbered 1 and 10 (so the first prefix is a string prefix of the second's),
    each with a table, a completed recovery point and a restore role, named the way drills name them."""
    run_id = new_run_id()
    stacks = []
    for stack_no in (1, 10):
        names = StackNames(run_id, stack_no, "orders")
        ddb, backup, iam = embedded.client("dynamodb"), embedded.client("backup"), embedded.client("iam")
        arn = create_table(ddb, names.table)
        put(ddb, names.table, "a", 1)
        backup.create_backup_vault(BackupVaultName=names.vault)
        role = create_role(iam, names.backup_role)
        rp = completed_backup(backup, names.vault, arn, role)
        stacks.append({"names": names, "scope": names.prefix, "table": names.table, "rp": rp, "role": role})
    assert stacks[1]["scope"].startswith(stacks[0]["scope"])
    return stacks


def _start_restore(backup: Any, stack: dict[str, Any], suffix: str) -> str:
    return str(
        backup.start_restore_job(
            RecoveryPointArn=stack["rp"],
            Metadata={"targetTableName": f"{stack['table']}-restored-{suffix}"},
            IamRoleArn=stack["role"],
        )["RestoreJobId"]
    )


def test_scoped_restore_job_fails_fails_only_that_stacks_restore(
    embedded: EmbeddedTarget, two_stacks: list[dict[str, Any]]
) -> None:
    assert embedded.control is not None
    first, second = two_stacks
    embedded.control.set_fault("restore_job_fails", scope=first["scope"], message="first stack only")
    backup = embedded.client("backup")
    other = finished_restore(backup, _start_restore(backup, second, "a"))
    assert other["Status"] == "COMPLETED"  # stack 10's names contain "...-1" but not as a whole token
    own = finished_restore(backup, _start_restore(backup, first, "a"))
    assert own["Status"] == "FAILED"
    assert own["StatusMessage"] == "first stack only"
    info = embedded.control.info()
    assert info is not None
    assert info["faults"][f"restore_job_fails@{first['scope']}"]["scope"] == first["scope"]
    assert "restore_job_fails" not in info["faults"]  # no unscoped switch was set


def test_scoped_start_restore_denied_and_duration_apply_to_their_stack_only(
    embedded: EmbeddedTarget, two_stacks: list[dict[str, Any]]
) -> None:
    assert embedded.control is not None
    first, second = two_stacks
    embedded.control.set_fault("start_restore_denied", scope=first["scope"], message="denied (first)")
    embedded.control.set_fault("restore_job_duration", scope=second["scope"], seconds=30)
    backup = embedded.client("backup")
    with pytest.raises(ClientError) as err:
        _start_restore(backup, first, "d")
    assert err.value.response["Error"]["Message"] == "denied (first)"
    slow = _start_restore(backup, second, "d")
    assert restore_job(backup, slow)["Status"] in ("PENDING", "RUNNING")
    embedded.control.reset_faults(scope=first["scope"])
    assert finished_restore(backup, _start_restore(backup, first, "e"))["Status"] == "COMPLETED"


@pytest.mark.parametrize("operation", ["DescribeTable", "DescribeRestoreJob", "StartRestoreJob"])
def test_scoped_throttle_throttles_only_that_stacks_requests(
    embedded: EmbeddedTarget, two_stacks: list[dict[str, Any]], operation: str
) -> None:
    assert embedded.control is not None
    first, second = two_stacks
    backup = embedded.client("backup")
    jobs = [_start_restore(backup, stack, "t") for stack in two_stacks]
    embedded.control.set_fault("throttle", count=1, scope=first["scope"], operation=operation)
    ddb, once = _no_retries(embedded, "dynamodb"), _no_retries(embedded, "backup")
    calls: dict[str, Callable[[int], Any]] = {
        "DescribeTable": lambda n: ddb.describe_table(TableName=two_stacks[n]["table"]),
        "DescribeRestoreJob": lambda n: once.describe_restore_job(RestoreJobId=jobs[n]),  # table from the job
        "StartRestoreJob": lambda n: _start_restore(once, two_stacks[n], "t2"),
    }
    calls[operation](1)  # the other stack's request is not throttled, and uses no activation
    calls[operation](1)
    with pytest.raises(ClientError) as err:
        calls[operation](0)
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    assert embedded.control.info(scope=first["scope"])["throttled"] == {operation: 1}  # type: ignore[index]
    assert embedded.control.info(scope=second["scope"])["throttled"] == {}  # type: ignore[index]
    # what a scenario's record_throttles reads: the counts of the scope its client set
    assert embedded.control.info()["throttled"] == {operation: 1}  # type: ignore[index]


def test_resetting_one_scope_leaves_the_others_switches_and_counts(
    embedded: EmbeddedTarget, two_stacks: list[dict[str, Any]]
) -> None:
    control = embedded.control
    assert control is not None
    first, second = two_stacks
    for stack in two_stacks:
        control.set_fault("restore_job_fails", scope=stack["scope"], message=f"fails {stack['scope']}")
        control.set_fault("throttle", scope=stack["scope"], operation="DescribeTable")
    ddb = _no_retries(embedded, "dynamodb")
    for stack in two_stacks:
        with pytest.raises(ClientError):
            ddb.describe_table(TableName=stack["table"])
    assert control.info()["throttled_by_scope"] == {  # type: ignore[index]
        first["scope"]: {"DescribeTable": 1},
        second["scope"]: {"DescribeTable": 1},
    }
    control.reset_faults(scope=first["scope"])
    assert control.fault_scopes() == (second["scope"],)
    info = control.info(scope=first["scope"])
    assert info is not None
    assert info["throttled"] == {}
    assert info["throttled_by_scope"] == {second["scope"]: {"DescribeTable": 1}}
    assert sorted(info["faults"]) == [f"restore_job_fails@{second['scope']}", f"throttle@{second['scope']}"]
    backup = embedded.client("backup")
    assert finished_restore(backup, _start_restore(backup, first, "r"))["Status"] == "COMPLETED"
    assert ddb.describe_table(TableName=first["table"])["Table"]["TableName"] == first["table"]
    failed = finished_restore(backup, _start_restore(backup, second, "r"))
    assert (failed["Status"], failed["StatusMessage"]) == ("FAILED", f"fails {second['scope']}")
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=second["table"])


def test_scoped_and_unscoped_switches_coexist_and_unknown_resources_take_only_unscoped(
    embedded: EmbeddedTarget, two_stacks: list[dict[str, Any]]
) -> None:
    control = embedded.control
    assert control is not None
    first, second = two_stacks
    control.set_fault("throttle", count=1, scope=first["scope"], operation="ListTables")
    ddb = _no_retries(embedded, "dynamodb")
    assert isinstance(ddb.list_tables()["TableNames"], list)  # names no table: the scoped switch stays unused
    control.set_fault("throttle", count=1, operation="DescribeTable")  # unscoped: any table
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=second["table"])
    info = control.info(scope=first["scope"])
    assert info is not None
    assert set(info["faults"]) == {f"throttle@{first['scope']}"}  # the unscoped one was used up
    assert control.fault_scopes() == (first["scope"], None)
    control.reset_faults()  # no scope: everything, as before scopes existed
    assert control.info()["faults"] == {}  # type: ignore[index]
    assert control.fault_scopes() == ()


def test_plugin_resets_only_the_scenarios_own_scope(embedded: EmbeddedTarget, two_stacks: list[dict[str, Any]]) -> None:
    """After a scenario on stack 1, a parallel scenario's switches on stack 10 stay on."""
    control = embedded.control
    assert control is not None
    first, second = two_stacks
    assert embedded.endpoint_url is not None
    parallel_worker = ControlClient(embedded.endpoint_url)  # another process's client, same endpoint
    parallel_worker.set_fault("restore_job_fails", scope=second["scope"], message="the other drill's")
    control.set_fault("restore_job_fails", scope=first["scope"], message="this drill's")
    settings = control.info()["settings"]  # type: ignore[index]
    control.update_settings(pitr_lag_seconds=7)
    # a drill torn down without its switches scope (an interrupted run): the teardown's own fallback
    drill = cast(Drill, SimpleNamespace(stack=SimpleNamespace(names=first["names"]), target=embedded))
    close_scenario_switches(drill)
    assert set(control.info()["faults"]) == {f"restore_job_fails@{second['scope']}"}  # type: ignore[index]
    assert control.info()["settings"] == settings  # type: ignore[index]  # and the run's settings are back
    # a scenario that set an unscoped switch resets everything (its switch steered every drill anyway)
    control.set_fault("start_restore_denied", message="unscoped")
    close_scenario_switches(drill)
    assert control.info()["faults"] == {}  # type: ignore[index]


def test_fault_switch_scope_matches_whole_tokens_and_prefers_the_scoped_switch() -> None:
    switches = FaultSwitches()
    switches.set("restore_job_fails", scope="drdrill-r-1", message="scoped")
    switches.set("restore_job_fails", message="unscoped")
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/drdrill-r-1-orders"
    assert switches.take("restore_job_fails", resource=(None, arn)) == {"message": "scoped"}
    assert switches.take("restore_job_fails", resource="drdrill-r-10-orders") == {"message": "unscoped"}
    assert switches.take("restore_job_fails", resource="xdrdrill-r-1-orders") == {"message": "unscoped"}
    assert switches.take("restore_job_fails") == {"message": "unscoped"}
    switches.reset("drdrill-r-1")
    assert switches.take("restore_job_fails", resource=arn) == {"message": "unscoped"}
    switches.reset()
    assert switches.take("restore_job_fails", resource=arn) is None
    with pytest.raises(ValueError, match="scope"):
        switches.set("throttle", scope=" ", operation="DescribeTable")


def test_a_control_scope_undoes_its_own_switches_and_the_settings_even_when_the_block_raises(
    embedded: EmbeddedTarget,
) -> None:
    """What a drill or test sets through its client is off after its scope, the settings back to what they were;
    a switch another client (a parallel drill) set for its own scope stays on."""
    control = embedded.control
    assert control is not None and embedded.endpoint_url is not None
    other = ControlClient(embedded.endpoint_url)
    other.set_fault("restore_job_fails", scope="drdrill-other-3", message="the other drill's")
    control.update_settings(mapping_transition_seconds=2)
    with pytest.raises(RuntimeError, match="boom"), control.switches_scope("drdrill-mine-2"):
        control.set_fault("restore_job_duration", scope="drdrill-mine-1", seconds=5)
        control.set_fault("throttle", count=3, scope="drdrill-mine-2", operation="DescribeTable")
        control.update_settings(latency_profile="aws-scaled", mapping_transition_seconds=9)
        raise RuntimeError("boom")
    info = control.info()
    assert info is not None
    assert set(info["faults"]) == {"restore_job_fails@drdrill-other-3"}
    assert (info["settings"]["latency_profile"], info["settings"]["mapping_transition_seconds"]) == ("instant", 2)
    assert control.fault_scopes() == ()
    with control.switches_scope():  # an unscoped switch steered every drill: its scope turns every switch off
        control.set_fault("start_restore_denied", message="unscoped")
    assert control.info()["faults"] == {}  # type: ignore[index]
