"""What an event source mapping's poller knows and shares: its state, the stream, the wake-up signal.

Shared by :mod:`esm_poller` (the poller threads and their lifecycle) and :mod:`esm_batch` (delivering one
batch with AWS's retry rules); see :mod:`esm_poller` for what AWS does and what is modelled.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import EventSourceMapping, LambdaBackend, lambda_backends
from moto.awslambda_simple.models import lambda_simple_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard

from dr_infra.targets.embedded import esm_lifecycle

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.models.lambda_backends",
    "moto.awslambda_simple.models.lambda_simple_backends",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.StreamShard",
)

POLL_INTERVAL = 0.05
"""Seconds between polls when no write wakes the poller (AWS polls each shard about 4 times a second)."""
MAX_BACKOFF = 1.0

wake_signal = threading.Condition(threading.Lock())
_generation = 0
"""Bumped (under ``wake_signal``) by every stream write and mapping update, so pollers never miss a wake-up."""
running = threading.Event()
"""Set while at least one embedded server runs: pollers deliver only then."""
BACKEND_DICTS: tuple[Any, ...] = (lambda_backends, lambda_simple_backends)


@dataclass
class MappingStats:
    """What a mapping's poller has done, readable in-process by tests and benchmarks."""

    invocations: int = 0
    successes: int = 0
    failures: int = 0
    partial_failures: int = 0
    retries: int = 0
    bisections: int = 0
    records_delivered: int = 0
    records_discarded: int = 0
    batches_discarded: int = 0
    destination_messages: int = 0
    destination_failures: int = 0
    batch_sizes: list[int] = field(default_factory=list)
    last_error: str | None = None
    last_processing_result: str = "No records processed"
    last_sequence_number: str | None = None
    last_invocation_started: float | None = None
    last_worker_pid: int | None = None


@dataclass
class MappingState:
    uuid: str
    account_id: str
    region: str
    esm: EventSourceMapping
    position: int | None
    """Index into the shard's records of the next one to deliver; ``None``: LATEST, not polled yet."""
    position_base: int = 0
    stats: MappingStats = field(default_factory=MappingStats)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    window_started: float | None = None
    access_checked: float = -1.0
    """When the function's role was last checked for stream access (:func:`esm_poller.stream_access_problem`)."""
    access_problem: str | None = None


def generation() -> int:
    return _generation


def bump() -> None:
    """Wake every poller (a write or a mapping change happened)."""
    global _generation
    with wake_signal:
        _generation += 1
        wake_signal.notify_all()


def shard_for(stream_arn: str) -> StreamShard | None:
    """The table's current stream shard if ``stream_arn`` is still its latest stream."""
    parts = stream_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("table/"):
        return None
    _, _, _, region, account, resource = parts
    table_name, _, label = resource[len("table/") :].partition("/stream/")
    backend = dynamodb_backends[account][region]
    table = backend.tables.get(table_name)
    if table is None or table.latest_stream_label != label:
        return None
    shard: StreamShard | None = table.stream_shard
    return shard


def current_esm(state: MappingState) -> EventSourceMapping | None:
    """The mapping as moto holds it now (``None`` once deleted or after a moto reset)."""
    for backends in BACKEND_DICTS:
        accounts = dict.get(backends, state.account_id)
        backend: LambdaBackend | None = dict.get(accounts, state.region) if accounts is not None else None
        if backend is not None and backend._event_source_mappings.get(state.uuid) is state.esm:
            return state.esm
    return None


def backend_of(state: MappingState) -> LambdaBackend:
    """The Lambda backend holding the mapping (moto's ``use_docker: false`` config uses another one)."""
    for backends in BACKEND_DICTS:
        accounts = dict.get(backends, state.account_id)
        backend: LambdaBackend | None = dict.get(accounts, state.region) if accounts is not None else None
        if backend is not None and state.uuid in backend._event_source_mappings:
            return backend
    fallback: LambdaBackend = lambda_backends[state.account_id][state.region]
    return fallback


def should_pause(state: MappingState) -> bool:
    if state.stop.is_set() or not running.is_set():
        return True
    return current_esm(state) is None or not esm_lifecycle.polling(state.uuid)


def sleep(state: MappingState, seconds: float, since: int | None = None) -> None:
    """Wait ``seconds``; with ``since`` (a :func:`generation` value), return at once on any later write
    or mapping update. Always returns promptly when the poller is told to stop."""
    deadline = time.monotonic() + seconds
    while not state.stop.is_set() and running.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        with wake_signal:
            if since is not None and _generation != since:
                return
            wake_signal.wait(min(remaining, POLL_INTERVAL))
