"""The handler's contract: filtering, malformed records, one line per record, failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from change_monitor import handler
from change_monitor.log import Decision
from change_monitor.records import StreamRecord
from change_monitor.strategies.base import LambdaContext, Outcome, Runtime

from .support import LogLines, load_event, records_of, settings_for


class FakeStrategy:
    """Fails the records whose sequence numbers are listed; records what it was given."""

    name = "fake"

    def __init__(self, fail: set[str] | None = None, explode: bool = False) -> None:
        self.fail = fail or set()
        self.explode = explode
        self.seen: list[str] = []

    def process(
        self,
        harmful: Sequence[StreamRecord],
        batch: Sequence[StreamRecord],
        context: LambdaContext | None,
    ) -> list[Outcome]:
        if self.explode:
            raise KeyError("boom")
        self.seen = [r.sequence_number for r in harmful]
        return [Outcome(r, Decision.FAILED if r.sequence_number in self.fail else Decision.REPAIRED) for r in harmful]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, make_runtime: Callable[..., Runtime]) -> Any:
    """Install a fake strategy behind the real handler entry point."""

    def install(strategy: FakeStrategy, **env: str) -> FakeStrategy:
        handler.reset_runtime(make_runtime(settings_for("item", **env)))
        monkeypatch.setattr(handler, "build_strategy", lambda runtime: strategy)
        return strategy

    return install


def seqs(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_events_outside_trigger_events_are_ignored_with_the_reason(fake: Any, logs: LogLines) -> None:
    strategy = fake(FakeStrategy(), DR_TRIGGER_EVENTS="REMOVE")
    event = {"Records": records_of("insert.json", "modify.json", "remove.json")}

    response = handler.lambda_handler(event, None)

    lines = logs.read()
    assert [line["decision"] for line in lines] == ["ignored", "ignored", "repaired"]
    assert lines[0]["reason"] == "INSERT not in DR_TRIGGER_EVENTS (REMOVE)"
    assert lines[1]["reason"] == "MODIFY not in DR_TRIGGER_EVENTS (REMOVE)"
    assert strategy.seen == [event["Records"][2]["dynamodb"]["SequenceNumber"]]
    assert response == {"batchItemFailures": []}


def test_ttl_deletions_are_ignored(fake: Any, logs: LogLines) -> None:
    strategy = fake(FakeStrategy())

    response = handler.lambda_handler(load_event("ttl_delete.json"), None)

    [line] = logs.read()
    assert line["decision"] == "ignored"
    assert line["reason"] == "TTL deletion"
    assert line["table"] == "orders"
    assert line["keys"] == {"pk": {"S": "customer#0001"}, "sk": {"S": "order#0001"}}
    assert strategy.seen == []
    assert response == {"batchItemFailures": []}


def test_malformed_records_are_logged_and_reported_without_crashing(fake: Any, logs: LogLines) -> None:
    strategy = fake(FakeStrategy())
    malformed = records_of("malformed.json")
    good = records_of("remove.json")[0]
    event = {"Records": [good, *malformed]}

    response = handler.lambda_handler(event, None)

    lines = logs.read()
    assert [line["decision"] for line in lines] == ["repaired"] + ["malformed"] * 4
    assert [line["reason"] for line in lines[1:]] == [
        "no dynamodb section",
        "no Keys",
        "unknown eventName 'UPSERT'",
        "no SequenceNumber",
    ]
    assert all(line["level"] == "ERROR" for line in lines[1:])
    assert lines[3]["eventName"] == "UPSERT"
    assert strategy.seen == [good["dynamodb"]["SequenceNumber"]]
    # The first malformed record has no SequenceNumber; neither has the last: both unreportable.
    assert seqs(response) == [
        malformed[1]["dynamodb"]["SequenceNumber"],
        malformed[2]["dynamodb"]["SequenceNumber"],
    ]


def test_a_failed_record_and_every_later_one_are_reported(fake: Any, logs: LogLines) -> None:
    batch = load_event("batch_100.json")
    all_seqs = [r["dynamodb"]["SequenceNumber"] for r in batch["Records"]]
    fake(FakeStrategy(fail={all_seqs[60], all_seqs[40]}))

    response = handler.lambda_handler(batch, None)

    assert seqs(response) == all_seqs[40:]
    lines = logs.read()
    assert len(lines) == 100  # exactly one decision line per record
    assert [line["sequenceNumber"] for line in lines] == all_seqs
    assert {line["decision"] for line in lines[41:60]} == {"repaired"}


def test_when_every_record_fails_the_list_is_returned_not_raised(fake: Any, logs: LogLines) -> None:
    batch = load_event("batch_100.json")
    all_seqs = [r["dynamodb"]["SequenceNumber"] for r in batch["Records"]]
    fake(FakeStrategy(fail=set(all_seqs)))

    response = handler.lambda_handler(batch, None)

    assert seqs(response) == all_seqs


def test_an_unexpected_strategy_error_fails_the_records_instead_of_the_batch(fake: Any, logs: LogLines) -> None:
    fake(FakeStrategy(explode=True))

    response = handler.lambda_handler(load_event("remove.json"), None)

    [line] = logs.read()
    assert line["decision"] == "failed"
    assert line["error"] == "KeyError: 'boom'"
    assert seqs(response) == [load_event("remove.json")["Records"][0]["dynamodb"]["SequenceNumber"]]


def test_an_event_without_records_is_logged(fake: Any, logs: LogLines) -> None:
    fake(FakeStrategy())

    assert handler.lambda_handler({"foo": 1}, None) == {"batchItemFailures": []}
    assert logs.read()[0]["decision"] == "malformed"


def test_log_lines_carry_the_schema_keys(fake: Any, logs: LogLines) -> None:
    fake(FakeStrategy())

    handler.lambda_handler(load_event("remove.json"), None)

    [line] = logs.read()
    assert {"level", "decision", "table", "eventName", "keys", "sequenceNumber", "strategy"} <= set(line)
    assert line["strategy"] == "item"
    assert line["eventName"] == "REMOVE"
    assert line["sequenceNumber"] == "4421584500000000017450439091"
