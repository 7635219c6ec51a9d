"""Parallel drills under pytest-xdist (``drdrill run -n 2``): one run, many worker processes, one report.

* The controller makes the run id and hands it to every worker (``workerinput["drdrill_run_id"]``), so all
  resource names and tags of the run share one id.
* Each worker process starts its own target on first use (the plugin's session fixture), so on the
  embedded target every worker has its own server, unless there are more workers than cores (or
  ``--dr-share-target always``): then the controller starts one embedded server and hands its endpoint to every
  worker (``workerinput["drdrill_shared_endpoint"]``), so a waiting drill costs a worker process, not a server.
  On a shared target (one embedded server, LocalStack, AWS) the workers' stack numbers interleave (worker
  ``gwK`` of ``N`` uses K+1, K+1+N, ...), so names never collide.
* A worker ships each finished scenario's record to the controller inside its teardown test report (a
  JSON string attribute, serialised by xdist with the report); whatever was not shipped that way (records
  of drills cut short, collection-time usage errors, leaks) travels in ``workeroutput`` at the worker's
  end. The controller rebuilds the records, puts them back in collection order and writes the one report.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import asdict
from typing import Any

from dr_infra.report.journal import Journal, ScenarioRecord

RUN_ID_KEY = "drdrill_run_id"
ENDPOINT_KEY = "drdrill_shared_endpoint"
OUTPUT_KEY = "drdrill"
REPORT_ATTR = "drdrill_record"


def workerinput(config: Any) -> dict[str, Any] | None:
    """xdist's input dict when ``config`` is a worker's, else ``None``."""
    value = getattr(config, "workerinput", None)
    return value if isinstance(value, dict) else None


def is_worker(config: Any) -> bool:
    return workerinput(config) is not None


def worker_run_id(config: Any) -> str | None:
    """The run id the controller handed to this worker (``None`` outside a worker)."""
    data = workerinput(config)
    return str(data[RUN_ID_KEY]) if data and data.get(RUN_ID_KEY) else None


def worker_endpoint(config: Any) -> str | None:
    """The embedded endpoint the controller shares with this worker (``None``: the worker starts its own)."""
    data = workerinput(config)
    return str(data[ENDPOINT_KEY]) if data and data.get(ENDPOINT_KEY) else None


def share_endpoint(setting: str, workers: object, cores: int) -> bool:
    """Whether xdist workers share the controller's embedded server rather than start one each.

    ``auto``: when there are more workers than cores. Each worker's own server (moto, the stream pollers, a
    Lambda worker process per function) costs about 230 MB and a core's worth of start-up; a waiting drill needs
    none of that, and fault switches are scoped per stack, so drills sharing one endpoint stay apart. Below
    the core count, separate servers keep the moto work spread over the cores.
    """
    if setting in {"always", "never"}:
        return setting == "always"
    return isinstance(workers, int) and workers > max(1, cores)


def _worker_slot(config: Any) -> tuple[int, int]:
    """(index, count) of this worker; (0, 1) outside xdist."""
    data = workerinput(config)
    if not data:
        return 0, 1
    count = max(1, int(data.get("workercount") or 1))
    worker_id = str(data.get("workerid", "gw0"))
    digits = "".join(ch for ch in worker_id if ch.isdigit())
    index = int(digits) if digits else 0
    return index % count, count


def stack_number(config: Any, nth: int) -> int:
    """The run-wide stack number of this process's ``nth`` stack (1-based): unique across workers."""
    index, count = _worker_slot(config)
    return (nth - 1) * count + index + 1


def record_payload(record: ScenarioRecord, order: int, target: dict[str, Any], usage_errors: list[str]) -> str:
    """One scenario's record as a JSON string (what a worker attaches to its teardown report)."""
    return json.dumps(
        {"order": order, "record": asdict(record), "target": target, "usage_errors": list(usage_errors)},
        default=str,
    )


def load_records(raw: list[dict[str, Any]]) -> list[ScenarioRecord]:
    return Journal.from_dict({"run_id": "-", "scenarios": raw}).scenarios


