"""How long a run would take: each scenario's wall time from its steps, serial and with N workers.

A staging drill on AWS is dominated by waits AWS imposes, not by drdrill: a DynamoDB restore takes 20 minutes
or more, a point-in-time restore cannot target a moment newer than ``LatestRestorableDateTime`` (about 5 minutes
behind now), an AWS Backup job takes a minute or more, and a new event source mapping takes a while before its
poller reads the stream. A run of 21 restoring scenarios one after another is hours; the same scenarios with
enough workers take about as long as the slowest one. This module walks each scenario's steps in order, adds the
phase each step waits for (:class:`Timings`, one set per target), and schedules the scenarios on N workers the
way xdist hands them out (each to the first free worker, in collection order).

Sources of the AWS figures (the numbers are the documented floors, or stated assumptions where AWS documents
no figure; :data:`AWS_SOURCES` lists the pages):

* restore floor 20 min: https://repost.aws/knowledge-center/dynamodb-restore-taking-long
* PITR lag ~5 min: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html
* backup job: https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html (minutes, more with
  advanced DynamoDB backup)
* mapping start ("Lambda can take several minutes to start polling"; the drill waits for the mapping to be
  Enabled before its first change, and for it to be deleted at teardown):
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html , and stream polling:
  https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
* how many drills may be in flight: 50 concurrent restores of any type per account
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableFromBackup.html), 500
  simultaneous table operations (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html,
  LimitExceededException), 1,000 concurrent Lambda executions per Region by default
  (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dr_infra.bdd.drill_order import longest_first
from dr_infra.bdd.needs import STRATEGY_STEP, TABLE_LOSS_STEP
from dr_infra.errors import ConfigError
from dr_infra.targets.embedded import settings as embedded_settings
from dr_infra.targets.timing import DEFAULT_SCALE

AWS_SOURCES = (
    "https://repost.aws/knowledge-center/dynamodb-restore-taking-long",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html",
    "https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html",
    "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableFromBackup.html",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html",
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html",
)

AWS_CONCURRENT_RESTORES = 50
"""Up to 50 concurrent restores (any type) per account (RestoreTableFromBackup API reference)."""
AWS_TABLE_OPERATIONS = 500
"""Up to 500 simultaneous CreateTable/UpdateTable/DeleteTable/restore operations per account."""
AWS_LAMBDA_CONCURRENCY = 1000
"""Default concurrent executions per Region; a drill runs at most two functions at once (monitor, re-protect)."""
TABLE_OPERATIONS_PER_DRILL = 3
"""Protected table, incident ledger, restored table: the table operations one drill can have in flight."""


@dataclass(frozen=True)
class Timings:
    """One target's durations, in seconds, for the phases a drill waits for."""

    label: str
    provision_s: float
    """Create the stack: tables ACTIVE, roles, functions Active, vault, plan, selection."""
    seed_items_per_s: float
    change_s: float
    """A When step: the quiet second before the change (PITR's one-second granularity) plus the writes."""
    mapping_start_s: float
    """The event source mapping's Creating -> Enabled before the first change (and Deleting at teardown)."""
    detect_s: float
    """Change -> monitor invoked -> restore started: stream polling and the monitor's run."""
    backup_job_s: float
    plan_run_s: float
    """``the backup plan has run N times``: one scheduled run (AWS: the plan's 12-hour schedule; embedded: the
    plan clock is advanced, then the job runs)."""
    pitr_lag_s: float
    restore_s: float
    """A restore job (or point-in-time restore) from start to the restored table ACTIVE."""
    restore_overhead_s: float
    """The drill's polling and the restored table's start on top of the restore itself."""
    repair_per_item_s: float
    verify_s: float
    reprotect_s: float
    settle_s: float
    """``exactly N restore jobs started`` reads until the count is stable for this long."""
    step_s: float
    teardown_s: float
    worker_start_s: float
    """One worker process's start: imports, the target's start (the embedded server and its Lambda worker)."""
    shared_worker_start_s: float
    """A worker's start when it shares the run's embedded server (more workers than cores); 0: not applicable."""
    run_overhead_s: float
    """The run's own start and end: imports, the target's start, writing the report."""
    cpu_share: float
    """The share of a drill's wall time this machine's CPU is busy (embedded: the target runs here too)."""
    max_workers: int
    """Drills that may be in flight at once (the account's quotas, or this machine's capacity)."""
    limit: str
    """Why :attr:`max_workers` is what it is."""


