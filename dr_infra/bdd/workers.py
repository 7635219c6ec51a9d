"""The pytest side of parallel drills (``-n N``): what a worker ships, what the controller merges and signals.

The protocol itself (payloads, the merger, interrupt forwarding) is :mod:`dr_infra.bdd.xdist`; this module keeps
the per-run pytest state it needs (stash keys on the config) so the plugin's xdist hooks are one call each.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from dr_infra.bdd import xdist as parallel
from dr_infra.bdd.session import DrillSession, drill_session
from dr_infra.errors import DrDrillError
from dr_infra.report.journal import ScenarioRecord

SHIPPED = pytest.StashKey[dict[str, int]]()
"""Worker: the records it attached to teardown reports, by id, with their collection order."""

MERGER = pytest.StashKey[parallel.Merger]()
"""Controller: the one journal's merger of what the workers ship."""

WORKER_PIDS = pytest.StashKey[list[int]]()
"""Controller: the workers' process ids (Ctrl-C is forwarded to them)."""


def controls_workers(config: pytest.Config) -> bool:
    """Whether this process is an xdist controller (it runs no scenario itself)."""
    return not parallel.is_worker(config) and bool(getattr(config.option, "numprocesses", None))


def interrupt_workers(config: pytest.Config, pids: list[int]) -> None:
    drill_session(config).interrupted = True
    parallel.forward_interrupt(pids)


def ship(item: pytest.Item, report: pytest.TestReport, record: ScenarioRecord, ds: DrillSession) -> None:
    """Worker: attach the finished record to the teardown report, which xdist sends to the controller."""
    items = item.session.items
    order = items.index(item) if item in items else len(items) + len(ds.journal.scenarios)
    item.config.stash.setdefault(SHIPPED, {})[record.id] = order
    payload = parallel.record_payload(record, order, ds.journal.target, ds.journal.usage_errors)
    setattr(report, parallel.REPORT_ATTR, payload)


def worker_output(config: pytest.Config, ds: DrillSession) -> None:
    """Worker, at session end: what it did not ship in its test reports (cut-short drills, usage errors, leaks)."""
    shipped = config.stash.get(SHIPPED, {})
    output = parallel.worker_output(ds.journal, set(shipped), shipped, ds.interrupted)
    config.workeroutput[parallel.OUTPUT_KEY] = output  # type: ignore[attr-defined]


def merger(config: pytest.Config) -> parallel.Merger:
    """Controller: the run's merger, made on first use."""
    if MERGER not in config.stash:
        config.stash[MERGER] = parallel.Merger(drill_session(config).journal)
    return config.stash[MERGER]


def finish_merge(config: pytest.Config, ds: DrillSession) -> None:
    """Controller, at session end: the workers' interruptions and leftovers join the journal."""
    found = config.stash.get(MERGER, None)
    if found is not None:
        ds.interrupted = ds.interrupted or found.interrupted
        found.finish(getattr(config.option, "numprocesses", None))


def configure_node(node: Any) -> None:
    """Controller: every worker runs under the controller's run id, and shares its embedded server when there
    are more workers than cores (:func:`dr_infra.bdd.xdist.share_endpoint`)."""
    ds = drill_session(node.config)
    node.workerinput[parallel.RUN_ID_KEY] = ds.run_id
    pid = parallel.worker_pid(node)
    if pid is not None:
        node.config.stash.setdefault(WORKER_PIDS, []).append(pid)
    workers = getattr(node.config.option, "numprocesses", None)
    setting = str(node.config.getoption("--dr-share-target"))
    if ds.target_name == "embedded" and parallel.share_endpoint(setting, workers, os.cpu_count() or 1):
        try:
            endpoint = ds.start_target().endpoint_url
        except DrDrillError as exc:
            raise pytest.UsageError(str(exc)) from None
        node.workerinput[parallel.ENDPOINT_KEY] = endpoint
