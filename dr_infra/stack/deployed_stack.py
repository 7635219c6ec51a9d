"""A deployed stack as a drill's :class:`~dr_infra.stack.provision.Stack`, and the clean-up of what the drill caused.

The drill's steps read a stack's names and ARNs; for a deployed stack they are the user's (:class:`DeployedNames`),
so every step acts on the deployed table and judges the deployed monitor, and nothing is created. Clean-up removes
only what the drill caused, each part proven to be the drill's before it is touched:

* the drill's items: DeleteItem with ``ConditionExpression begins_with(<hash key>, <this run's key prefix>)``, so
  DynamoDB itself refuses to delete anything else
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html);
* recovery points the drill took (its on-demand backup jobs): those of the table whose tags (ListTags) carry this
  run's ``drdrill:run-id`` and ``drdrill:managed=true``
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListTags.html);
* only with ``--cleanup-restored``: tables whose ``RestoreSummary.SourceTableArn`` is the deployed table and that
  were created after the drill's first write, i.e. restores the user's recovery started in response to the drill
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreSummary.html). Without it they are
  listed in the journal and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from dr_infra.stack import restored
from dr_infra.stack.cleanup import Cleanups
from dr_infra.stack.deployed_discovery import DeployedParts
from dr_infra.stack.names import TAG_MANAGED, TAG_RUN_ID, StackNames
from dr_infra.stack.provision import Stack
from dr_infra.stack.spec import StackSpec
from dr_infra.targets.base import Target

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient
    from mypy_boto3_backup.type_defs import RecoveryPointByResourceTypeDef
    from mypy_boto3_dynamodb import DynamoDBClient


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


@dataclass(frozen=True)
class DeployedNames(StackNames):
    """The user's names for the parts a drill acts on; ``prefix`` stays the drill's own (fault scopes, run ids)."""

    deployed_table: str = ""
    deployed_function: str = ""
    deployed_vault: str = ""
    deployed_plan: str = ""
    monitor_role_arn: str = ""
    backup_role_arn: str = ""
    configured_key_prefix: str = "drdrill-"

    @property
    def table(self) -> str:
        return self.deployed_table

    @property
    def monitor_function(self) -> str:
        return self.deployed_function

    @property
    def vault(self) -> str:
        return self.deployed_vault

    @property
    def plan(self) -> str:
        return self.deployed_plan

    @property
    def monitor_role(self) -> str:
        return _role_name(self.monitor_role_arn)

    @property
    def backup_role(self) -> str:
        return _role_name(self.backup_role_arn)

    @property
    def key_prefix(self) -> str:
        """This drill's hash-key prefix: the definition's, then the run id and stack number (parallel drills and
        later runs never share an item)."""
        return f"{self.configured_key_prefix}{self.run_id}-{self.stack_no}-"


def is_deployed(stack: Stack | None) -> bool:
    return stack is not None and isinstance(stack.names, DeployedNames)


def deployed_stack(
    target: Target, parts: DeployedParts, spec: StackSpec, names: StackNames, prefix: str, cleanups: Cleanups
) -> Stack:
    """The Stack a drill works on: the user's parts, nothing created (``created`` stays empty)."""
    deployed_names = DeployedNames(
        run_id=names.run_id,
        stack_no=names.stack_no,
        logical_table=names.logical_table,
        deployed_table=parts.table,
        deployed_function=parts.function,
        deployed_vault=parts.vault,
        deployed_plan=parts.plan_name,
        monitor_role_arn=parts.monitor_role_arn,
        backup_role_arn=parts.backup_role_arn,
        configured_key_prefix=prefix,
    )
    return Stack(
        names=deployed_names,
        spec=spec,
        region=target.region,
        account_id=target.account_id,
        cleanups=cleanups,
        table_arn=parts.table_arn,
        stream_arn=parts.stream_arn,
        vault_arn=parts.vault_arn,
        plan_id=parts.plan_id,
        selection_id=parts.selection_id,
        backup_role_arn=parts.backup_role_arn,
        monitor_role_arn=parts.monitor_role_arn,
        monitor_function_arn=parts.function_arn,
        mapping_uuid=str(parts.mappings[0]["UUID"]) if parts.mappings else "",
    )


# -- what the drill caused ----------------------------------------------------------------------------------
def _names(stack: Stack) -> DeployedNames:
    assert isinstance(stack.names, DeployedNames)
    return stack.names


def drill_item_keys(ddb: DynamoDBClient, stack: Stack) -> list[dict[str, Any]]:
    """The keys of this drill's items in the deployed table (a Scan filtered on the hash-key prefix)."""
    names = _names(stack)
    keys = stack.spec.table.key_attributes
    projection = ", ".join(f"#k{i}" for i in range(len(keys)))
    attribute_names = {f"#k{i}": name for i, name in enumerate(keys)}
    pages = ddb.get_paginator("scan").paginate(
        TableName=names.table,
        FilterExpression="begins_with(#k0, :prefix)",
        ProjectionExpression=projection,
        ExpressionAttributeNames=attribute_names,
        ExpressionAttributeValues={":prefix": _prefix_value(stack)},
        ConsistentRead=True,
    )
    return [item for page in pages for item in page.get("Items", [])]


def key_prefix(stack: Stack) -> str:
    """The hash-key prefix of this drill's items in the deployed table."""
    return _names(stack).key_prefix


def _prefix_value(stack: Stack) -> dict[str, Any]:
    prefix = _names(stack).key_prefix
    return {"B": prefix.encode()} if stack.spec.table.hash_key.type == "B" else {"S": prefix}


def delete_drill_items(ddb: DynamoDBClient, stack: Stack) -> int:
    """Delete this drill's items, each only if its hash key starts with the drill's prefix; returns how many."""
    names = _names(stack)
    deleted = 0
    for key in drill_item_keys(ddb, stack):
        try:
            ddb.delete_item(
                TableName=names.table,
                Key=key,
                ConditionExpression="begins_with(#k, :prefix)",
                ExpressionAttributeNames={"#k": stack.spec.table.hash_key.name},
                ExpressionAttributeValues={":prefix": _prefix_value(stack)},
            )
            deleted += 1
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise  # a vanished item is fine; anything else is a clean-up failure
    return deleted


def drill_recovery_points(backup: BackupClient, stack: Stack) -> list[RecoveryPointByResourceTypeDef]:
    """Recovery points of the deployed table that carry this run's tags (the drill's on-demand backups)."""
    run_id = stack.names.run_id
    found = []
    pages = backup.get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=stack.table_arn)
    for point in (p for page in pages for p in page.get("RecoveryPoints", [])):
        tags = backup.list_tags(ResourceArn=point["RecoveryPointArn"]).get("Tags", {})
        if tags.get(TAG_RUN_ID) == run_id and tags.get(TAG_MANAGED) == "true":
            found.append(point)
    return found


def delete_drill_recovery_points(backup: BackupClient, stack: Stack) -> int:
    points = drill_recovery_points(backup, stack)
    for point in points:
        vault, arn = point["BackupVaultName"], point["RecoveryPointArn"]
        backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=arn)
    return len(points)


def _aware(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def caused_restores(ddb: DynamoDBClient, stack: Stack, since: datetime) -> list[str]:
    """Tables restored from the deployed table (RestoreSummary.SourceTableArn) created at or after ``since``."""
    found = restored.tables_restored_from(ddb, {stack.table_arn}, None, frozenset({stack.names.table}))
    names = []
    for name, table in found.items():
        created = _aware(table.get("CreationDateTime"))
        if created is not None and created >= since:
            names.append(name)
    return sorted(names)
