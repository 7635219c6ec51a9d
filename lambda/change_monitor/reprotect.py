"""Re-protection: make a restored table as protected as its source.

Why: a table restored by AWS Backup or PITR comes back without a stream, without
PITR, without tags and without the monitor; left like that, the next accident on
it could not be undone. ``handler.on_restore_completed`` calls :func:`reprotect` for

* AWS Backup's EventBridge event ``Restore Job State Change`` with
  ``detail.status == "COMPLETED"`` (``detail.restoreJobId``,
  ``detail.createdResourceArn``); the source table comes from DescribeRestoreJob
  (``SourceResourceArn``) or, when absent, DescribeRecoveryPoint's ``ResourceArn``
  in ``DR_BACKUP_VAULT_NAME``;
* the framework's PITR-shaped event ``{"source": "drdrill", "detail-type": "PITR
  Restore Completed", "detail": {"sourceTableArn": ..., "restoredTableArn": ...}}``
  on targets without EventBridge.

Steps, each skipped when already done (the event may be delivered twice):
stream ``NEW_AND_OLD_IMAGES``; PITR on; the source's tags copied with TagResource;
an event source mapping from the restored table's stream to ``DR_MONITOR_FUNCTION_ARN``
(or, if unset, the function of the source's mapping) with the source mapping's
settings, starting at ``TRIM_HORIZON`` since the stream is brand new.

Backup coverage needs no change here: the framework's backup selection includes
the wildcard resource ``<source table ARN>-restored-*``, which matches every name
the default ``DR_RESTORED_TABLE_TEMPLATE`` produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from change_monitor.log import Decision, emit
from change_monitor.records import TableRef
from change_monitor.strategies.base import Runtime

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import EventSourceMappingConfigurationTypeDef

BACKUP_DETAIL_TYPE = "Restore Job State Change"
PITR_SOURCE = "drdrill"
PITR_DETAIL_TYPE = "PITR Restore Completed"

_COPIED_MAPPING_SETTINGS = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "FilterCriteria",
)


class NotApplicable(Exception):
    """The event is not a completed DynamoDB restore; nothing to do."""


def reprotect(event: Mapping[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Protect the restored table named by ``event``; return the decision line."""
    strategy = runtime.settings.strategy.value
    try:
        source_arn, restored_arn, job_id = _parse(event, runtime)
    except NotApplicable as exc:
        return emit(Decision.IGNORED, strategy=strategy, reason=str(exc))
    source = TableRef.from_arn(source_arn)
    restored = TableRef.from_arn(restored_arn)
    protector = _Protector(runtime, source, restored)
    actions = protector.run()
    return emit(
        Decision.REPROTECTED,
        strategy=strategy,
        table=restored.name,
        restoredTable=restored.name,
        sourceTable=source.name,
        restoreJobId=job_id,
        actions=actions,
        reason=protector.note,
    )


def _parse(event: Mapping[str, Any], runtime: Runtime) -> tuple[str, str, str | None]:
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise ValueError("event has no detail")
    if event.get("source") == PITR_SOURCE and event.get("detail-type") == PITR_DETAIL_TYPE:
        return str(detail["sourceTableArn"]), str(detail["restoredTableArn"]), None
    if event.get("detail-type") != BACKUP_DETAIL_TYPE:
        raise NotApplicable(f"unexpected event {event.get('source')}/{event.get('detail-type')}")
    if detail.get("status") != "COMPLETED":
        raise NotApplicable(f"restore job status {detail.get('status')}, not COMPLETED")
    resource_type = detail.get("resourceType")
    if resource_type not in (None, "DynamoDB"):
        raise NotApplicable(f"resource type {resource_type}, not DynamoDB")
    job_id = str(detail["restoreJobId"])
    restored_arn = str(detail["createdResourceArn"])
    job = runtime.clients.backup.describe_restore_job(RestoreJobId=job_id)
    source_arn = job.get("SourceResourceArn")
    if not source_arn:
        vault = runtime.settings.backup_vault_name
        if vault is None:
            raise ValueError("DescribeRestoreJob has no SourceResourceArn and DR_BACKUP_VAULT_NAME is unset")
        point = runtime.clients.backup.describe_recovery_point(
            BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"]
        )
        source_arn = point["ResourceArn"]
    return source_arn, restored_arn, job_id


