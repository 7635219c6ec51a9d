"""The harmful change a scenario made and the recovery it caused: the moments a drill observed (:class:`Incident`).

Its own module because two jobs read it: the drill's steps fill it in as they observe the change and the recovery
(:class:`dr_infra.drill.state.Drill` owns one per scenario) and the measures turn it into RTO and RPO
(:mod:`dr_infra.drill.measures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dr_infra.drill.inject import Injection


@dataclass
class Incident:
    """The harmful change under test and what recovery it caused."""

    injection: Injection | None = None
    change_at: datetime | None = None
    change_stream_at: datetime | None = None
    """The harmful write's stream record ApproximateCreationDateTime (DynamoDB's clock, rounded down to the second
    on AWS); ``change_at`` is the client clock."""
    table_lost: bool = False
    restore_job_id: str | None = None
    restored_table: str | None = None
    recovery_point_arn: str | None = None
    recovery_point_at: datetime | None = None
    restore_time: datetime | None = None
    monitor_invoked_at: datetime | None = None
    restore_started_at: datetime | None = None
    restore_completed_at: datetime | None = None
    table_active_at: datetime | None = None
    verified_at: datetime | None = None
    repaired_at: datetime | None = None
