"""One incident, one restore: a conditional-put record per table in the ledger table.

Why a ledger on top of AWS's idempotency (StartRestoreJob's IdempotencyToken, a
PITR target name that already exists): those only deduplicate identical requests.
A 500-delete burst spread over many batches, a bisected batch, or a redelivery has
a different "first change" per batch and would otherwise compute a different token
and target name each time. The ledger fixes the incident once per table.

Record (table ``DR_LEDGER_TABLE``, hash key ``pk`` of type S, created by the framework)::

    pk              "incident#<table name>"
    incident        first harmful change, UTC "%Y%m%dT%H%M%SZ" (the incident id)
    first_change    the same instant, epoch seconds (N)
    expires_at      first_change + DR_INCIDENT_WINDOW_SECONDS (N)
    token           IdempotencyToken, uuid5 of (table, incident): deterministic
    restored_table  target table name, fixed at claim time (a redeploy with another
                    template cannot rename the target of a running incident)
    restore_job_id, recovery_point_arn, restore_time, started
                    written after the start succeeded

Claim: ``PutItem`` with ``attribute_not_exists(pk) OR expires_at <= :change`` where
``:change`` is the batch's first harmful change (epoch seconds). The window is
measured in *change time*, not wall-clock time: with a wall-clock ``:now`` a stream
consumer lagging behind by more than the window (iterator age) would open a new
incident for every batch of one burst. A change at or after ``expires_at`` opens a
new incident; anything earlier joins the recorded one. If the put fails, the
current record is returned (``ReturnValuesOnConditionCheckFailure=ALL_OLD``) and
the caller re-issues the *same* start (same token, same target name), which is
crash-safe and never creates a second distinct restore.

The framework must not use ``expires_at`` as the ledger table's TTL attribute if
streams may lag by more than a day: TTL deletion would forget the incident.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from change_monitor.settings import INCIDENT_TIME_FORMAT, Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_TOKEN_NAMESPACE = uuid.UUID("8d0b7a52-4f7c-4c55-9d5e-6f2d1c0a7e11")


def incident_id(first_change: int) -> str:
    """The incident id: its first harmful change as UTC ``%Y%m%dT%H%M%SZ``."""
    return datetime.fromtimestamp(first_change, tz=UTC).strftime(INCIDENT_TIME_FORMAT)


def idempotency_token(table: str, incident: str) -> str:
    """Deterministic token for (table, incident): a redelivery sends the same one."""
    return str(uuid.uuid5(_TOKEN_NAMESPACE, f"{table}|{incident}"))


@dataclass(frozen=True)
class Incident:
    """The ledger's view of one table's current incident."""

    table: str
    incident: str
    first_change: int
    expires_at: int
    token: str
    restored_table: str
    started: bool = False
    restore_job_id: str | None = None
    recovery_point_arn: str | None = None
    restore_time: str | None = None

    @property
    def first_change_time(self) -> datetime:
        """``first_change`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.first_change, tz=UTC)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Incident:
        """Build from a DynamoDB-JSON ledger item."""

        def s(name: str) -> str | None:
            value = item.get(name)
            return None if value is None else str(value.get("S"))

        return cls(
            table=str(item["pk"]["S"]).removeprefix("incident#"),
            incident=str(item["incident"]["S"]),
            first_change=int(item["first_change"]["N"]),
            expires_at=int(item["expires_at"]["N"]),
            token=str(item["token"]["S"]),
            restored_table=str(item["restored_table"]["S"]),
            started=bool(item.get("started", {}).get("BOOL", False)),
            restore_job_id=s("restore_job_id"),
            recovery_point_arn=s("recovery_point_arn"),
            restore_time=s("restore_time"),
        )


@dataclass(frozen=True)
class Claim:
    """Result of :meth:`Ledger.claim`: the incident, and whether this call opened it."""

    incident: Incident
    new: bool


class Ledger:
    """Conditional-put incident records in ``DR_LEDGER_TABLE``."""

    def __init__(self, client: DynamoDBClient, settings: Settings) -> None:
        if settings.ledger_table is None:
            raise ValueError("the ledger needs DR_LEDGER_TABLE")
        self._client = client
        self._table = settings.ledger_table
        self._settings = settings

    def claim(self, table: str, first_change: datetime) -> Claim:
        """Open an incident for ``table`` at ``first_change`` unless one covers that time."""
        first = int(first_change.timestamp())  # floor: stream times are whole seconds
        name = incident_id(first)
        candidate = Incident(
            table=table,
            incident=name,
            first_change=first,
            expires_at=first + self._settings.incident_window_seconds,
            token=idempotency_token(table, name),
            restored_table=self._settings.restored_table_name(table, name),
        )
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"incident#{table}"},
                    "incident": {"S": candidate.incident},
                    "first_change": {"N": str(candidate.first_change)},
                    "expires_at": {"N": str(candidate.expires_at)},
                    "token": {"S": candidate.token},
                    "restored_table": {"S": candidate.restored_table},
                    "started": {"BOOL": False},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :change",
                ExpressionAttributeValues={":change": {"N": str(first)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            returned = exc.response.get("Item")
            item = dict(returned) if isinstance(returned, dict) else self._read(table)
            return Claim(incident=Incident.from_item(item), new=False)
        return Claim(incident=candidate, new=True)

    def _read(self, table: str) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"incident#{table}"}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            raise RuntimeError(f"ledger record for {table} vanished after a failed claim")
        return dict(item)

    def mark_started(
        self,
        incident: Incident,
        *,
        restore_job_id: str | None = None,
        recovery_point_arn: str | None = None,
        restore_time: str | None = None,
    ) -> None:
        """Record that the restore of ``incident`` started (only if it is still the current one)."""
        names = {"#started": "started", "#incident": "incident"}
        values: dict[str, Any] = {":true": {"BOOL": True}, ":incident": {"S": incident.incident}}
        sets = ["#started = :true"]
        for attr, value in (
            ("restore_job_id", restore_job_id),
            ("recovery_point_arn", recovery_point_arn),
            ("restore_time", restore_time),
        ):
            if value is not None:
                names[f"#{attr}"] = attr
                values[f":{attr}"] = {"S": value}
                sets.append(f"#{attr} = :{attr}")
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"incident#{incident.table}"}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="#incident = :incident",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            # A newer incident replaced this record: nothing of ours to update.
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