AWS_TIMINGS = Timings(
    label="aws (AWS's documented durations)",
    provision_s=90.0,  # assumption: CreateTable -> ACTIVE, IAM propagation, functions Pending -> Active
    seed_items_per_s=1000.0,  # BatchWriteItem, 25 items per call
    change_s=1.5,
    mapping_start_s=float(embedded_settings.AWS_MAPPING_TRANSITION_SECONDS),  # assumed: "several minutes"
    detect_s=5.0,  # stream polling (four times a second per shard) and the monitor's run
    backup_job_s=float(embedded_settings.AWS_BACKUP_JOB_SECONDS),
    plan_run_s=12 * 3600.0,  # StackSpec's cron(0 */12 * * ? *): the drill waits for each real run
    pitr_lag_s=float(embedded_settings.AWS_PITR_LAG_SECONDS),
    restore_s=float(embedded_settings.AWS_RESTORE_FLOOR_SECONDS),
    restore_overhead_s=10.0,
    repair_per_item_s=0.02,
    verify_s=5.0,
    reprotect_s=30.0,
    settle_s=2.5,  # 5 x the aws target's 0.5 s poll interval
    step_s=0.5,
    teardown_s=60.0,
    worker_start_s=5.0,
    shared_worker_start_s=0.0,
    run_overhead_s=20.0,
    cpu_share=0.02,
    max_workers=min(
        AWS_CONCURRENT_RESTORES, AWS_TABLE_OPERATIONS // TABLE_OPERATIONS_PER_DRILL, AWS_LAMBDA_CONCURRENCY // 2
    ),
    limit=f"AWS allows {AWS_CONCURRENT_RESTORES} concurrent restores per account "
    f"({AWS_TABLE_OPERATIONS} table operations, {AWS_LAMBDA_CONCURRENCY} Lambda executions)",
)


def embedded_timings(profile: str = "instant", scale: float = DEFAULT_SCALE, cores: int = 2) -> Timings:
    """The embedded target's durations under a latency profile (measured on 2 cores, see BENCHMARKS.md).

    ``aws-scaled`` is AWS's floors times ``scale`` (:mod:`dr_infra.targets.embedded.settings`); the fixed
    costs (provisioning, the quiet second, polling) are what the embedded target takes either way.
    """
    chosen = embedded_settings.EmbeddedSettings(latency_profile=profile, scale=scale)
    return Timings(
        label=f"embedded ({profile}{f' x{scale:g}' if profile == 'aws-scaled' else ''})",
        provision_s=1.0 + 2 * chosen.function_pending,  # two functions Pending -> Active, roles, vault, plan
        seed_items_per_s=4000.0,
        change_s=1.0,
        mapping_start_s=chosen.mapping_transition,
        detect_s=0.6,
        backup_job_s=chosen.backup_job_seconds + 0.1,
        plan_run_s=chosen.backup_job_seconds + 0.3,
        pitr_lag_s=chosen.pitr_lag,
        restore_s=chosen.restore_seconds,
        restore_overhead_s=0.3,
        repair_per_item_s=0.035,
        verify_s=0.15,
        reprotect_s=2.0,
        settle_s=0.5,  # 5 x the embedded target's 0.1 s poll interval
        step_s=0.01,
        teardown_s=0.15,
        worker_start_s=4.0,
        # measured 2026-12-02 (shipped features, aws-scaled, idle 2-core machine, workers forked from one warmed
        # interpreter, dr_infra/prefork): the first drill on every worker started 2.9 s into the run with -n 8,
        # 4.1 s with -n 16 (plain new interpreters: 8.4 s with -n 8)
        shared_worker_start_s=0.5,
        run_overhead_s=8.0,
        cpu_share=0.45 if profile == "instant" else 0.15,  # measured: user+sys CPU over wall, serial runs
        # measured 2026-12-02, shipped features under aws-scaled on 2 idle cores, longest first, forked workers:
        # -n 8 took 48.8 s and -n 16 about 40 s with the same verdicts (the 15 restore drills in one wave); before
        # the forked workers, -n 20 stretched every drill so far that one RPO, scaled x100 into AWS time,
        # crossed its target (904 s against 900 s)
        max_workers=max(1, 8 * cores),
        limit=f"the drills, their functions and the shared embedded server all run on this machine's {cores} "
        "core(s): beyond 8 drills a core each drill only stretches",
    )


_SECONDS = re.compile(r"within (?P<s>\d+(?:\.\d+)?) seconds?")
_COUNT = re.compile(r"(?P<n>\d+) items?")
_PLAN_RUNS = re.compile(r"^the backup plan has run (?P<n>\d+) times?$")
_TAKE = re.compile(r"^restore jobs take (?P<s>\d+) seconds?$")
_THROTTLED = re.compile(r"is throttled (?P<n>\d+) times?$")
_CANARY = re.compile(r"^canary writes every (?P<ms>\d+) milliseconds?$")


