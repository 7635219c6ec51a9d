"""Find a deployed stack's parts from the account, read-only: the table, its stream, the monitor, the plan, the vault.

Every call here is a Describe/List/Get: nothing of the user's is written. What the definition names is looked up
(a name that does not exist is one line, exit 2: the definition is wrong); what it leaves out is found the way AWS
links the parts: the change monitor is the function of an event source mapping on the table's current stream
(ListEventSourceMappings by EventSourceArn,
https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html), the plan is one whose selection
covers the table's ARN (GetBackupSelection ``Resources``, which take ``*`` wildcards,
https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html), the vault is the one the plan's
rules write to (``TargetBackupVaultName``). A part that cannot be found is left empty and its posture check fails
with the reason: a stack without a monitor or a plan is a stack that does not recover.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from dr_infra.errors import ConfigError
from dr_infra.stack.deployed import DeployedDefinition
from dr_infra.stack.table_shape import KeyAttribute, SecondaryIndex, TableShape
from dr_infra.targets.base import Target

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient
    from mypy_boto3_backup.type_defs import BackupPlansListMemberTypeDef
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import EventSourceMappingConfigurationTypeDef


@dataclass
class DeployedParts:
    """What the account shows of a deployed stack (empty strings: not found)."""

    table: str
    table_arn: str
    shape: TableShape
    stream_arn: str = ""
    function: str = ""
    function_arn: str = ""
    monitor_role_arn: str = ""
    mappings: list[EventSourceMappingConfigurationTypeDef] = field(default_factory=list)
    """The event source mappings of the monitor on the table's current stream (ListEventSourceMappings)."""
    plan_id: str = ""
    plan_name: str = ""
    selection_id: str = ""
    selection_name: str = ""
    backup_role_arn: str = ""
    vault: str = ""
    vault_arn: str = ""
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "table_arn": self.table_arn,
            "stream_arn": self.stream_arn or None,
            "function": self.function or None,
            "monitor_role_arn": self.monitor_role_arn or None,
            "mappings": [m.get("UUID") for m in self.mappings],
            "plan": self.plan_name or None,
            "plan_id": self.plan_id or None,
            "selection": self.selection_name or None,
            "backup_role_arn": self.backup_role_arn or None,
            "vault": self.vault or None,
        }


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _key(schema: list[dict[str, str]], types: dict[str, str], kind: str) -> KeyAttribute | None:
    for key in schema:
        if key["KeyType"] == kind:
            return KeyAttribute(key["AttributeName"], types.get(key["AttributeName"], "S"))
    return None


def _index(raw: dict[str, Any], types: dict[str, str]) -> SecondaryIndex:
    hash_key = _key(raw["KeySchema"], types, "HASH")
    assert hash_key is not None
    projection = raw.get("Projection", {})
    kind = projection.get("ProjectionType", "ALL")
    return SecondaryIndex(
        name=raw["IndexName"],
        hash_key=hash_key,
        range_key=_key(raw["KeySchema"], types, "RANGE"),
        projection=tuple(projection.get("NonKeyAttributes", [])) if kind == "INCLUDE" else kind,
    )


def shape_of(ddb: DynamoDBClient, description: Mapping[str, Any]) -> TableShape:
    """The deployed table's shape from DescribeTable (and DescribeTimeToLive), as drdrill's items must fit it."""
    types = {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}
    hash_key = _key(description["KeySchema"], types, "HASH")
    assert hash_key is not None
    ttl = ddb.describe_time_to_live(TableName=description["TableName"]).get("TimeToLiveDescription", {})
    billing = (description.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    return TableShape(
        hash_key=hash_key,
        range_key=_key(description["KeySchema"], types, "RANGE"),
        billing_mode=billing,
        ttl_attribute=ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"} else None,
        global_secondary_indexes=tuple(_index(i, types) for i in description.get("GlobalSecondaryIndexes", [])),
        local_secondary_indexes=tuple(_index(i, types) for i in description.get("LocalSecondaryIndexes", [])),
    )


def _mappings(lam: LambdaClient, stream_arn: str) -> list[EventSourceMappingConfigurationTypeDef]:
    if not stream_arn:
        return []
    pages = lam.get_paginator("list_event_source_mappings").paginate(EventSourceArn=stream_arn)
    return [m for page in pages for m in page.get("EventSourceMappings", [])]


def _function(target: Target, parts: DeployedParts, named: str | None, where: str) -> None:
    lam = target.client("lambda")
    mappings = _mappings(lam, parts.stream_arn)
    if named:
        try:
            config = lam.get_function_configuration(FunctionName=named)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                raise ConfigError(
                    f"{where}: deployed.function: no function {named!r} in {target.region}; "
                    "name the deployed change monitor, or leave function out to use the one mapped to the stream"
                ) from None
            raise
        arn = str(config["FunctionArn"])
        mappings = [m for m in mappings if str(m.get("FunctionArn", "")).split(":")[6:7] == [named]]
    elif mappings:
        arn = str(mappings[0]["FunctionArn"])
        config = lam.get_function_configuration(FunctionName=arn)
        others = {str(m["FunctionArn"]) for m in mappings} - {arn}
        if others:
            parts.notes.append(
                f"the table's stream has mappings to {len(others) + 1} functions; the drill judges "
                f"{arn.rsplit(':', 1)[-1]} (name [deployed] function to choose another)"
            )
        mappings = [m for m in mappings if m["FunctionArn"] == arn]
    else:
        parts.notes.append("no event source mapping on the table's stream: no change monitor was found")
        return
    parts.function, parts.function_arn = str(config["FunctionName"]), arn
    parts.monitor_role_arn = str(config.get("Role", ""))
    parts.mappings = mappings


def _plans(backup: BackupClient) -> list[BackupPlansListMemberTypeDef]:
    return [p for page in backup.get_paginator("list_backup_plans").paginate() for p in page.get("BackupPlansList", [])]


def _covering_selection(backup: BackupClient, plan_id: str, table_arn: str) -> dict[str, Any] | None:
    for page in backup.get_paginator("list_backup_selections").paginate(BackupPlanId=plan_id):
        for item in page.get("BackupSelectionsList", []):
            selection = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=item["SelectionId"])
            body = selection["BackupSelection"]
            resources = body.get("Resources", [])
            excluded = body.get("NotResources", [])
            if any(fnmatch.fnmatchcase(table_arn, r) for r in resources) and not any(
                fnmatch.fnmatchcase(table_arn, r) for r in excluded
            ):
                return {**body, "SelectionId": item["SelectionId"]}
    return None


