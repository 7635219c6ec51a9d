"""Delivering one batch of stream records to the function with AWS's rules: retries, bisection, partial
batch failures, record age, discards and their OnFailure destination.

See :mod:`esm_poller` for what AWS does (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html) and what is modelled.
"""

from __future__ import annotations

import json
import time
from typing import Any

from moto.awslambda.models import EventSourceMapping
from moto.dynamodb.models.table import StreamRecord

from dr_infra.targets.embedded import esm_destinations, lambda_runtime
from dr_infra.targets.embedded.esm_destinations import RECORD_AGE_EXCEEDED, RETRIES_EXHAUSTED, Discarded
from dr_infra.targets.embedded.esm_events import created_at, json_bytes, lambda_event_record, sequence
from dr_infra.targets.embedded.esm_state import (
    MAX_BACKOFF,
    POLL_INTERVAL,
    MappingState,
    backend_of,
    shard_for,
    should_pause,
    sleep,
)
from dr_infra.targets.embedded.process_state import SWITCHES

HOOKED_INTERNALS: tuple[str, ...] = ("moto.awslambda.models.LambdaBackend.get_function_by_arn",)


def _invoke(state: MappingState, esm: EventSourceMapping, batch: list[StreamRecord]) -> tuple[str, int]:
    """Invoke the function with ``batch``; returns (``"ok"`` | ``"partial"`` | ``"error"`` | ``"missing"``, index)."""
    stats = state.stats
    records = [lambda_event_record(r, state.region, esm.event_source_arn) for r in batch]
    backend = backend_of(state)
    fn = backend.get_function_by_arn(esm.function_arn)
    stats.invocations += 1
    stats.batch_sizes.append(len(batch))
    stats.last_invocation_started = time.time()
    if fn is None:
        stats.failures += 1
        stats.last_error = f"Function not found: {esm.function_arn}"
        stats.last_processing_result = "PROBLEM: Function not found"
        return "missing", 0
    result = lambda_runtime.run(fn, json.dumps({"Records": records}, default=json_bytes), esm.function_arn)
    stats.last_worker_pid = result.worker_pid
    if result.function_error:
        stats.failures += 1
        stats.last_error = result.payload.decode("utf-8", "replace")
        stats.last_processing_result = "PROBLEM: Function call failed"
        return "error", 0
    if "ReportBatchItemFailures" in (esm.function_response_types or []):
        verdict, index = _batch_item_failures(result.response(), batch)
        if verdict != "ok":
            stats.failures += 1
            stats.partial_failures += verdict == "partial"
            stats.last_error = f"batchItemFailures: {result.payload.decode('utf-8', 'replace')[:500]}"
            stats.last_processing_result = "PROBLEM: Function call failed"
            return verdict, index
    stats.successes += 1
    stats.last_error = None
    stats.last_processing_result = "OK"
    return "ok", len(batch)