def _within(text: str, default: float) -> float:
    found = _SECONDS.search(text)
    return float(found.group("s")) if found else default


@dataclass
class _Walk:
    """What the steps so far have set up: the strategy, the restore's length, the harm, the monitor attached."""

    t: Timings
    restore_s: float
    strategy: str = "backup"
    restored: bool = False
    harmed: int = 0
    table_loss: bool = False
    attached: bool = False


def _setup_seconds(text: str, walk: _Walk) -> float | None:
    """A step that builds the drill (table, recovery point, plan runs, faults); None when ``text`` is not one."""
    t = walk.t
    if text.startswith("a DR-protected table"):
        count = _COUNT.search(text)
        return t.provision_s + (int(count.group("n")) if count else 0) / t.seed_items_per_s
    if text == "a recovery point of the table exists":
        return t.backup_job_s
    if (runs := _PLAN_RUNS.match(text)) is not None:
        return int(runs.group("n")) * t.plan_run_s
    if (taken := _TAKE.match(text)) is not None:
        walk.restore_s = float(taken.group("s"))
        return 0.0
    if (canary := _CANARY.match(text)) is not None:
        return min(1.0, int(canary.group("ms")) / 1000 * 3)
    if (throttled := _THROTTLED.search(text)) is not None:
        return int(throttled.group("n")) * 0.8  # botocore's standard-mode backoff between retries
    return None


def _change_seconds(text: str, walk: _Walk) -> float:
    """A When step: the change, and the monitor's mapping starting before the first one."""
    t = walk.t
    count = _COUNT.search(text)
    walk.harmed = max(walk.harmed, int(count.group("n")) if count else 1)
    walk.table_loss = walk.table_loss or text == TABLE_LOSS_STEP
    seconds = t.change_s + (0.0 if walk.attached else t.mapping_start_s)  # the monitor attaches before the first
    walk.attached = True
    return seconds


def _recovery_seconds(text: str, walk: _Walk) -> float | None:
    """A step that waits for the recovery (restore, repair, or its failure); None when ``text`` is not one."""
    t = walk.t
    if text.startswith("a restore job completes within") and not walk.restored:
        walk.restored = True
        lag = t.pitr_lag_s if walk.strategy == "pitr" and not walk.table_loss else 0.0
        return (0.0 if walk.table_loss else t.detect_s) + lag + walk.restore_s + t.restore_overhead_s
    if text.startswith("the table is repaired in place within"):
        return t.detect_s + walk.harmed * t.repair_per_item_s
    if text.startswith("the restore fails within"):
        return t.detect_s + walk.restore_s + t.restore_overhead_s
    if text.startswith("the restore could not be started within"):
        return _within(text, t.detect_s)
    if text.startswith("the change is reported as never detected within"):
        return min(_within(text, 0.0), 3 * t.detect_s)
    return None


def _check_seconds(text: str, walk: _Walk) -> float | None:
    """A step that checks the monitor, the restore count or the restored table; None when ``text`` is not one."""
    t = walk.t
    if text == "the change monitor's event source mapping is disabled":
        walk.attached = True
        return 2 * t.mapping_start_s  # attached (Creating -> Enabled), then Disabling -> Disabled
    if text == "the change monitor was never invoked":
        return 3.0 + t.detect_s
    if text == "the change monitor logged no recovery point before the change":
        return t.detect_s
    if text.startswith("exactly") and text.endswith("started"):
        return t.settle_s
    if text == "the restored table is protected again":
        return t.reprotect_s
    if text.startswith(("the restored table matches", "no data written before", "at most")):
        return t.verify_s
    return None


def _step_seconds(kind: str, text: str, walk: _Walk) -> float:
    """One step's phase, in seconds (a step that waits for nothing: :attr:`Timings.step_s`)."""
    chosen = STRATEGY_STEP.match(text)
    if chosen:
        walk.strategy = chosen.group("strategy")
    seconds = _setup_seconds(text, walk)
    if seconds is None and kind == "when":
        seconds = _change_seconds(text, walk)
    for phase in (_recovery_seconds, _check_seconds):
        if seconds is None:
            seconds = phase(text, walk)
    return walk.t.step_s if seconds is None else seconds


def scenario_seconds(steps: Sequence[tuple[str, str]], t: Timings) -> float:
    """One scenario's wall time: each step's phase, in order, then teardown."""
    walk = _Walk(t=t, restore_s=t.restore_s)
    total = 0.0
    for kind, raw in steps:
        total += _step_seconds(kind, raw.strip(), walk)
    return round(total + t.teardown_s + (t.mapping_start_s if walk.attached else 0.0), 3)


