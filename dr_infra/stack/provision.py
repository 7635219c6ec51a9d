"""Provision the seed's whole DR stack with boto3, and tear it down in reverse, whatever happened.

Resources (every name prefixed with the run id, every taggable one tagged ``drdrill:run-id`` and
``drdrill:managed=true``): the table (PITR on; its NEW_AND_OLD_IMAGES stream is enabled by
:func:`attach_monitor`, after seeding, see :mod:`dr_infra.stack.protect`), the incident ledger table, an
AWS Backup vault, a plan (one rule: every 12 hours, 35-day retention, continuous backup on), a selection
covering the table (and, by wildcard, tables restored from it), a backup role, the change monitor's role,
the change monitor and re-protection functions with their log groups, the stream's event source mapping,
and an EventBridge rule for AWS Backup restore completions.

Teardown runs from :class:`~dr_infra.stack.cleanup.Cleanups`: newest first, each failure recorded, the rest still
run - also when a scenario fails midway.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from dr_infra.interrupts import shielded
from dr_infra.stack import function_ready, iam_policies, protect, restored, safety, user_stack
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.handles import MONITOR_HANDLER as MONITOR_HANDLER
from dr_infra.stack.handles import REPROTECT_HANDLER as REPROTECT_HANDLER
from dr_infra.stack.handles import RUNTIME as RUNTIME
from dr_infra.stack.handles import Stack as Stack
from dr_infra.stack.handles import placeholder_values as placeholder_values
from dr_infra.stack.names import StackNames
from dr_infra.stack.packaging import build_package
from dr_infra.stack.spec import StackSpec
from dr_infra.stack.table_delete import delete_system_backups, delete_table_when_settled
from dr_infra.targets.base import Target
from dr_infra.targets.client_types import ClientSource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _role_not_ready(exc: BaseException) -> bool:
    """IAM is eventually consistent: a new role can be refused by Lambda for a few seconds."""
    return (
        isinstance(exc, ClientError)
        and exc.response.get("Error", {}).get("Code") == "InvalidParameterValueException"
        and "role" in exc.response.get("Error", {}).get("Message", "").lower()
    )


_retry_new_role = retry(
    retry=retry_if_exception(_role_not_ready),
    wait=wait_exponential(multiplier=0.5, max=5),
    stop=stop_after_delay(60),
    reraise=True,
)


def provision(target: Target, names: StackNames, spec: StackSpec, cleanups: Cleanups | None = None) -> Stack:
    """Create the stack; on any failure, what was created so far stays registered for teardown."""
    stack = Stack(names, spec, target.region, target.account_id, cleanups if cleanups is not None else Cleanups())
    with shielded("provisioning the stack"):  # a Ctrl-C waits until every create has its delete registered
        _Provisioner(target, stack).run()
    return stack


def attach_monitor(target: Target, stack: Stack) -> str:
    """Arm the change monitor, the last step of protecting a table: stream on, mapping at TRIM_HORIZON, Enabled.

    Separate from :func:`provision` so a drill can seed data first: every seed write is an INSERT, and a
    monitor that reacts to INSERT would otherwise treat the seeding itself as an incident. The stream is
    enabled only now, so it holds no seed write, and the mapping reads it from TRIM_HORIZON, so it cannot miss
    the harmful change however late AWS starts polling (a LATEST mapping could: :mod:`dr_infra.stack.protect`).
    Returns once the mapping is ``Enabled``.
    """
    spec = stack.spec
    pace = target.max_poll_interval
    stack.stream_arn = protect.enable_stream(
        target.client("dynamodb"), target.client("dynamodbstreams"), stack.names.table, max_interval=pace
    )
    user_stack.refill_stream_arn(target, stack)  # {stream_arn} in a user's monitor has a value only now
    lam = target.client("lambda")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stack.stream_arn,
        FunctionName=stack.names.monitor_function,
        StartingPosition=protect.STARTING_POSITION,
        BatchSize=spec.esm_batch_size,
        MaximumBatchingWindowInSeconds=0,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=spec.esm_max_retry_attempts,
        MaximumRecordAgeInSeconds=spec.esm_max_record_age_s,
        BisectBatchOnFunctionError=True,
        Enabled=True,
        Tags=stack.names.tags(),
    )
    stack.mapping_uuid = mapping["UUID"]
    stack.created.append(f"event source mapping {stack.mapping_uuid}")
    protect.wait_mapping_state(lam, stack.mapping_uuid, "Enabled", max_interval=pace)
    return stack.mapping_uuid


def teardown(stack: Stack) -> list[str]:
    """Delete everything the stack created, newest first; returns the failures (empty when clean)."""
    return stack.cleanups.run()


class _Provisioner:
    """One pass of create calls, registering the matching delete right after each create."""

    def __init__(self, target: Target, stack: Stack) -> None:
        self.t = target
        self.s = stack
        self.n = stack.names

    @property
    def c(self) -> ClientSource:
        return self.t.client

    def run(self) -> None:
        self.roles()
        self.tables()
        self.backup()
        self.functions()

    # -- IAM -------------------------------------------------------------------------------------------------
    def _role(self, name: str, service: str, policy: dict[str, Any]) -> str:
        iam = self.c("iam")
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(iam_policies.trust_policy(service)),
            Description="drdrill DR drill role",
            Tags=self.s.tag_list(),
        )["Role"]["Arn"]
        self.s.cleanups.add(f"delete role {name}", lambda: safety.delete_role(iam, name, self.n.run_id))
        iam.put_role_policy(RoleName=name, PolicyName="drdrill", PolicyDocument=json.dumps(policy))
        self.s.cleanups.add(
            f"delete policy of role {name}",
            lambda: iam.delete_role_policy(RoleName=name, PolicyName="drdrill"),
        )
        self.s.created.append(f"iam role {name}")
        return str(arn)

    def roles(self) -> None:
        region, account = self.s.region, self.s.account_id
        self.s.backup_role_arn = self._role(
            self.n.backup_role,
            iam_policies.BACKUP_SERVICE,
            iam_policies.backup_role_policy(self.n, region, account, self.s.spec.user_monitor),
        )
        self.s.monitor_role_arn = self._role(
            self.n.monitor_role,
            iam_policies.LAMBDA_SERVICE,
            iam_policies.monitor_role_policy(self.n, region, account),
        )

    # -- DynamoDB --------------------------------------------------------------------------------------------
    def tables(self) -> None:
        ddb = self.c("dynamodb")
        # registered first so it runs last, once the tables are gone (deleting a PITR table leaves a SYSTEM backup)
        self.s.cleanups.add(
            f"delete the SYSTEM backups of {self.n.table}*", lambda: delete_system_backups(ddb, self.n.table)
        )
        self.s.cleanups.add(f"delete tables restored from {self.n.table}", self._delete_restored)
        table = ddb.create_table(
            TableName=self.n.table,
            **self.s.spec.table.create_table_arguments(),
            Tags=self.s.tag_list(),
        )["TableDescription"]
        self.s.cleanups.add(
            f"delete table {self.n.table}", lambda: safety.delete_table(ddb, table["TableArn"], self.n.run_id)
        )
        self.s.table_arn = table["TableArn"]
        self.s.created.append(f"dynamodb table {self.n.table}")
        ledger_arn = self._create_ledger(ddb)  # created now, so both tables leave CREATING together
        self._wait_active(ddb, self.n.table)
        ddb.update_continuous_backups(
            TableName=self.n.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        ttl = self.s.spec.table.ttl_attribute
        if ttl:
            ddb.update_time_to_live(
                TableName=self.n.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
            )
        if ledger_arn:
            self._wait_active(ddb, self.n.ledger_table)  # the monitor writes to it: only an ACTIVE table takes writes

    def _create_ledger(self, ddb: DynamoDBClient) -> str:
        """The incident ledger (drdrill's own monitor's only); its ARN, or "" when the user brings a monitor."""
        if self.s.spec.user_monitor:
            return ""
        ledger = ddb.create_table(
            TableName=self.n.ledger_table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=self.s.tag_list(),
        )
        arn = str(ledger["TableDescription"]["TableArn"])
        self.s.cleanups.add(f"delete table {self.n.ledger_table}", lambda: safety.delete_table(ddb, arn, self.n.run_id))
        self.s.created.append(f"dynamodb table {self.n.ledger_table}")
        return arn

    def _wait_active(self, ddb: DynamoDBClient, name: str) -> None:
        """CreateTable answers CREATING; reads and writes are refused until ACTIVE (boto3's table_exists waiter,
        polling at the target's pace for up to 2 minutes)."""
        delay = min(1.0, self.t.max_poll_interval)
        ddb.get_waiter("table_exists").wait(
            TableName=name,
            # the stubs say int (seconds); botocore sleeps the number as given, and the embedded target polls at 0.1 s
            WaiterConfig={"Delay": delay, "MaxAttempts": int(120 / delay)},  # type: ignore[typeddict-item]
        )

    def _delete_restored(self) -> None:
        """Restored tables carry no tags (AWS copies none): drdrill's monitor names them after the stack, a user's
        monitor as it likes, so they are found by RestoreSummary.SourceTableArn (the drill's own table)."""
        ddb = self.c("dynamodb")
        if not self.s.spec.user_monitor:
            prefix = self.n.table + "-restored-"
            for page in ddb.get_paginator("list_tables").paginate():
                for name in page["TableNames"]:
                    if name.startswith(prefix):
                        delete_table_when_settled(ddb, name)
            return
        if self.s.table_arn:
            for name in restored.tables_restored_from_closure(ddb, self.s.table_arn, frozenset({self.n.table})):
                restored.delete_restored(ddb, name)

    # -- AWS Backup ------------------------------------------------------------------------------------------
    def backup(self) -> None:
        backup = self.c("backup")
        tags = self.n.tags()
        self.s.vault_arn = backup.create_backup_vault(BackupVaultName=self.n.vault, BackupVaultTags=tags)[
            "BackupVaultArn"
        ]
        self.s.cleanups.add(
            f"delete backup vault {self.n.vault}",
            lambda: backup.delete_backup_vault(BackupVaultName=self.n.vault),
        )
        self.s.cleanups.add(f"delete recovery points in {self.n.vault}", self._empty_vault)
        plan = backup.create_backup_plan(BackupPlan=user_stack.plan_document(self.s), BackupPlanTags=tags)
        self.s.plan_id = plan["BackupPlanId"]
        self.s.cleanups.add(
            f"delete backup plan {self.n.plan}",
            lambda: backup.delete_backup_plan(BackupPlanId=self.s.plan_id),
        )
        if "backup_selections" not in self.t.capabilities:
            return  # e.g. plain moto: no selection API; scenarios that need one are skipped by capability
        selection = backup.create_backup_selection(
            BackupPlanId=self.s.plan_id, BackupSelection=user_stack.selection_document(self.s)
        )
        self.s.selection_id = selection["SelectionId"]
        self.s.cleanups.add(
            f"delete backup selection {self.n.selection}",
            lambda: backup.delete_backup_selection(BackupPlanId=self.s.plan_id, SelectionId=self.s.selection_id),
        )
        self.s.created += [
            f"backup vault {self.n.vault}",
            f"backup plan {self.n.plan}",
            f"backup selection {self.n.selection}",
        ]

    def _empty_vault(self) -> None:
        backup = self.c("backup")
        for page in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName=self.n.vault):
            for point in page.get("RecoveryPoints", []):
                backup.delete_recovery_point(BackupVaultName=self.n.vault, RecoveryPointArn=point["RecoveryPointArn"])

    # -- Lambda, logs, events --------------------------------------------------------------------------------
    def _log_group(self, function: str) -> None:
        logs = self.c("logs")
        group = self.n.log_group(function)
        logs.create_log_group(logGroupName=group, tags=self.n.tags())
        self.s.cleanups.add(f"delete log group {group}", lambda: logs.delete_log_group(logGroupName=group))
        logs.put_retention_policy(logGroupName=group, retentionInDays=self.s.spec.log_retention_days)
        self.s.created.append(f"log group {group}")

    def _function(self, name: str, handler: str, code: bytes) -> str:
        lam = self.c("lambda")
        self._log_group(name)
        create = _retry_new_role(lam.create_function)
        arn = create(
            FunctionName=name,
            Runtime=RUNTIME,
            Role=self.s.monitor_role_arn,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=self.s.spec.function_timeout_s,
            MemorySize=256,
            Environment={"Variables": self.s.monitor_environment()},
            Tags=self.n.tags(),
            Description="drdrill change monitor",
        )["FunctionArn"]
        self.s.cleanups.add(f"delete function {name}", lambda: safety.delete_function(lam, arn, self.n.run_id))
        self.s.created.append(f"lambda function {name}")
        return str(arn)

    def functions(self) -> None:
        if self.s.spec.user_monitor:
            self._log_group(self.n.monitor_function)
            self.s.monitor_function_arn = user_stack.create_user_monitor(self.t, self.s, _retry_new_role)
            self.s.cleanups.add(
                f"wait for restores the monitor started from {self.n.table}",
                lambda: user_stack.settle_restores(self.t, self.s),
            )
            self.s.cleanups.add(f"delete event source mappings of {self.n.monitor_function}", self._delete_mappings)
            function_ready.wait_active(self.c("lambda"), self.n.monitor_function, max_interval=self.t.max_poll_interval)
            return  # no re-protection function or rule: those are drdrill's own monitor's
        package = build_package()
        self.s.code_sha256 = package.sha256
        self.s.monitor_function_arn = self._function(self.n.monitor_function, MONITOR_HANDLER, package.data)
        self.s.reprotect_function_arn = self._function(self.n.reprotect_function, REPROTECT_HANDLER, package.data)
        self.s.cleanups.add(f"delete event source mappings of {self.n.monitor_function}", self._delete_mappings)
        self._restore_rule()
        # Both were created Pending; waiting once for both overlaps their start-up.
        function_ready.wait_active(
            self.c("lambda"), self.n.monitor_function, self.n.reprotect_function, max_interval=self.t.max_poll_interval
        )

    def _delete_mappings(self) -> None:
        """By name and by ARN: re-protection maps restored streams with the ARN, and moto lists by the exact
        FunctionName a mapping was created with."""
        lam = self.c("lambda")
        seen: set[str] = set()
        for function in (self.n.monitor_function, self.s.monitor_function_arn):
            if not function:
                continue
            for page in lam.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
                for mapping in page.get("EventSourceMappings", []):
                    if mapping["UUID"] not in seen:
                        seen.add(mapping["UUID"])
                        protect.delete_mapping(lam, mapping["UUID"], max_interval=self.t.max_poll_interval)

    def _restore_rule(self) -> None:
        """EventBridge: AWS Backup restore completions re-protect the restored table."""
        events = self.c("events")
        lam = self.c("lambda")
        rule = self.n.restore_rule
        events.put_rule(
            Name=rule,
            EventPattern=json.dumps(
                {
                    "source": ["aws.backup"],
                    "detail-type": ["Restore Job State Change"],
                    "detail": {"status": ["COMPLETED"]},
                }
            ),
            Tags=self.s.tag_list(),
        )
        self.s.cleanups.add(f"delete event rule {rule}", lambda: events.delete_rule(Name=rule))
        lam.add_permission(
            FunctionName=self.n.reprotect_function,
            StatementId="drdrill-restore-completed",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=f"arn:aws:events:{self.s.region}:{self.s.account_id}:rule/{rule}",
        )
        events.put_targets(Rule=rule, Targets=[{"Id": "reprotect", "Arn": self.s.reprotect_function_arn}])
        self.s.cleanups.add(
            f"remove targets of event rule {rule}",
            lambda: events.remove_targets(Rule=rule, Ids=["reprotect"]),
        )
        self.s.created.append(f"event rule {rule}")