class Merger:
    """The controller's side: collects what workers ship into the controller's journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.order: dict[str, int] = {}
        self.interrupted = False

    def add_record(self, record: ScenarioRecord, order: int | None) -> bool:
        """Add one scenario's record at collection position ``order``; ``False`` when its id is already in."""
        if any(s.id == record.id for s in self.journal.scenarios):
            return False
        self._add(record, order)
        return True

    def add_journal(self, journal: Journal, orders: dict[str, int]) -> list[str]:
        """Fold a whole journal in (``drdrill report --merge``): its records at ``orders[id]``, its usage errors
        and leaks; returns the ids that were already present (the same scenario in two journals)."""
        duplicates = [r.id for r in journal.scenarios if not self.add_record(r, orders.get(r.id))]
        self._target(journal.target)
        self._errors(journal.usage_errors)
        for leak in journal.leaks:
            if leak not in self.journal.leaks:
                self.journal.leaks.append(leak)
        self.interrupted = self.interrupted or journal.status == "interrupted"
        return duplicates

    def _add(self, record: ScenarioRecord, order: int | None) -> None:
        if any(s.id == record.id for s in self.journal.scenarios):
            return
        self.journal.scenarios.append(record)
        if order is not None:
            self.order[record.id] = order

    def _target(self, target: dict[str, Any] | None) -> None:
        if target and not self.journal.target:
            self.journal.target = dict(target)
        if target and target.get("shared_endpoint") and self.journal.target is not None:
            # a worker attached to the controller's embedded server: its own word for it, in the journal
            self.journal.target["workers_shared_endpoint"] = target["shared_endpoint"]

    def _errors(self, errors: list[str]) -> None:
        for line in errors:
            if line not in self.journal.usage_errors:
                self.journal.usage_errors.append(line)

    def add_report(self, payload: str) -> None:
        data = json.loads(payload)
        (record,) = load_records([data["record"]])
        self._add(record, data.get("order"))
        self._target(data.get("target"))
        self._errors(data.get("usage_errors") or [])

    def add_workeroutput(self, output: dict[str, Any]) -> None:
        raw = output.get(OUTPUT_KEY)
        if not raw:
            return
        data = json.loads(raw)
        for order, record in zip(data.get("orders", []), load_records(data.get("records", [])), strict=False):
            self._add(record, order)
        self._target(data.get("target"))
        self._errors(data.get("usage_errors") or [])
        for leak in data.get("leaks") or []:
            if leak not in self.journal.leaks:
                self.journal.leaks.append(leak)
        self.interrupted = self.interrupted or bool(data.get("interrupted"))

    def finish(self, workers: object) -> None:
        """Collection order, as a serial run would list them; the target notes how many workers ran."""
        last = len(self.order) + len(self.journal.scenarios)
        self.journal.scenarios.sort(key=lambda s: self.order.get(s.id, last))
        if isinstance(workers, int) and workers > 0 and self.journal.target:
            self.journal.target["workers"] = workers


def worker_output(journal: Journal, shipped: set[str], orders: dict[str, int], interrupted: bool) -> str:
    """What a worker sends at its end: records not shipped in a report, usage errors, leaks, target."""
    rest = [s for s in journal.scenarios if s.id not in shipped]
    return json.dumps(
        {
            "records": [asdict(s) for s in rest],
            "orders": [orders.get(s.id) for s in rest],
            "target": journal.target,
            "usage_errors": journal.usage_errors,
            "leaks": journal.leaks,
            "interrupted": interrupted,
        },
        default=str,
    )


def worker_pid(node: Any) -> int | None:
    """The process id of an xdist worker started on this machine (execnet's popen gateway), else ``None``.

    xdist internals, fenced here: ``node.gateway._io.popen`` is execnet's ``subprocess.Popen`` of the worker.
    """
    popen = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)
    pid = getattr(popen, "pid", None)
    return pid if isinstance(pid, int) else None


def forward_interrupt(pids: list[int]) -> None:
    """Pass Ctrl-C on to the workers, which stop in order (each tears its drills down and reports)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