def makespan(durations: Sequence[float], workers: int, t: Timings, cores: int = 2) -> float:
    """Wall time of ``durations`` on ``workers`` workers, as ``drdrill run -n`` schedules them: longest first, each
    to the worker with the least to do (:func:`dr_infra.bdd.drill_order.longest_first`).

    With one worker the run is serial in this process (no worker start). With more, every worker starts first;
    on the embedded target the machine's CPU is a floor too (the drills' CPU seconds over its cores). Workers
    beyond the cores share the run's one embedded server (:mod:`dr_infra.bdd.xdist`), so each starts lighter
    (:attr:`Timings.shared_worker_start_s`), but they start on the same cores.
    """
    if not durations:
        return 0.0
    if workers <= 1:
        return round(sum(durations) + t.run_overhead_s, 1)
    lists = longest_first(durations, min(workers, len(durations)))
    busiest = max(sum(durations[i] for i in indices) for indices in lists)
    cores = max(1, cores)
    each = t.shared_worker_start_s if t.shared_worker_start_s and workers > cores else t.worker_start_s
    start = each * max(1.0, workers / cores)  # workers start at once, CPU-bound
    cpu_floor = (sum(durations) * t.cpu_share + workers * each) / cores
    return round(max(busiest + start, cpu_floor) + t.run_overhead_s, 1)


def workers_for(durations: Sequence[float], budget_s: float | None, t: Timings, cores: int = 2) -> int:
    """The fewest workers whose estimate fits ``budget_s``; with no budget, the fewest that reach the floor.

    Never more than the target allows at once (:attr:`Timings.max_workers`) nor more than the scenarios.
    """
    ceiling = max(1, min(t.max_workers, len(durations)))
    estimates = {n: makespan(durations, n, t, cores) for n in range(1, ceiling + 1)}
    if budget_s is not None:
        fitting = [n for n, wall in estimates.items() if wall <= budget_s]
        return min(fitting) if fitting else ceiling
    best = min(estimates.values())
    return min(n for n, wall in estimates.items() if wall <= best * 1.05)


def estimate(
    durations: Sequence[float],
    t: Timings,
    workers: int | None = None,
    budget_s: float | None = None,
    cores: int = 2,
) -> dict[str, Any]:
    """``duration_estimate_s`` (serial, concurrent, workers) plus how it was reached.

    ``workers``: the run's ``-n`` when given; else the fewest that fit ``budget_s``; else the fewest that reach
    the floor (the slowest drill plus start-up).
    """
    chosen = workers if workers is not None else workers_for(durations, budget_s, t, cores)
    fit = workers_for(durations, budget_s, t, cores) if budget_s is not None else None
    return {
        "serial": makespan(durations, 1, t, cores),
        "concurrent": makespan(durations, chosen, t, cores),
        "workers": chosen,
        "details": {
            "timings": t.label,
            "slowest_drill_s": round(max(durations, default=0.0), 1),
            "budget_s": budget_s,
            "workers_for_budget": fit,
            "fits_budget": None if budget_s is None else makespan(durations, fit or 1, t, cores) <= budget_s,
            "max_workers": t.max_workers,
            "max_workers_why": t.limit,
            "sources": list(AWS_SOURCES) if t.label.startswith(("aws", "embedded (aws-scaled")) else [],
        },
    }


def timings_for(target: str, profile: str | None = None, cores: int = 2, scale: float = DEFAULT_SCALE) -> Timings:
    """The durations ``drdrill plan``/``run`` assume for ``target`` (``profile``: the embedded latency profile,
    ``scale``: aws-scaled's wall seconds per AWS second, as the run's ``--embedded-scale``)."""
    if target == "embedded":
        return embedded_timings(profile or "instant", scale, cores=cores)
    if target == "aws":
        return AWS_TIMINGS
    # LocalStack answers at emulator speed but probes its capabilities at start; embedded-like waits, no quotas.
    return replace(embedded_timings("instant", cores=cores), label="localstack (emulator speed, like embedded)")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | None, option: str = "--max-duration") -> float | None:
    """``60m``, ``1h30m``, ``90s``, ``2h`` or plain seconds (``3600``) -> seconds; anything else is a usage error."""
    if text is None or not str(text).strip():
        return None
    cleaned = str(text).strip().lower()
    try:
        seconds = float(cleaned)
    except ValueError:
        if _DURATION.sub("", cleaned).strip():
            seconds = -1.0
        else:
            seconds = sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(cleaned))
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ConfigError(f"{option} {text!r} is not a duration: use a number and a unit (s, m, h), e.g. 60m or 1h30m")
    return seconds


def format_seconds(seconds: float) -> str:
    """``4h 12m``, ``25m 30s``, ``48 s``: how a person reads a wall time."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
