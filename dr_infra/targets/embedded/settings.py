"""Tunable behaviour of the embedded target: its timing profile (instant or AWS's latencies, scaled) and PITR lag.

AWS's timings are far too slow for a test suite, but they are what a DR policy for AWS is about. The embedded
target keeps the *shape* of those timings (jobs go CREATED -> RUNNING -> COMPLETED with ``PercentDone`` rising,
restored tables are CREATING before ACTIVE, the restorable window trails now, mappings and functions pass
through their transitional states, a backup plan runs on its schedule) and lets the profile choose their length:

* ``instant`` (default): jobs and restores finish within a fraction of a second; PITR lag 1 s. Every
  asynchronous state still takes a non-zero time, so drdrill's own flow has to wait for it as on AWS. Functions
  start at once, logs are readable as soon as they are written, a backup plan's clock runs with the wall clock.
* ``aws-scaled``: every latency in :data:`AWS_LATENCIES` (AWS's figure, with the page it comes from) multiplied
  by ``scale`` (default 0.01: a 20-minute restore takes 12 s, the 5-minute PITR lag 3 s, a 12-hour plan
  interval 432 s). A drill under it reports each measured RTO/RPO also as ``aws_equivalent_s`` (AWS seconds:
  :mod:`dr_infra.drill.aws_time`), so ``policies/aws.toml`` can be judged offline (:mod:`dr_infra.targets.timing`).

``pitr_lag_seconds`` set explicitly wins over the profile's lag; likewise ``mapping_transition_seconds`` (how
long an event source mapping stays ``Creating`` / ``Enabling`` / ``Disabling`` / ``Updating``, see
:mod:`esm_lifecycle`), ``function_pending_seconds`` (how long a new function stays ``Pending``, see
:mod:`function_state`) and ``ttl_delete_delay_seconds`` (how long after its TTL an expired item is deleted,
see :mod:`ttl_sweeper`).

The settings in force are the process's :attr:`process_state.Switches.settings` (one embedded server per process).
"""

from __future__ import annotations

from dataclasses import dataclass

AWS_RESTORE_FLOOR_SECONDS = 20 * 60
AWS_BACKUP_JOB_SECONDS = 60
AWS_PITR_LAG_SECONDS = 5 * 60
AWS_MAPPING_TRANSITION_SECONDS = 60
"""An assumed figure: AWS documents no bound ("Lambda can take several minutes to start polling",
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html)."""
AWS_FUNCTION_PENDING_SECONDS = 5
"""An assumed figure for a function outside a VPC
(https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html documents the states, not their length)."""
AWS_TTL_DELETE_SECONDS = 2 * 24 * 3600
""""typically within a few days" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html)."""
PROFILES = ("instant", "aws-scaled")
MIN_SCALE = 0.001
"""Below this, drdrill's own overhead (about a second of polling and process hand-offs per drill) would be
larger than the scaled AWS latencies and dominate every aws_equivalent_s."""


@dataclass(frozen=True)
class AwsLatency:
    """One AWS latency the aws-scaled profile rehearses: its length on AWS and the page it comes from."""

    seconds: float
    page: str
    what: str


AWS_LATENCIES: dict[str, AwsLatency] = {
    "restore": AwsLatency(
        AWS_RESTORE_FLOOR_SECONDS,
        "https://repost.aws/knowledge-center/dynamodb-restore-taking-long",
        "a DynamoDB restore (AWS Backup job or point in time) takes 20 minutes or more, even for a small table",
    ),
    "backup_job": AwsLatency(
        AWS_BACKUP_JOB_SECONDS,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html",
        "an on-demand AWS Backup job of a DynamoDB table takes about a minute for a small table, more with size",
    ),
    "pitr_lag": AwsLatency(
        AWS_PITR_LAG_SECONDS,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html",
        "LatestRestorableDateTime is typically 5 minutes before the current time",
    ),
    "mapping_start": AwsLatency(
        AWS_MAPPING_TRANSITION_SECONDS,
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html",
        "an event source mapping stays Creating / Enabling before it polls (several minutes documented, no bound;"
        " 60 s assumed)",
    ),
    "function_pending": AwsLatency(
        AWS_FUNCTION_PENDING_SECONDS,
        "https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html",
        "a new function is Pending before Active (5 s assumed outside a VPC)",
    ),
    "function_start": AwsLatency(
        1.0,
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html",
        "a cold start runs the Init phase (runtime and handler start) before the first invocation; AWS bounds"
        " it at 10 s, a small Python function takes about a second",
    ),
    "log_delivery": AwsLatency(
        5.0,
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html",
        "a function's log lines reach CloudWatch Logs asynchronously, seconds after they are written (no"
        " figure is documented: 5 s assumed)",
    ),
    "ttl_delete": AwsLatency(
        AWS_TTL_DELETE_SECONDS,
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html",
        "an expired item is deleted typically within a few days of its TTL (2 days assumed)",
    ),
    "table_create": AwsLatency(
        20.0,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html",
        "a new table is CREATING before ACTIVE (no figure is documented: 20 s assumed for a small on-demand table)",
    ),
    "plan_schedule": AwsLatency(
        1.0,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html",
        "a backup plan's schedule runs in real time: one second of plan time per second (its 12-hour interval"
        " takes 12 hours)",
    ),
}
"""What aws-scaled rehearses, each multiplied by ``scale``."""


