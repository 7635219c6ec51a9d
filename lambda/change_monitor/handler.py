"""Lambda entry points: ``lambda_handler`` (the stream) and ``on_restore_completed``.

Why the handler owns logging and failure reporting (and strategies do not): it
guarantees the two invariants the framework relies on --

* every record of the batch gets exactly one decision line
  (:mod:`change_monitor.log`), and
* the response follows AWS's ReportBatchItemFailures contract:
  ``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}``. For streams
  Lambda checkpoints at the lowest failed sequence number, so once a record fails,
  it and every later record of the batch are reported. When every record failed
  the list is still returned (no exception), so the mapping retries and bisects
  per its settings rather than treating it as a function error.

A record without a SequenceNumber cannot be reported: it is logged as malformed
and skipped. Nothing a record contains can crash the batch; only a configuration
error raises (after one ``config_error`` line), since no record can be handled.

Handler strings: ``change_monitor.handler.lambda_handler`` and
``change_monitor.handler.on_restore_completed`` (same zip, two functions).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from change_monitor.clients import Clients
from change_monitor.log import Decision, emit, error_text
from change_monitor.records import MalformedRecord, StreamRecord, parse_record
from change_monitor.reprotect import reprotect
from change_monitor.settings import ConfigError, Settings, load_settings
from change_monitor.settings import Strategy as StrategyName
from change_monitor.strategies.backup import BackupStrategy
from change_monitor.strategies.base import LambdaContext, Outcome, Runtime, Strategy
from change_monitor.strategies.item import ItemStrategy, is_own_write
from change_monitor.strategies.pitr import PitrStrategy

_runtime: Runtime | None = None


def reset_runtime(runtime: Runtime | None = None) -> None:
    """Replace the cold-start state (tests inject clients and a fake sleep here)."""
    global _runtime
    _runtime = runtime


def _load_runtime() -> Runtime:
    """Settings and clients, built once per cold start; log and raise a config error."""
    global _runtime
    if _runtime is None:
        try:
            settings = load_settings(os.environ)
        except ConfigError as exc:
            emit(
                Decision.CONFIG_ERROR,
                strategy=None,
                variable=exc.variable,
                allowed=exc.allowed,
                reason=str(exc),
            )
            raise
        _runtime = Runtime(settings=settings, clients=Clients(), sleep=time.sleep)
    return _runtime


def build_strategy(runtime: Runtime) -> Strategy:
    """The strategy ``DR_STRATEGY`` names."""
    if runtime.settings.strategy is StrategyName.BACKUP:
        return BackupStrategy(runtime)
    if runtime.settings.strategy is StrategyName.PITR:
        return PitrStrategy(runtime)
    return ItemStrategy(runtime)


def lambda_handler(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Stream entry point: undo the batch's harmful changes, report partial failures."""
    return process_event(event, context, _load_runtime())


def on_restore_completed(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """EventBridge entry point: re-protect a restored table (see :mod:`change_monitor.reprotect`).

    Errors are logged as ``failed`` and re-raised so the asynchronous invocation is
    retried (and ends in the function's DLQ/destination if configured).
    """
    runtime = _load_runtime()
    try:
        return reprotect(event, runtime)
    except Exception as exc:
        emit(
            Decision.FAILED,
            strategy=runtime.settings.strategy.value,
            reason="re-protection failed",
            error=error_text(exc),
        )
        raise


def _ignore_reason(record: StreamRecord, settings: Settings) -> str | None:
    """Why a well-formed record is not a harmful user change, or None if it is one."""
    if settings.strategy is StrategyName.ITEM and is_own_write(record):
        return "own repair write"
    if record.is_ttl_delete:
        return "TTL deletion"
    if record.event_name not in settings.trigger_events:
        allowed = ",".join(sorted(e.value for e in settings.trigger_events))
        return f"{record.event_name.value} not in DR_TRIGGER_EVENTS ({allowed})"
    return None


def process_event(event: Mapping[str, Any], context: LambdaContext | None, runtime: Runtime) -> dict[str, Any]:
    """Process one stream batch with ``runtime``; return the batchItemFailures response."""
    settings = runtime.settings
    strategy_name = settings.strategy.value
    raw_records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(raw_records, list):
        emit(Decision.MALFORMED, strategy=strategy_name, reason="event has no Records list")
        return {"batchItemFailures": []}

    # Position in the batch -> parsed record, or the malformed record's reason.
    parsed: dict[int, StreamRecord] = {}
    malformed: dict[int, MalformedRecord] = {}
    for position, raw in enumerate(raw_records):
        try:
            parsed[position] = parse_record(raw)
        except MalformedRecord as exc:
            malformed[position] = exc

    ignored = {p: reason for p, r in parsed.items() if (reason := _ignore_reason(r, settings))}
    harmful = [r for p, r in parsed.items() if p not in ignored]
    outcomes = _run_strategy(build_strategy(runtime), harmful, list(parsed.values()), context)

    failed_positions: list[int] = []
    for position, raw in enumerate(raw_records):
        if position in malformed:
            bad = malformed[position]
            emit(Decision.MALFORMED, strategy=strategy_name, raw=raw, reason=bad.reason)
            if bad.sequence_number is not None:
                failed_positions.append(position)
            continue
        record = parsed[position]
        outcome = outcomes.get(id(record))
        if outcome is not None:
            emit(outcome.decision, strategy=strategy_name, record=record, **outcome.fields)
            if outcome.failed:
                failed_positions.append(position)
        elif position in ignored:
            emit(Decision.IGNORED, strategy=strategy_name, record=record, reason=ignored[position])
        else:  # a strategy must decide every harmful record; never drop one silently
            emit(Decision.FAILED, strategy=strategy_name, record=record, reason="no decision made")
            failed_positions.append(position)
    return {"batchItemFailures": _failures_from(raw_records, parsed, malformed, failed_positions)}


def _run_strategy(
    strategy: Strategy,
    harmful: list[StreamRecord],
    batch: list[StreamRecord],
    context: LambdaContext | None,
) -> dict[int, Outcome]:
    """Outcomes keyed by ``id(record)``; an unexpected error fails the harmful records."""
    if not harmful and not isinstance(strategy, ItemStrategy):
        return {}
    try:
        return {id(o.record): o for o in strategy.process(harmful, batch, context)}
    except Exception as exc:  # one bug must not crash the whole batch
        return {
            id(r): Outcome(r, Decision.FAILED, {"reason": "unexpected error", "error": error_text(exc)})
            for r in harmful
        }


def _failures_from(
    raw_records: list[Any],
    parsed: dict[int, StreamRecord],
    malformed: dict[int, MalformedRecord],
    failed_positions: list[int],
) -> list[dict[str, str]]:
    """The lowest failed record and every later one that has a SequenceNumber."""
    if not failed_positions:
        return []
    failures: list[dict[str, str]] = []
    for position in range(min(failed_positions), len(raw_records)):
        seq = parsed[position].sequence_number if position in parsed else malformed[position].sequence_number
        if seq is not None:
            failures.append({"itemIdentifier": seq})
    return failures