def _backup(target: Target, parts: DeployedParts, deployed: DeployedDefinition, where: str) -> None:
    """The backup plan whose selection covers the table (or the one the definition names), and its vault."""
    if "backup" not in target.capabilities:
        return
    backup = target.client("backup")
    plans = _plans(backup)
    if deployed.plan:
        plans = [p for p in plans if p.get("BackupPlanName") == deployed.plan]
        if not plans:
            raise ConfigError(
                f"{where}: deployed.plan: no backup plan named {deployed.plan!r} in {target.region}; "
                "name the deployed plan (BackupPlanName), or leave plan out to use the one covering the table"
            )
    chosen = _covering_plan(target, backup, parts, plans)
    if chosen is None and deployed.plan:
        chosen = plans[0]  # named, but no selection of it covers the table: posture says so
    if chosen is None:
        parts.notes.append("no backup plan has a selection covering the table")
    else:
        parts.plan_id, parts.plan_name = str(chosen["BackupPlanId"]), str(chosen.get("BackupPlanName"))
    _vault(target, backup, parts, deployed, where)


def _covering_plan(
    target: Target, backup: BackupClient, parts: DeployedParts, plans: list[BackupPlansListMemberTypeDef]
) -> BackupPlansListMemberTypeDef | None:
    """The first plan with a selection covering the table (its selection recorded in ``parts``), or None."""
    if "backup_selections" not in target.capabilities:
        return None
    for plan in plans:
        selection = _covering_selection(backup, plan["BackupPlanId"], parts.table_arn)
        if selection is not None:
            parts.selection_id, parts.selection_name = selection["SelectionId"], str(selection.get("SelectionName"))
            parts.backup_role_arn = str(selection.get("IamRoleArn", ""))
            return plan
    return None


def _vault(
    target: Target, backup: BackupClient, parts: DeployedParts, deployed: DeployedDefinition, where: str
) -> None:
    """The vault the definition names, else the one the chosen plan's first rule targets."""
    vault = deployed.vault
    if vault is None and parts.plan_id:
        rules = backup.get_backup_plan(BackupPlanId=parts.plan_id)["BackupPlan"].get("Rules", [])
        vault = rules[0].get("TargetBackupVaultName") if rules else None
    if not vault:
        return
    try:
        parts.vault_arn = str(backup.describe_backup_vault(BackupVaultName=vault)["BackupVaultArn"])
    except ClientError as exc:
        if deployed.vault and _code(exc) in {"ResourceNotFoundException", "AccessDeniedException"}:
            raise ConfigError(
                f"{where}: deployed.vault: no backup vault {vault!r} in {target.region}; "
                "name the deployed vault, or leave vault out to use the plan's"
            ) from None
        raise
    parts.vault = vault


def discover(target: Target, deployed: DeployedDefinition, where: str) -> DeployedParts:
    """Read the deployed stack's parts from ``target`` (``where`` names the definition in error lines)."""
    if deployed.table is None:
        raise ConfigError(f'{where}: the deployed stack names no table; set [deployed] table = "..."')
    ddb = target.client("dynamodb")
    try:
        description = ddb.describe_table(TableName=deployed.table)["Table"]
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            raise ConfigError(
                f"{where}: deployed.table: no table {deployed.table!r} in account {target.account_id}, "
                f"region {target.region}; name the deployed table (or run against its account and region)"
            ) from None
        raise
    table_arn = str(description["TableArn"])
    account = table_arn.split(":")[4]
    if account != target.account_id:
        raise ConfigError(
            f"{where}: deployed.table {deployed.table!r} is in account {account}, not the target's "
            f"{target.account_id}; drill it with credentials of its own account"
        )
    parts = DeployedParts(deployed.table, table_arn, shape_of(ddb, description))
    parts.stream_arn = str(description.get("LatestStreamArn", "")) if _stream_on(description) else ""
    if "lambda" in target.capabilities:
        _function(target, parts, deployed.function, where)
    _backup(target, parts, deployed, where)
    return parts


def _stream_on(description: Mapping[str, Any]) -> bool:
    return bool((description.get("StreamSpecification") or {}).get("StreamEnabled"))
