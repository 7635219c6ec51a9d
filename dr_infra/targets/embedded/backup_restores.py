"""AWS Backup restore jobs for DynamoDB recovery points.

What AWS does: StartRestoreJob restores a recovery point with the given ``Metadata`` (DynamoDB:
``targetTableName``) and IAM role (``IamRoleArn``; AWS Backup's default service role when omitted). An
``IdempotencyToken`` makes retries return the same job instead of starting another restore. The job goes
PENDING -> RUNNING -> COMPLETED or FAILED with a ``StatusMessage``; ``PercentDone`` rises;
``CreatedResourceArn`` names the new table. The restored table is a new table with the recovery point's data
and no stream, PITR, TTL or tags. Restoring onto an existing table name fails the job. AWS Backup allows a
limited number of concurrent restore jobs per account (50 here); beyond it StartRestoreJob raises
``LimitExceededException``.
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html

What moto 5.2.5 does instead: no restore API (HTTP 404/500).

What is modelled here: the job takes ``EmbeddedSettings.restore_seconds`` (or the ``restore_job_duration``
fault's ``seconds``). A successful restore's table exists from the start, ``CREATING`` until the job completes.
Faults: ``restore_job_fails`` (the job ends FAILED with the fault's ``message``, no table is created),
``start_restore_denied`` (``AccessDeniedException``), ``restore_job_duration``.
"""

from __future__ import annotations

import re
from typing import Any

from moto.backup.exceptions import InvalidParameterValueException, InvalidRequestException, ResourceNotFoundException
from moto.backup.models import BackupBackend, backup_backends
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from dr_infra.targets.embedded import backup_jobs, backup_service_role, history, process_state
from dr_infra.targets.embedded import backup_model as model
from dr_infra.targets.embedded.process_state import SWITCHES
from dr_infra.targets.embedded.restored import RestoringTable, item_attributes, point_in_time_restores_in_flight

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.DynamoDBBackend.get_backup",
    "moto.iam.models.iam_backends",
    "moto.iam.models.IAMBackend.get_role_by_arn",
    "moto.utilities.utils.get_partition",
)

MAX_RESTORES_IN_FLIGHT = 50
METADATA_KEYS = ("targetTableName", "encryptionType", "kmsMasterKeyArn", "deletionProtection")
ENCRYPTION_TYPES = ("Default", "KMS")
TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
DEFAULT_ROLE_NAME = "service-role/AWSBackupDefaultServiceRole"


def _check_role(account_id: str, region: str, role_arn: str) -> None:
    iam = iam_backends[account_id][get_partition(region)]
    try:
        iam.get_role_by_arn(role_arn)
    except Exception:
        raise InvalidParameterValueException(f"Invalid IAM role ARN {role_arn}: the role does not exist") from None


def restores_in_flight(account_id: str, at: float) -> int:
    """Every restore of the account still running: AWS Backup restore jobs and point-in-time restores.

    DynamoDB counts both against one quota of 50 concurrent restores per account
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-backup-restore).
    """
    count = 0
    for backend in list(backup_backends[account_id].values()):
        count += sum(1 for job in model.state_of(backend).restore_jobs.values() if job.in_flight(at))
    for ddb in list(dynamodb_backends[account_id].values()):
        count += point_in_time_restores_in_flight(list(ddb.tables.values()))
    return count


def dynamodb_metadata(metadata: Any) -> dict[str, str]:
    """StartRestoreJob ``Metadata`` for a DynamoDB table, keys in their documented spelling, or AWS's error.

    The documented keys are ``targetTableName`` (required), ``encryptionType`` (``Default`` or ``KMS``),
    ``kmsMasterKeyArn`` (required with ``KMS``) and ``deletionProtection`` (``true`` / ``false``); AWS Backup
    does not treat the keys as case-sensitive, so ``TargetTableName`` works too. The target name must be a
    name DynamoDB accepts (3 to 255 of ``a-z A-Z 0-9 _ . -``).
    https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html
    https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html#DDB-CreateTable-request-TableName
    Other keys are passed over, as AWS Backup ignores what the resource type does not use.
    """
    found = _canonical_metadata(metadata)
    target = found.get("targetTableName")
    if not target:
        raise InvalidParameterValueException("Metadata must contain targetTableName for a DynamoDB restore")
    if not TABLE_NAME.match(target):
        raise InvalidParameterValueException(
            f"Invalid targetTableName {target!r}: a DynamoDB table name is 3 to 255 characters of a-z, A-Z, 0-9, "
            "'_', '.' and '-'"
        )
    _check_encryption_and_protection(found)
    return found