def _batch_item_failures(response: Any, batch: list[StreamRecord]) -> tuple[str, int]:
    """Classify a ReportBatchItemFailures response: ``ok``, ``partial`` at index, or ``error``."""
    if response is None or response == {}:
        return "ok", len(batch)
    if not isinstance(response, dict):
        return "error", 0
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return "ok", len(batch)
    if not isinstance(failures, list):
        return "error", 0
    positions = {r.to_json()["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return "error", 0
        indexes.append(positions[identifier])
    return "partial", min(indexes)


def _record_age_offset(state: MappingState) -> float:
    """Seconds the ``stream_records_aged`` fault switch adds to every record's age (0 when off)."""
    if not SWITCHES.faults.any_on("stream_records_aged"):
        return 0.0
    params = SWITCHES.faults.peek("stream_records_aged", None) or {}
    table = state.esm.event_source_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    for scope, scoped in SWITCHES.faults.active().items():
        name, _, where = scope.partition("@")
        if name == "stream_records_aged" and where and where in table:
            params = scoped
    return float(params.get("seconds", 0) or 0)


def _discard(state: MappingState, discarded: Discarded) -> None:
    """Give up on a batch: count it and describe it to the OnFailure destination, if there is one."""
    stats = state.stats
    stats.batches_discarded += 1
    stats.records_discarded += len(discarded.records)
    esm = state.esm
    destination = ((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
    if not destination:
        return
    shard = shard_for(esm.event_source_arn)
    document = esm_destinations.invocation_record(
        discarded, esm.function_arn, esm.event_source_arn, shard.id if shard else "", time.time()
    )
    if esm_destinations.send(destination, document):
        stats.destination_messages += 1
    else:
        stats.destination_failures += 1


def process(state: MappingState, first_batch: list[StreamRecord]) -> None:
    """Deliver one batch with AWS's retry / bisect / partial-failure rules; advances ``state.position``."""
    delivery = _Delivery(state, first_batch)
    while delivery.pending:
        if should_pause(state):
            return  # position stays at the checkpoint: the batch is read again on resume
        delivery.attempt()


class _Delivery:
    """One batch's delivery in progress: the batches still to deliver (the halves after a bisection, first
    first), the retries of the first one, and the invocations since it was last checkpointed."""

    def __init__(self, state: MappingState, first_batch: list[StreamRecord]) -> None:
        self.state = state
        self.stats = state.stats
        self.pending: list[list[StreamRecord]] = [first_batch]
        self.attempts = 0
        self.invocations = 0
        self.last_error: str | None = None

    def attempt(self) -> None:
        """Invoke the function once with the first pending batch and act on its verdict."""
        esm = self.state.esm
        batch = self._fresh_head(esm)
        if batch is None:
            return
        verdict, index = _invoke(self.state, esm, batch)
        self.invocations += 1
        self.last_error = None if verdict == "partial" else "Unhandled"
        if verdict == "ok":
            self.stats.records_delivered += len(batch)
            self._checkpoint(batch[-1])
            self._next_batch()
            return
        if verdict == "partial":
            batch = self._resume_at(batch, index)
            self.attempts += 1
        elif esm.bisect_on_error and len(batch) > 1:
            self._bisect(batch)
            return
        else:
            self.attempts += 1
        max_retries = esm.max_retry_attempts
        if max_retries is not None and max_retries != -1 and self.attempts > int(max_retries):
            self._give_up(batch, RETRIES_EXHAUSTED)
            return
        self.stats.retries += 1
        sleep(self.state, min(MAX_BACKOFF, POLL_INTERVAL * 2 ** (self.attempts - 1)))

    def _fresh_head(self, esm: EventSourceMapping) -> list[StreamRecord] | None:
        """The first pending batch without its records older than MaximumRecordAgeInSeconds (those are
        discarded); None when every record was too old (the whole batch is discarded)."""
        batch = self.pending[0]
        max_age = esm.max_record_age
        if max_age is None or max_age == -1:
            return batch
        now = time.time() + _record_age_offset(self.state)
        fresh = [r for r in batch if now - created_at(r) <= max_age]
        if len(fresh) == len(batch):
            return batch
        if not fresh:
            self._give_up(batch, RECORD_AGE_EXCEEDED)
            return None
        expired = [r for r in batch if r not in fresh]
        _discard(self.state, Discarded(expired, RECORD_AGE_EXCEEDED, self.invocations, self.last_error))
        self.pending[0] = fresh
        return fresh

    def _resume_at(self, batch: list[StreamRecord], index: int) -> list[StreamRecord]:
        """A partial batch failure: the records before the first failed one are delivered; retry from it."""
        if index <= 0:
            return batch
        self.stats.records_delivered += index
        self._checkpoint(batch[index - 1])
        self.pending[0] = batch[index:]
        return self.pending[0]

    def _bisect(self, batch: list[StreamRecord]) -> None:
        """BisectBatchOnFunctionError: retry the two halves separately."""
        middle = len(batch) // 2
        self.pending[0:1] = [batch[:middle], batch[middle:]]
        self.stats.bisections += 1
        self.attempts = self.invocations = 0  # splitting a batch does not count towards the retry quota
        sleep(self.state, POLL_INTERVAL)

    def _checkpoint(self, after: StreamRecord) -> None:
        state = self.state
        shard_start = sequence(after) - state.position_base
        state.position = max(state.position or 0, shard_start + 1)
        self.stats.last_sequence_number = str(sequence(after))

    def _next_batch(self) -> None:
        self.pending.pop(0)
        self.attempts = self.invocations = 0

    def _give_up(self, batch: list[StreamRecord], condition: str) -> None:
        _discard(self.state, Discarded(batch, condition, self.invocations, self.last_error))
        self._checkpoint(batch[-1])
        self._next_batch()