class _Protector:
    """The four idempotent steps; ``actions`` lists what was changed."""

    def __init__(self, runtime: Runtime, source: TableRef, restored: TableRef) -> None:
        self.runtime = runtime
        self.ddb = runtime.clients.dynamodb
        self.source = source
        self.restored = restored
        self.actions: list[str] = []
        self.note: str | None = None

    def run(self) -> list[str]:
        stream_arn = self._stream()
        self._pitr()
        self._tags()
        self._mapping(stream_arn)
        return self.actions

    def _stream(self) -> str:
        table = self.ddb.describe_table(TableName=self.restored.name)["Table"]
        spec = table.get("StreamSpecification", {})
        if spec.get("StreamEnabled"):
            if spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
                raise ValueError(
                    f"{self.restored.name} has a {spec.get('StreamViewType')} stream; "
                    "the monitor needs NEW_AND_OLD_IMAGES"
                )
            return str(table["LatestStreamArn"])
        updated = self.ddb.update_table(
            TableName=self.restored.name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        self.actions.append("stream")
        arn = updated.get("LatestStreamArn")
        if not arn:
            arn = self.ddb.describe_table(TableName=self.restored.name)["Table"]["LatestStreamArn"]
        return str(arn)

    def _pitr(self) -> None:
        described = self.ddb.describe_continuous_backups(TableName=self.restored.name)
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
            return
        self.ddb.update_continuous_backups(
            TableName=self.restored.name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        self.actions.append("pitr")

    def _list_tags(self, arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"ResourceArn": arn}
        while True:
            page = self.ddb.list_tags_of_resource(**kwargs)
            tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
            if not page.get("NextToken"):
                return tags
            kwargs["NextToken"] = page["NextToken"]

    def _source_gone(self, exc: ClientError) -> bool:
        """A lost table (the table-loss incident) has no tags or mapping left to copy: note it, go on."""
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            return False
        self.note = f"source table {self.source.name} no longer exists: its tags and mapping settings were not copied"
        return True

    def _tags(self) -> None:
        present = self._list_tags(self.restored.arn)
        try:
            source_tags = self._list_tags(self.source.arn)
        except ClientError as exc:
            if self._source_gone(exc):
                return
            raise
        missing = {k: v for k, v in source_tags.items() if present.get(k) != v}
        if missing:
            self.ddb.tag_resource(
                ResourceArn=self.restored.arn,
                Tags=[{"Key": k, "Value": v} for k, v in sorted(missing.items())],
            )
            self.actions.append(f"tags:{len(missing)}")

    def _mappings(self, **kwargs: Any) -> list[EventSourceMappingConfigurationTypeDef]:
        found: list[EventSourceMappingConfigurationTypeDef] = []
        while True:
            page = self.runtime.clients.lambda_.list_event_source_mappings(**kwargs)
            found.extend(page.get("EventSourceMappings", []))
            if not page.get("NextMarker"):
                return found
            kwargs["Marker"] = page["NextMarker"]

    def _mapping(self, restored_stream_arn: str) -> None:
        function = self.runtime.settings.monitor_function_arn
        template = self._source_mapping(function)
        if function is None and template is not None:
            function = template.get("FunctionArn")
        if not function:
            self.note = "no monitor attached: DR_MONITOR_FUNCTION_ARN unset and the source has no mapping"
            return
        existing = self._mappings(EventSourceArn=restored_stream_arn)
        if any(m.get("FunctionArn") == function for m in existing):
            return
        try:
            self.runtime.clients.lambda_.create_event_source_mapping(
                EventSourceArn=restored_stream_arn,
                FunctionName=function,
                StartingPosition="TRIM_HORIZON",
                Enabled=True,
                **_copied_settings(template),
            )
        except ClientError as exc:
            # Same stream and function already mapped (e.g. named differently): done.
            if exc.response.get("Error", {}).get("Code") != "ResourceConflictException":
                raise
            return
        self.actions.append("mapping")

    def _source_mapping(self, function: str | None) -> EventSourceMappingConfigurationTypeDef | None:
        """The source table's stream mapping to copy (the monitor's, else the first), None when it has none."""
        try:
            source_stream = self.ddb.describe_table(TableName=self.source.name)["Table"].get("LatestStreamArn")
        except ClientError as exc:
            if not self._source_gone(exc):
                raise
            return None
        if not source_stream:
            return None
        candidates = self._mappings(EventSourceArn=source_stream)
        matching = [m for m in candidates if function and m.get("FunctionArn") == function]
        chosen = matching or candidates
        return chosen[0] if chosen else None


def _copied_settings(template: EventSourceMappingConfigurationTypeDef | None) -> dict[str, Any]:
    """The source mapping's settings the restored table's mapping keeps (batching, retries, its OnFailure)."""
    if template is None:
        return {}
    settings: dict[str, Any] = {k: template[k] for k in _COPIED_MAPPING_SETTINGS if template.get(k) is not None}  # type: ignore[literal-required]
    destination = template.get("DestinationConfig", {}).get("OnFailure", {})
    if destination.get("Destination"):
        settings["DestinationConfig"] = {"OnFailure": {"Destination": destination["Destination"]}}
    return settings