@dataclass(frozen=True)
class EmbeddedSettings:
    """One consistent set of timings; replace the whole object to change it."""

    latency_profile: str = "instant"
    scale: float = 0.01
    pitr_lag_seconds: float | None = None
    mapping_transition_seconds: float | None = None
    function_pending_seconds: float | None = None
    ttl_delete_delay_seconds: float | None = None

    @property
    def pitr_lag(self) -> float:
        """How far LatestRestorableDateTime trails now: explicit, else the profile's."""
        if self.pitr_lag_seconds is not None:
            return self.pitr_lag_seconds
        if self.latency_profile == "aws-scaled":
            return AWS_PITR_LAG_SECONDS * self.scale
        return 1.0

    @property
    def restore_seconds(self) -> float:
        """How long a restore job or PITR restore stays RUNNING / CREATING."""
        if self.latency_profile == "aws-scaled":
            return AWS_RESTORE_FLOOR_SECONDS * self.scale
        return 0.2

    @property
    def plan_time_scale(self) -> float:
        """Wall seconds per second of a backup plan's clock (:mod:`backup_schedule`): a plan's 12 hours take
        12 hours (instant; a drill advances the clock instead) or 12 h x ``scale`` (aws-scaled)."""
        if self.latency_profile == "aws-scaled" and self.scale > 0:
            return self.scale
        return 1.0

    def aws(self, latency: str, instant: float = 0.0) -> float:
        """``latency`` of :data:`AWS_LATENCIES` under this profile: scaled under aws-scaled, ``instant`` otherwise."""
        if self.latency_profile == "aws-scaled":
            return AWS_LATENCIES[latency].seconds * self.scale
        return instant

    @property
    def function_start_seconds(self) -> float:
        """How long a function's cold start delays its first invocation."""
        return self.aws("function_start")

    @property
    def log_delivery_seconds(self) -> float:
        """How long after it is written a function's log line becomes readable."""
        return self.aws("log_delivery")

    @property
    def backup_job_seconds(self) -> float:
        """How long a backup job stays RUNNING."""
        if self.latency_profile == "aws-scaled":
            return AWS_BACKUP_JOB_SECONDS * self.scale
        return 0.1

    @property
    def mapping_transition(self) -> float:
        """How long an event source mapping stays in a transitional state (Creating, Enabling, ...)."""
        if self.mapping_transition_seconds is not None:
            return self.mapping_transition_seconds
        if self.latency_profile == "aws-scaled":
            return AWS_MAPPING_TRANSITION_SECONDS * self.scale
        return 0.3

    @property
    def function_pending(self) -> float:
        """How long a new function stays Pending before Active."""
        if self.function_pending_seconds is not None:
            return self.function_pending_seconds
        if self.latency_profile == "aws-scaled":
            return AWS_FUNCTION_PENDING_SECONDS * self.scale
        return 0.15

    @property
    def ttl_delete_delay(self) -> float:
        """How long after its TTL time an expired item is deleted at the latest."""
        if self.ttl_delete_delay_seconds is not None:
            return self.ttl_delete_delay_seconds
        if self.latency_profile == "aws-scaled":
            return AWS_TTL_DELETE_SECONDS * self.scale
        return 1.0


def validate(changes: dict[str, object]) -> dict[str, object]:
    """``changes`` to :class:`EmbeddedSettings` if every one is valid (a known profile, non-negative numbers, a
    scale in [:data:`MIN_SCALE`, 1]); else :class:`ValueError` naming the first that is not."""
    profile = changes.get("latency_profile")
    if profile is not None and profile not in PROFILES:
        raise ValueError(f"unknown latency profile {profile!r}; use one of {', '.join(PROFILES)}")
    for key in (
        "scale",
        "pitr_lag_seconds",
        "mapping_transition_seconds",
        "function_pending_seconds",
        "ttl_delete_delay_seconds",
    ):
        value = changes.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            raise ValueError(f"{key} must be a non-negative number, got {value!r}")
    scale = changes.get("scale")
    if scale is not None and not MIN_SCALE <= float(scale) <= 1:  # type: ignore[arg-type]
        raise ValueError(f"scale must lie in [{MIN_SCALE}, 1], got {scale!r}")
    return changes
