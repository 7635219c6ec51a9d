"""``drdrill janitor``: find, then delete, what interrupted runs left behind - by tag, never by guess.

A drill killed with SIGKILL (or a CI runner that vanished) cannot run its own teardown, and the leftovers
keep billing: PITR, backup storage, a table. Every taggable resource a run creates carries
``drdrill:managed=true`` and ``drdrill:run-id``, and the run id starts with the run's UTC start time, so a
leftover's age is known from its tags alone. The janitor only ever considers a resource whose tags say
``drdrill:managed=true`` *and* carry a run id drdrill made that is older than the threshold; untagged
resources, resources with another ``drdrill:managed`` value and resources of runs that may still be going
are never touched.

Deletion goes in dependency order (event rules, functions, backup plans, vaults, tables, log groups, roles)
and removes what blocks each deletion first (rule targets, event source mappings, backup selections,
recovery points, role policies). Failures are captured :class:`~dr_infra.stack.cleanup.Cleanups`-style: one
failed deletion is reported and the rest still run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from dr_infra.errors import ConfigError
from dr_infra.stack import protect
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID, run_started_at
from dr_infra.stack.restored import restored_source_run
from dr_infra.stack.table_delete import delete_table_when_settled
from dr_infra.targets.base import Target
from dr_infra.targets.client_types import ClientSource

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

DURATION = re.compile(r"(\d+)\s*([smhdw])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

RESTORED_TABLE = re.compile(r"^drdrill-(?P<run>\d{8}t\d{6}-[0-9a-f]{4})-\d+-[A-Za-z0-9_.-]{1,24}-restored-.+$")
"""A table restored from a drdrill table (``<table>-restored-<incident>``, untagged): the only untagged
kind the janitor sweeps."""

KINDS = (
    "eventbridge rule",
    "lambda function",
    "backup plan",
    "backup vault",
    "dynamodb table",
    "log group",
    "iam role",
)
"""Every kind the janitor sweeps, in deletion order: whatever references something comes before it."""


def parse_older_than(text: str) -> timedelta:
    """``30m``, ``2h``, ``1d``, ``1h30m``, ``90s``, ``1w`` -> a timedelta; anything else is a usage error."""
    cleaned = text.strip().lower()
    if not cleaned or DURATION.sub("", cleaned).strip():
        raise ConfigError(
            f"--older-than {text!r} is not a duration: use a number and a unit (s, m, h, d, w), e.g. 30m, 2h, 1d"
        )
    return timedelta(seconds=sum(int(n) * UNIT_SECONDS[unit] for n, unit in DURATION.findall(cleaned)))


@dataclass(frozen=True)
class Leftover:
    """A resource the janitor may delete: tagged ``drdrill:managed=true``, its run older than the cutoff."""

    kind: str
    name: str
    run_id: str
    started_at: datetime
    arn: str = ""
    ref: str = ""
    """What the delete call needs when it is not the name (a backup plan's id)."""

    def describe(self) -> str:
        return f"{self.kind} {self.name} (run {self.run_id})"


@dataclass
class JanitorResult:
    """What one sweep found, left alone, deleted and failed to delete or to list."""

    older_than: timedelta
    found: list[Leftover] = field(default_factory=list)
    kept_recent: list[str] = field(default_factory=list)
    """Tagged resources of runs newer than the threshold (possibly still running)."""
    kept_unknown_run: list[str] = field(default_factory=list)
    """Tagged ``drdrill:managed=true`` but with a run id drdrill did not make: age unknown, so kept."""
    listing_failed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything that could be listed was listed and everything found that was to be deleted is gone."""
        return not self.listing_failed and not self.failed


def _is_ours(tags: dict[str, str]) -> bool:
    return tags.get(TAG_MANAGED) == "true" and bool(tags.get(TAG_RUN_ID))


def _tag_dict(tags: Any) -> dict[str, str]:
    """Tags come as ``{k: v}`` (Lambda, Backup, Logs) or ``[{Key, Value}]`` (DynamoDB, IAM, EventBridge)."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or []}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under ``key`` across pages, with botocore's paginator where it has one."""
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
        return
    yield from getattr(client, operation)(**kwargs).get(key, [])


def _all_pages(client: Any, operation: str, key: str, kwargs: dict[str, Any]) -> list[Any]:
    return list(_pages(client, operation, key, **kwargs))


def _one_call(client: Any, operation: str, key: str, kwargs: dict[str, Any]) -> Any:
    return getattr(client, operation)(**kwargs).get(key) or {}


class _Sweeper:
    """One pass over the target: list every kind, then (optionally) delete in dependency order."""

    def __init__(self, target: Target, older_than: timedelta, now: datetime) -> None:
        self.t = target
        self.cutoff = now - older_than
        self.result = JanitorResult(older_than)

    @property
    def c(self) -> ClientSource:
        return self.t.client

    # -- selection -------------------------------------------------------------------------------------------
    def consider(self, kind: str, name: str, tags: dict[str, str], arn: str = "", ref: str = "") -> None:
        """Keep the resource as a leftover only if it is ours and its run is older than the cutoff."""
        if not _is_ours(tags):
            return
        run_id = tags[TAG_RUN_ID]
        started = run_started_at(run_id)
        if started is None:
            self.result.kept_unknown_run.append(f"{kind} {name} (run id {run_id!r})")
        elif started > self.cutoff:
            self.result.kept_recent.append(f"{kind} {name} (run {run_id})")
        else:
            self.result.found.append(Leftover(kind, name, run_id, started, arn, ref))

    def list_all(self) -> None:
        listers: dict[str, Callable[[], None]] = {
            "eventbridge rule": self.rules,
            "lambda function": self.functions,
            "backup plan": self.plans,
            "backup vault": self.vaults,
            "dynamodb table": self.tables,
            "log group": self.log_groups,
            "iam role": self.roles,
        }
        for kind in KINDS:
            try:
                listers[kind]()
            except (ClientError, BotoCoreError) as exc:
                detail = f"{_code(exc)}: {exc}" if isinstance(exc, ClientError) else str(exc)
                self.result.listing_failed.append(f"could not list {kind}s: {detail}")

    def _tags_or_none(self, fetch: Callable[..., Any], *args: Any) -> dict[str, str] | None:
        """A resource deleted between list and tag lookup is simply not a leftover any more."""
        try:
            return _tag_dict(fetch(*args))
        except ClientError as exc:
            if _code(exc) in {"ResourceNotFoundException", "NoSuchEntity", "NotFoundException"}:
                return None
            raise

    def tables(self) -> None:
        ddb = self.c("dynamodb")
        partition = ddb.meta.partition
        for name in _pages(ddb, "list_tables", "TableNames"):
            arn = f"arn:{partition}:dynamodb:{self.t.region}:{self.t.account_id}:table/{name}"
            tags = self._tags_or_none(_all_pages, ddb, "list_tags_of_resource", "Tags", {"ResourceArn": arn})
            if tags is not None:
                restored = RESTORED_TABLE.match(name)
                if restored and TAG_MANAGED not in tags:
                    # AWS copies no tags to a restored table; its name is the tagged source table's plus
                    # "-restored-...", so the run id in it is the source's (a restore still in flight when
                    # a run was killed creates it after the run's own teardown could look for it).
                    tags = {TAG_MANAGED: "true", TAG_RUN_ID: restored.group("run")}
                elif TAG_MANAGED not in tags:
                    # A user's monitor names its restores as it likes: the proof is RestoreSummary.SourceTableArn
                    # naming a drill's table (drdrill-<run id>-<stack>-<table>), whose run id it takes.
                    run = restored_source_run(ddb, name)
                    if run is not None:
                        tags = {TAG_MANAGED: "true", TAG_RUN_ID: run}
                self.consider("dynamodb table", name, tags, arn)

    def roles(self) -> None:
        iam = self.c("iam")
        for role in _pages(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            if role.get("Path", "/").startswith("/aws-service-role/"):
                continue  # service-linked roles belong to AWS; they are never drdrill's
            tags = self._tags_or_none(_all_pages, iam, "list_role_tags", "Tags", {"RoleName": name})
            if tags is not None:
                self.consider("iam role", name, tags, role.get("Arn", ""))

    def functions(self) -> None:
        lam = self.c("lambda")
        for function in _pages(lam, "list_functions", "Functions"):
            arn = function["FunctionArn"]
            tags = self._tags_or_none(_one_call, lam, "list_tags", "Tags", {"Resource": arn})
            if tags is not None:
                self.consider("lambda function", function["FunctionName"], tags, arn)

    def plans(self) -> None:
        backup = self.c("backup")
        for plan in _pages(backup, "list_backup_plans", "BackupPlansList"):
            arn = plan["BackupPlanArn"]
            tags = self._tags_or_none(_one_call, backup, "list_tags", "Tags", {"ResourceArn": arn})
            if tags is not None:
                self.consider("backup plan", plan["BackupPlanName"], tags, arn, ref=plan["BackupPlanId"])

    def vaults(self) -> None:
        backup = self.c("backup")
        for vault in _pages(backup, "list_backup_vaults", "BackupVaultList"):
            arn = vault["BackupVaultArn"]
            tags = self._tags_or_none(_one_call, backup, "list_tags", "Tags", {"ResourceArn": arn})
            if tags is not None:
                self.consider("backup vault", vault["BackupVaultName"], tags, arn)

    def log_groups(self) -> None:
        logs = self.c("logs")
        for group in _pages(logs, "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
            tags = self._tags_or_none(self._log_group_tags, logs, arn, name)
            if tags is not None:
                self.consider("log group", name, tags, arn)

    @staticmethod
    def _log_group_tags(logs: CloudWatchLogsClient, arn: str, name: str) -> Any:
        """The current API first; the deprecated one where an endpoint does not serve it yet."""
        try:
            return logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        except ClientError as exc:
            if _code(exc) not in {"InvalidParameterException", "UnknownOperationException", "NotImplemented"}:
                raise
        return logs.list_tags_log_group(logGroupName=name).get("tags", {})

    def rules(self) -> None:
        events = self.c("events")
        for rule in _pages(events, "list_rules", "Rules"):
            if rule.get("ManagedBy"):
                continue  # rules managed by an AWS service cannot be deleted by us and are never drdrill's
            arn = rule["Arn"]
            tags = self._tags_or_none(_one_call, events, "list_tags_for_resource", "Tags", {"ResourceARN": arn})
            if tags is not None:
                self.consider("eventbridge rule", rule["Name"], tags, arn)

    # -- deletion --------------------------------------------------------------------------------------------
    def delete_all(self) -> None:
        cleanups = Cleanups()
        deleters: dict[str, Callable[[Leftover], None]] = {
            "eventbridge rule": self.delete_rule,
            "lambda function": self.delete_function,
            "backup plan": self.delete_plan,
            "backup vault": self.delete_vault,
            "dynamodb table": self.delete_table,
            "log group": self.delete_log_group,
            "iam role": self.delete_role,
        }
        ordered = sorted(self.result.found, key=lambda r: (KINDS.index(r.kind), r.name))
        for leftover in reversed(ordered):  # Cleanups runs newest first, so register in reverse order
            cleanups.add(f"delete {leftover.describe()}", partial(deleters[leftover.kind], leftover))
        cleanups.run()
        self.result.deleted = list(cleanups.done)
        self.result.failed = list(cleanups.failed)

    def delete_rule(self, r: Leftover) -> None:
        events = self.c("events")
        ids = [t["Id"] for t in _pages(events, "list_targets_by_rule", "Targets", Rule=r.name)]
        if ids:
            events.remove_targets(Rule=r.name, Ids=ids)
        events.delete_rule(Name=r.name)

    def delete_function(self, r: Leftover) -> None:
        lam = self.c("lambda")
        seen: set[str] = set()
        for function in filter(None, (r.name, r.arn)):  # re-protection maps restored streams by ARN
            mappings = _pages(lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=function)
            for mapping in mappings:
                if mapping["UUID"] not in seen:
                    seen.add(mapping["UUID"])
                    protect.delete_mapping(lam, mapping["UUID"], max_interval=self.t.max_poll_interval)  # waits it out
        lam.delete_function(FunctionName=r.name)

    def delete_plan(self, r: Leftover) -> None:
        backup = self.c("backup")
        for selection in _pages(backup, "list_backup_selections", "BackupSelectionsList", BackupPlanId=r.ref):
            backup.delete_backup_selection(BackupPlanId=r.ref, SelectionId=selection["SelectionId"])
        backup.delete_backup_plan(BackupPlanId=r.ref)

    def delete_vault(self, r: Leftover) -> None:
        backup = self.c("backup")
        for point in _pages(backup, "list_recovery_points_by_backup_vault", "RecoveryPoints", BackupVaultName=r.name):
            if point.get("Status") != "DELETED":
                backup.delete_recovery_point(BackupVaultName=r.name, RecoveryPointArn=point["RecoveryPointArn"])
        _retry_vault_not_empty(backup.delete_backup_vault)(BackupVaultName=r.name)

    def delete_table(self, r: Leftover) -> None:
        delete_table_when_settled(self.c("dynamodb"), r.name)

    def delete_log_group(self, r: Leftover) -> None:
        self.c("logs").delete_log_group(logGroupName=r.name)

    def delete_role(self, r: Leftover) -> None:
        iam = self.c("iam")
        for policy in _pages(iam, "list_role_policies", "PolicyNames", RoleName=r.name):
            iam.delete_role_policy(RoleName=r.name, PolicyName=policy)
        for attached in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=r.name):
            iam.detach_role_policy(RoleName=r.name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=r.name)


def _vault_not_empty(exc: BaseException) -> bool:
    """Recovery point deletion is asynchronous on AWS: the vault refuses deletion until it is empty."""
    return isinstance(exc, ClientError) and _code(exc) in {
        "InvalidRequestException",
        "InvalidResourceStateException",
    }


_retry_vault_not_empty = retry(
    retry=retry_if_exception(_vault_not_empty),
    wait=wait_exponential(multiplier=0.5, max=10),
    stop=stop_after_delay(60),
    reraise=True,
)


def sweep(target: Target, older_than: timedelta, delete: bool, now: datetime | None = None) -> JanitorResult:
    """List (and with ``delete``, remove) a started target's drdrill leftovers older than ``older_than``."""
    sweeper = _Sweeper(target, older_than, now or datetime.now(UTC))
    sweeper.list_all()
    if delete:
        sweeper.delete_all()
    return sweeper.result