def _canonical_metadata(metadata: Any) -> dict[str, str]:
    """The documented keys of ``metadata`` in their documented spelling (matched without case; a key named
    twice in two spellings is AWS's error), other keys passed over."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidParameterValueException("Metadata must be a map of strings")
    known = {k.lower(): k for k in METADATA_KEYS}
    found: dict[str, str] = {}
    for key, value in metadata.items():
        canonical = known.get(str(key).lower())
        if canonical is None:
            continue
        if canonical in found:
            raise InvalidParameterValueException(f"Metadata names {canonical} twice (keys are not case-sensitive)")
        found[canonical] = value
    return found


def _check_encryption_and_protection(found: dict[str, str]) -> None:
    """``encryptionType`` (``Default`` or ``KMS``, ``KMS`` with a key ARN) and ``deletionProtection`` (true/false)."""
    encryption = found.get("encryptionType", "Default")
    if encryption not in ENCRYPTION_TYPES:
        raise InvalidParameterValueException(
            f"Invalid encryptionType {encryption!r}: use one of {', '.join(ENCRYPTION_TYPES)}"
        )
    if encryption == "KMS" and not found.get("kmsMasterKeyArn", "").startswith("arn:"):
        raise InvalidParameterValueException("encryptionType KMS needs kmsMasterKeyArn, the ARN of a KMS key")
    if found.get("deletionProtection", "false").lower() not in ("true", "false"):
        raise InvalidParameterValueException(
            f"Invalid deletionProtection {found['deletionProtection']!r}: use true or false"
        )


def start_restore_job(
    backend: BackupBackend,
    recovery_point_arn: str,
    metadata: dict[str, str] | None,
    iam_role_arn: str | None,
    idempotency_token: str | None,
) -> model.RestoreJob:
    # a scoped fault applies when the restore's target table or the recovery point's table is in its scope
    named_point = model.state_of(backend).recovery_points.get(recovery_point_arn or "")
    named_target = {k.lower(): v for k, v in (metadata or {}).items()}.get("targettablename")
    denied = SWITCHES.faults.take(
        "start_restore_denied",
        resource=(
            named_target,
            recovery_point_arn,
            named_point.resource_arn if named_point is not None else None,
        ),
    )
    if denied is not None:
        raise model.AccessDeniedException(
            str(denied.get("message") or "User is not authorized to perform: backup:StartRestoreJob")
        )
    with model.lock:
        state = model.state_of(backend)
        if idempotency_token and idempotency_token in state.restore_tokens:
            return state.restore_jobs[state.restore_tokens[idempotency_token]]
        if not recovery_point_arn:
            raise model.MissingParameterValueException("RecoveryPointArn is required")
        point = backup_jobs.recovery_point(backend, recovery_point_arn)
        at = history.now()
        if point.status(at) != "COMPLETED":
            raise InvalidRequestException(f"Recovery point {recovery_point_arn} is not COMPLETED yet")
        restore_metadata = dynamodb_metadata(metadata)
        target = restore_metadata["targetTableName"]
        partition = get_partition(backend.region_name)
        role = iam_role_arn or f"arn:{partition}:iam::{backend.account_id}:role/{DEFAULT_ROLE_NAME}"
        _check_role(backend.account_id, backend.region_name, role)
        if restores_in_flight(backend.account_id, at) >= MAX_RESTORES_IN_FLIGHT:
            raise model.LimitExceededException(
                f"Concurrent restore job limit of {MAX_RESTORES_IN_FLIGHT} for this account has been reached"
            )

        duration_fault = SWITCHES.faults.take("restore_job_duration", resource=(target, point.resource_arn))
        duration = (
            float(duration_fault["seconds"]) if duration_fault else process_state.current_settings().restore_seconds
        )
        account, region, _ = model.table_of(point.resource_arn)
        ddb = dynamodb_backends[account][region]
        snapshot = ddb.get_backup(point.job.snapshot_arn)
        failure: str | None = None
        failed_fault = SWITCHES.faults.take("restore_job_fails", resource=(target, point.resource_arn))
        if failed_fault is not None:
            failure = str(failed_fault.get("message") or "Restore job failed (drdrill fault)")
        elif target in ddb.tables:
            failure = f"Table already exists: {target}"
        else:
            failure = backup_service_role.restore_problem(
                role, backend.account_id, region, f"arn:{partition}:dynamodb:{region}:{account}:table/{target}"
            )
        job = model.RestoreJob(
            job_id=model.new_job_id(),
            account_id=backend.account_id,
            recovery_point=point,
            target_table_arn=f"arn:{partition}:dynamodb:{region}:{account}:table/{target}",
            iam_role_arn=role,
            created=at,
            duration=duration,
            failure=failure,
        )
        if failure is None:
            restored = RestoringTable(  # type: ignore[abstract]  # moto's Table leaves CloudFormation hooks abstract
                target,
                source=snapshot.table,
                items=item_attributes(snapshot.table),
                ready_at=at + duration,
                restore_summary={
                    "SourceBackupArn": point.arn,
                    "SourceTableArn": point.resource_arn,
                    # the backup's time, not the job's: "the point in time or source backup time"
                    # (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreSummary.html)
                    "RestoreDateTime": point.job.created,
                },
            )
            # deletionProtection of the metadata is the restored table's DeletionProtectionEnabled (default off)
            restored.deletion_protection_enabled = restore_metadata.get("deletionProtection", "false").lower() == "true"
            history.drop(history.table_id(restored))
            ddb.tables[target] = restored
        state.restore_jobs[job.job_id] = job
        if idempotency_token:
            state.restore_tokens[idempotency_token] = job.job_id
        return job


def describe_restore_job(backend: BackupBackend, job_id: str) -> model.RestoreJob:
    with model.lock:
        job = model.state_of(backend).restore_jobs.get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Restore job {job_id} not found")
    return job


def list_restore_jobs(
    backend: BackupBackend, status: str | None = None, resource_type: str | None = None
) -> list[dict[str, Any]]:
    at = history.now()
    with model.lock:
        jobs = list(model.state_of(backend).restore_jobs.values())
    described = [job.describe(at) for job in jobs]
    return [
        d
        for d in described
        if (status is None or d["Status"] == status) and (resource_type is None or d["ResourceType"] == resource_type)
    ]
