"""The step vocabulary: no duplicate patterns, every documented sentence matches exactly one step, and a step
hidden in a description (mistyped or missing keyword) is told apart from prose."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dr_infra.bdd.bdd_internals import step_function_context_registry
from dr_infra.bdd.collect import hidden_steps

STEP_MODULES = ("steps.given", "steps.when", "steps.then", "steps.then_chaos", "steps.posture")


def _contexts() -> list[Any]:
    for name in STEP_MODULES:
        importlib.import_module(name)
    found = [c for c in step_function_context_registry.values() if c.step_func.__module__ in STEP_MODULES]
    unique = {id(c.step_func): c for c in found}  # a module imported twice must not count double
    return list(unique.values())


def _pattern(context: Any) -> str:
    parser = context.parser
    raw = getattr(parser, "regex", None) or getattr(parser, "name", parser)
    return str(getattr(raw, "pattern", raw))


def test_vocabulary_is_loaded() -> None:
    kinds = Counter(c.type for c in _contexts())
    assert kinds["given"] >= 8 and kinds["when"] >= 5 and kinds["then"] >= 15


def test_no_two_definitions_of_one_type_share_a_pattern() -> None:
    seen = Counter((c.type, _pattern(c)) for c in _contexts())
    duplicates = [key for key, n in seen.items() if n > 1]
    assert not duplicates


SENTENCES = [
    ("given", 'a DR-protected table "orders" with 100 items'),
    ("given", 'a DR-protected table "orders" with 1 item'),
    ("given", 'the table holds the item "customer-42"'),
    ("given", 'the change monitor restores with the "pitr" strategy'),
    ("given", 'the change monitor restores with the "backup" strategy'),
    ("given", 'the change monitor reacts to "REMOVE" events'),
    ("given", 'the change monitor reacts to "INSERT" event'),
    ("given", "a recovery point of the table exists"),
    ("given", "the backup plan has run 3 times"),
    ("given", "the backup plan has run 1 time"),
    ("given", "the DR policy requires an RTO of 60 seconds and an RPO of 5 seconds"),
    ("given", "the DR policy requires an RTO of 1 second and an RPO of 1 second"),
    ("given", "canary writes every 200 milliseconds"),
    ("given", "restore jobs take 5 seconds"),
    ("given", "restore jobs take 1 second"),
    ("given", "restore jobs fail"),
    ("given", "starting a restore is denied"),
    ("given", 'the "DescribeRestoreJob" operation is throttled 3 times'),
    ("given", 'the "StartRestoreJob" operation is throttled 1 time'),
    ("given", "the change monitor fails its next 2 invocations"),
    ("given", "the change monitor times out on its next 1 invocation"),
    ("given", "the change monitor's event source mapping is disabled"),
    ("when", "3 items are deleted"),
    ("when", "1 item is deleted"),
    ("when", "1 item is modified"),
    ("when", "7 items are modified"),
    ("when", "5 items are inserted"),
    ("when", "1 item is inserted"),
    ("when", 'the item "customer-42" is deleted'),
    ("when", 'the item "customer-42" is modified'),
    ("when", "the table is deleted"),
    ("when", "the last stream records are delivered again"),
    ("then", "a restore job completes within 60 seconds"),
    ("then", "a restore job completes within 1 second"),
    ("then", "a restore job completes within the DR policy's RTO"),
    ("then", "the table is repaired in place within the DR policy's RTO"),
    ("then", "at most the DR policy's RPO of writes were lost"),
    ("then", "the restored table matches the table as it was before the change"),
    ("then", "the table is repaired in place within 5 seconds"),
    ("then", "exactly 1 restore job started"),
    ("then", "exactly 2 restore jobs started"),
    ("then", "the change monitor logged the REMOVE event"),
    ("then", "no data written before the change was lost"),
    ("then", "at most 2 seconds of writes were lost"),
    ("then", "at most 1 second of writes was lost"),
    ("then", "the restored table is protected again"),
    ("then", "the RTO and RPO meet the DR policy"),
    ("then", "point-in-time recovery is enabled on the table"),
    ("then", "the table's stream carries new and old images"),
    ("then", "the backup plan runs every 12 hours and keeps recovery points for 35 days"),
    ("then", "the backup plan runs every 1 hour and keeps recovery points for 1 day"),
    ("then", "the backup plan meets the DR policy"),
    ("then", "the backup selection covers the table"),
    ("then", "the change monitor can start restore jobs and pass only the backup restore role"),
    ("then", "the event source mapping is enabled at LATEST with ReportBatchItemFailures"),
    ("then", 'the journal counts 2 throttles of "StartRestoreJob"'),
    ("then", 'the journal counts 1 throttle of "DescribeTable"'),
    ("then", "the change monitor logged no recovery point before the change"),
    ("then", "the report notes that the RPO cannot be met for changes before the first backup"),
    ("then", "the change monitor failed 2 invocations before the restore started"),
    ("then", "the change monitor failed 1 invocation before the restore started"),
    ("then", "the change is reported as never detected within 20 seconds"),
    ("then", "the change monitor was never invoked"),
]


@pytest.mark.parametrize(("kind", "sentence"), SENTENCES, ids=[s for _, s in SENTENCES])
def test_each_documented_sentence_matches_exactly_one_definition(kind: str, sentence: str) -> None:
    matching = [c for c in _contexts() if c.type in (kind, None) and c.parser.is_matching(sentence)]
    assert len(matching) == 1, [_pattern(c) for c in matching]
    others = [c for c in _contexts() if c.type not in (kind, None) and c.parser.is_matching(sentence)]
    assert not others, f"{sentence!r} would also match a {others[0].type} step: {_pattern(others[0])}"


@pytest.mark.parametrize(
    "sentence",
    [
        "3 items are deleted quickly",
        "the table is deleted twice",
        "a restore job completes within sixty seconds",
    ],
)
def test_extra_words_do_not_match(sentence: str) -> None:
    assert not [c for c in _contexts() if c.parser.is_matching(sentence)]


FEATURES = Path(__file__).resolve().parents[2] / "features"


def _hidden(tmp_path: Path, description_line: str) -> list[str]:
    path = tmp_path / "x.feature"
    path.write_text(
        f"Feature: x\n  Scenario: s\n    {description_line}\n    Then the table is deleted\n", encoding="utf-8"
    )
    return hidden_steps(path, _contexts())


@pytest.mark.parametrize("path", sorted(FEATURES.rglob("*.feature")), ids=lambda p: p.name)
def test_shipped_descriptions_are_prose(path: Path) -> None:
    assert hidden_steps(path, _contexts()) == []


@pytest.mark.parametrize(
    "line",
    [
        'Gven a DR-protected table "orders" with 5 items',
        "Wehn 3 items are deleted",
        "Adn the table is deleted",
        "Thne a restore job completes within 60 seconds",
        "Thn a restore job complete within 60 second",
        "3 items are deleted",
        'given a DR-protected table "orders" with 5 items',
        "Scenaro: hidden",
        "Scenario Outlin: hidden",
        "Backgroud: shared",
    ],
)
def test_a_step_or_block_with_a_mistyped_keyword_is_found(tmp_path: Path, line: str) -> None:
    problems = _hidden(tmp_path, line)
    assert len(problems) == 1 and ":3: " in problems[0] and "never run" in problems[0]


@pytest.mark.parametrize(
    "line",
    [
        "The table is deleted by a bad deploy.",
        "The restored table matches the table as it was before the change.",
        "An incident starts when the table is deleted",
        "given that restore jobs take 5 seconds, the RTO holds",
        "and the data comes back exactly as it was",
        "Ten items are deleted every night by the batch job",
        "Give the table a meaningful name",
        "About 3 items are deleted",
        "Rules: one restore per incident",
        "Note: embedded target only",
        "Examples: see the README",
    ],
)
def test_prose_is_not_a_step(tmp_path: Path, line: str) -> None:
    assert _hidden(tmp_path, line) == []
