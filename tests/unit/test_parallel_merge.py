"""dr_infra.bdd.xdist: worker stack numbers never collide, and the controller merges records in order."""

from __future__ import annotations

from types import SimpleNamespace

from dr_infra.bdd import xdist as parallel
from dr_infra.report.journal import Journal, ScenarioRecord, StepRecord


def _worker(index: int, count: int, run_id: str = "20260101t000000-abcd") -> SimpleNamespace:
    return SimpleNamespace(workerinput={"workerid": f"gw{index}", "workercount": count, parallel.RUN_ID_KEY: run_id})


def test_stack_numbers_interleave_across_workers() -> None:
    numbers = [parallel.stack_number(_worker(w, 3), n) for w in range(3) for n in range(1, 6)]
    assert len(set(numbers)) == len(numbers)
    assert [parallel.stack_number(SimpleNamespace(), n) for n in (1, 2, 3)] == [1, 2, 3]


def test_workers_use_the_controllers_run_id() -> None:
    assert parallel.worker_run_id(_worker(1, 2)) == "20260101t000000-abcd"
    assert parallel.worker_run_id(SimpleNamespace()) is None
    assert not parallel.is_worker(SimpleNamespace()) and parallel.is_worker(_worker(0, 2))


def _record(i: int, status: str = "passed") -> ScenarioRecord:
    record = ScenarioRecord(
        id=f"f.feature::t{i}",
        name=f"s{i}",
        feature="f",
        feature_file="f.feature",
        guarantee="g",
        status=status,
    )
    record.steps.append(StepRecord("Given", "x", "passed", 0.1))
    record.evidence["stack"] = {"prefix": f"p{i}"}
    return record


def test_merger_rebuilds_records_in_collection_order() -> None:
    journal = Journal(run_id="r")
    merger = parallel.Merger(journal)
    target = {"name": "embedded", "endpoint": "http://127.0.0.1:1"}
    merger.add_report(parallel.record_payload(_record(2, "failed"), 2, target, []))
    merger.add_report(parallel.record_payload(_record(0), 0, target, []))
    merger.add_report(parallel.record_payload(_record(0), 0, target, []))  # shipped twice: kept once
    worker_journal = Journal(run_id="r", scenarios=[_record(0), _record(1, "interrupted")])
    worker_journal.usage_errors.append("boom")
    merger.add_workeroutput(
        {parallel.OUTPUT_KEY: parallel.worker_output(worker_journal, {"f.feature::t0"}, {"f.feature::t1": 1}, True)}
    )
    merger.finish(2)
    assert [s.id for s in journal.scenarios] == ["f.feature::t0", "f.feature::t1", "f.feature::t2"]
    assert [s.status for s in journal.scenarios] == ["passed", "interrupted", "failed"]
    assert journal.scenarios[0].steps[0].text == "x" and journal.scenarios[0].evidence["stack"]["prefix"] == "p0"
    assert journal.target["workers"] == 2 and journal.usage_errors == ["boom"] and merger.interrupted
