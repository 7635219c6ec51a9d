"""What every strategy shares: per-record outcomes and the one-restore-per-incident flow.

A strategy never logs: it returns one :class:`Outcome` per harmful record and the
handler writes exactly one decision line per record and derives the
``batchItemFailures`` from the outcomes marked ``failed``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError

from change_monitor.clients import Clients
from change_monitor.ledger import Claim, Incident, Ledger
from change_monitor.log import Decision, error_text
from change_monitor.records import StreamRecord
from change_monitor.settings import Settings


class LambdaContext(Protocol):
    """The part of the Lambda context object the monitor uses."""

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        ...


@dataclass
class Outcome:
    """The decision for one record; ``failed`` ones go into batchItemFailures."""

    record: StreamRecord
    decision: Decision
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Failed records are redelivered by the event source mapping."""
        return self.decision in (Decision.FAILED, Decision.NO_RECOVERY_POINT)


class Strategy(Protocol):
    """A way to undo harmful changes."""

    name: str

    def process(
        self,
        harmful: Sequence[StreamRecord],
        batch: Sequence[StreamRecord],
        context: LambdaContext | None,
    ) -> list[Outcome]:
        """One outcome per record of ``harmful``; ``batch`` is every parsed record."""
        ...


@dataclass(frozen=True)
class Runtime:
    """What strategies need besides their inputs; injectable for tests."""

    settings: Settings
    clients: Clients
    sleep: Callable[[float], None]


class StartFailure(Exception):
    """A restore could not be started; every record of the table is reported as failed."""

    def __init__(self, decision: Decision, reason: str, error: str | None = None) -> None:
        super().__init__(reason)
        self.decision = decision
        self.reason = reason
        self.error = error


@dataclass(frozen=True)
class Started:
    """A restore start (or an idempotent re-issue of it) that AWS accepted."""

    already: bool
    fields: dict[str, Any]
    restore_job_id: str | None = None
    recovery_point_arn: str | None = None
    restore_time: str | None = None


def group_by_table(records: Sequence[StreamRecord]) -> dict[str, list[StreamRecord]]:
    """Records per table name, each list in SequenceNumber order."""
    groups: dict[str, list[StreamRecord]] = {}
    for record in sorted(records, key=lambda r: r.sequence):
        groups.setdefault(record.table.name, []).append(record)
    return groups


class RestoreStrategy(abc.ABC):
    """Backup and PITR: claim the incident in the ledger, then start one restore."""

    name: str

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.clients = runtime.clients
        self.ledger = Ledger(runtime.clients.dynamodb, runtime.settings)

    @abc.abstractmethod
    def start(self, records: Sequence[StreamRecord], claim: Claim, context: LambdaContext | None) -> Started:
        """Start (or re-issue) the restore of ``claim.incident``; raise StartFailure."""

    def process(
        self,
        harmful: Sequence[StreamRecord],
        batch: Sequence[StreamRecord],
        context: LambdaContext | None,
    ) -> list[Outcome]:
        """One restore per table per incident; every record gets an outcome."""
        outcomes: list[Outcome] = []
        for records in group_by_table(harmful).values():
            outcomes.extend(self._process_table(records, context))
        return outcomes

    def _process_table(self, records: list[StreamRecord], context: LambdaContext | None) -> list[Outcome]:
        first_change = min(r.approximate_creation_time for r in records)
        try:
            claim = self.ledger.claim(records[0].table.name, first_change)
        except (ClientError, RuntimeError) as exc:
            return [
                Outcome(r, Decision.FAILED, {"reason": "ledger claim failed", "error": error_text(exc)})
                for r in records
            ]
        incident = claim.incident
        outcomes, current = self._split_stale(records, incident)
        if not current:
            return outcomes
        base: dict[str, Any] = {"incident": incident.incident, "restoredTable": incident.restored_table}
        if incident.started:
            done = {
                **base,
                "restoreJobId": incident.restore_job_id,
                "recoveryPointArn": incident.recovery_point_arn,
                "restoreTime": incident.restore_time,
            }
            return outcomes + [
                Outcome(r, Decision.RESTORE_ALREADY_STARTED, self._note(r, incident, done)) for r in current
            ]
        try:
            started = self.start(current, claim, context)
        except StartFailure as failure:
            fields = {**base, "reason": failure.reason, "error": failure.error}
            return outcomes + [Outcome(r, failure.decision, fields) for r in current]
        fields = {**base, **started.fields}
        try:
            self.ledger.mark_started(
                incident,
                restore_job_id=started.restore_job_id,
                recovery_point_arn=started.recovery_point_arn,
                restore_time=started.restore_time,
            )
        except ClientError as exc:
            # The restore runs; a redelivery or the next batch re-issues the same
            # idempotent start, so this is not a reason to fail the records.
            fields["error"] = f"ledger update failed: {error_text(exc)}"
        first_decision = Decision.RESTORE_ALREADY_STARTED if started.already else Decision.RESTORE_STARTED
        outcomes.append(Outcome(current[0], first_decision, self._note(current[0], incident, fields)))
        outcomes.extend(
            Outcome(r, Decision.RESTORE_ALREADY_STARTED, self._note(r, incident, fields)) for r in current[1:]
        )
        return outcomes

    def _split_stale(self, records: list[StreamRecord], incident: Incident) -> tuple[list[Outcome], list[StreamRecord]]:
        """Records older than the recorded incident's window belong to an earlier incident."""
        window = timedelta(seconds=self.settings.incident_window_seconds)
        oldest_covered = incident.first_change_time - window
        stale = [r for r in records if r.approximate_creation_time < oldest_covered]
        outcomes = [
            Outcome(
                r,
                Decision.IGNORED,
                {
                    "incident": incident.incident,
                    "reason": f"change predates incident {incident.incident} by more than the "
                    "incident window; it belonged to an earlier incident",
                },
            )
            for r in stale
        ]
        return outcomes, [r for r in records if r not in stale]

    @staticmethod
    def _note(record: StreamRecord, incident: Incident, fields: dict[str, Any]) -> dict[str, Any]:
        """Flag a change older than the incident's restore point (another shard was first)."""
        if int(record.approximate_creation_time.timestamp()) >= incident.first_change:
            return fields
        when: datetime = record.approximate_creation_time
        return {
            **fields,
            "reason": f"change at {when.isoformat()} precedes incident {incident.incident}'s "
            "first change (records of another shard arrived first); the restore does not cover it",
        }
