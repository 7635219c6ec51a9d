"""DynamoDB stream -> Lambda delivery the way AWS's event source mapping poller does it: asynchronously.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html,
https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html):

* A poller per enabled mapping reads the stream's shards from the mapping's ``StartingPosition``
  (``LATEST``: records written after the mapping was created; ``TRIM_HORIZON``: every record still in the
  stream) and invokes the function synchronously with batches of at most ``BatchSize`` records, gathering
  for up to ``MaximumBatchingWindowInSeconds`` (default 0 for streams). The table write never waits for it.
* The event is ``{"Records": [{"eventID", "eventName", "eventVersion": "1.1", "eventSource":
  "aws:dynamodb", "awsRegion", "dynamodb": {"ApproximateCreationDateTime" (epoch seconds), "Keys",
  "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}, "eventSourceARN"}]}``.
* A function error (or timeout) fails the whole batch; Lambda retries it, in order, until it succeeds, the
  records pass ``MaximumRecordAgeInSeconds`` (-1: never) or ``MaximumRetryAttempts`` (-1: unlimited) is
  used up; then the batch is discarded (sent to ``DestinationConfig.OnFailure`` if set) and the poller
  moves on. With ``BisectBatchOnFunctionError`` a failing batch is split in two and the halves retried
  separately; splitting does not count towards the retry quota.
* With ``FunctionResponseTypes: ["ReportBatchItemFailures"]`` the function may return
  ``{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}]}``: Lambda checkpoints at the lowest
  reported sequence number and retries from that record on. An empty or null list / response is full
  success; an empty, null or unknown ``itemIdentifier`` is a full-batch failure.
* ``UpdateEventSourceMapping Enabled=false`` stops delivery; re-enabling resumes from the checkpoint.
  Reading the stream never removes records, so other readers (DynamoDB Streams API) see everything.

What is modelled: one daemon poller thread per DynamoDB-stream mapping, started when the mapping is
created (``LambdaBackend.create_event_source_mapping`` is wrapped so ``LATEST`` is taken at that
moment) or found by a supervisor scan of moto's Lambda backends (mappings that existed before a server
restart resume from their checkpoint). The poller reads moto's ``StreamShard.items`` (append-only thanks
to :mod:`changefeed`), is woken by every write (a :func:`changefeed.subscribe` listener) and also polls
every :data:`POLL_INTERVAL` seconds, reads the mapping's settings live on each loop, and invokes
through :mod:`lambda_runtime` (a separate worker process). It stops when the mapping is deleted (or moto
is reset) and when the last embedded server stops. moto's synchronous ``send_dynamodb_items`` is
replaced by a guard that raises, so moto's own delivery (and its Docker attempt) can never run.

Not modelled: ``DestinationConfig.OnFailure`` (discarded batches are counted in :func:`mapping_stats`
but nothing is sent), ``FilterCriteria``, ``TumblingWindowInSeconds``, ``ParallelizationFactor`` (one
batch in flight per mapping), the 6 MB payload limit and the 24-hour stream retention. Values below
AWS's 60-second minimum for ``MaximumRecordAgeInSeconds`` are accepted (moto does not validate) so tests
can exercise the rule quickly. Retries back off from 50 ms doubling to 1 s (AWS's backoff is longer and
undocumented). ``LastProcessingResult`` in Get/ListEventSourceMappings reports ``No records processed``,
``OK`` or ``PROBLEM: Function call failed`` as AWS does.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from moto.awslambda.models import EventSourceMapping, LambdaBackend, lambda_backends
from moto.awslambda_simple.models import lambda_simple_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamRecord, StreamShard

from dr_infra.targets.embedded import changefeed, lambda_runtime

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.models.lambda_backends",
    "moto.awslambda_simple.models.lambda_simple_backends",
    "moto.awslambda.models.LambdaBackend.create_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.update_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.delete_event_source_mapping",
    "moto.awslambda.models.LambdaBackend.get_function_by_arn",
    "moto.awslambda.models.LambdaBackend.send_dynamodb_items",
    "moto.awslambda.models.EventSourceMapping.get_configuration",
    "moto.dynamodb.models.dynamodb_backends",
    "moto.dynamodb.models.table.StreamShard",
    "moto.dynamodb.models.table.StreamRecord.to_json",
)
"""moto internals this module wraps or reads. It also reads ``LambdaBackend._event_source_mappings``,
``EventSourceMapping`` attributes (``uuid``, ``enabled``, ``batch_size``, ``starting_position``,
``max_batch_window``, ``max_record_age``, ``max_retry_attempts``, ``bisect_on_error``,
``function_response_types``, ``function_arn``, ``event_source_arn``, ``region``, ``account_id``),
``Table.latest_stream_label`` / ``stream_shard`` and ``StreamShard.items`` /
``starting_sequence_number``."""

POLL_INTERVAL = 0.05
"""Seconds between polls when no write wakes the poller (AWS polls each shard about 4 times a second)."""
SUPERVISOR_INTERVAL = 0.25
MAX_BACKOFF = 1.0

_lock = threading.RLock()
_wake = threading.Condition(threading.Lock())
_generation = 0
"""Bumped (under ``_wake``) by every stream write and mapping update, so pollers never miss a wake-up."""
_states: dict[str, _MappingState] = {}
_endpoints: set[str] = set()
_running = threading.Event()
_supervisor: threading.Thread | None = None
_installed = False
_BACKEND_DICTS: tuple[Any, ...] = (lambda_backends, lambda_simple_backends)


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
    batch_sizes: list[int] = field(default_factory=list)
    last_error: str | None = None
    last_processing_result: str = "No records processed"
    last_sequence_number: str | None = None
    last_invocation_started: float | None = None
    last_worker_pid: int | None = None


@dataclass
class _MappingState:
    uuid: str
    account_id: str
    region: str
    esm: EventSourceMapping
    position: int
    position_base: int = 0
    stats: MappingStats = field(default_factory=MappingStats)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    window_started: float | None = None


# --------------------------------------------------------------------------------------------------
# Public in-process API


def mapping_stats(uuid: str) -> dict[str, Any] | None:
    """A copy of a mapping's poller statistics (``None`` if the mapping is unknown)."""
    with _lock:
        state = _states.get(uuid)
        return asdict(state.stats) if state else None


def poller_running(uuid: str) -> bool:
    """Whether a poller thread is currently running for the mapping."""
    with _lock:
        state = _states.get(uuid)
        return bool(state and state.thread and state.thread.is_alive())


# --------------------------------------------------------------------------------------------------
# Stream access


def _shard_for(stream_arn: str) -> StreamShard | None:
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


def _epoch_seconds(value: Any) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return float(value.timestamp())
    return float(value) if value is not None else 0.0


def _json_bytes(value: object) -> str:
    """Binary attribute values travel base64-encoded in Lambda events, as on AWS (moto keeps BS as bytes)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot encode {type(value).__name__} in a Lambda event")


def _sequence(record: StreamRecord) -> int:
    return int(record.to_json()["dynamodb"]["SequenceNumber"])


def lambda_event_record(record: StreamRecord, region: str, stream_arn: str) -> dict[str, Any]:
    """One entry of the Lambda event's ``Records`` list, as AWS builds it from a stream record."""
    raw = record.to_json()
    source = raw["dynamodb"]
    dynamodb: dict[str, Any] = {
        # DynamoDB Streams rounds ApproximateCreationDateTime down to the second.
        "ApproximateCreationDateTime": int(_epoch_seconds(source["ApproximateCreationDateTime"])),
        "Keys": source["Keys"],
    }
    for key in ("NewImage", "OldImage"):
        if key in source:
            dynamodb[key] = source[key]
    dynamodb["SequenceNumber"] = source["SequenceNumber"]
    dynamodb["SizeBytes"] = source["SizeBytes"]
    dynamodb["StreamViewType"] = source["StreamViewType"]
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


# --------------------------------------------------------------------------------------------------
# The poller


def _current_esm(state: _MappingState) -> EventSourceMapping | None:
    """The mapping as moto holds it now (``None`` once deleted or after a moto reset)."""
    for backends in _BACKEND_DICTS:
        accounts = dict.get(backends, state.account_id)
        backend: LambdaBackend | None = dict.get(accounts, state.region) if accounts is not None else None
        if backend is not None and backend._event_source_mappings.get(state.uuid) is state.esm:
            return state.esm
    return None


def _backend_of(state: _MappingState) -> LambdaBackend:
    """The Lambda backend holding the mapping (moto's ``use_docker: false`` config uses another one)."""
    for backends in _BACKEND_DICTS:
        accounts = dict.get(backends, state.account_id)
        backend: LambdaBackend | None = dict.get(accounts, state.region) if accounts is not None else None
        if backend is not None and state.uuid in backend._event_source_mappings:
            return backend
    fallback: LambdaBackend = lambda_backends[state.account_id][state.region]
    return fallback


def _should_pause(state: _MappingState) -> bool:
    if state.stop.is_set() or not _running.is_set():
        return True
    esm = _current_esm(state)
    return esm is None or not esm.enabled


def _sleep(state: _MappingState, seconds: float, since: int | None = None) -> None:
    """Wait ``seconds``; with ``since`` (a :data:`_generation` value), return at once on any later write
    or mapping update. Always returns promptly when the poller is told to stop."""
    deadline = time.monotonic() + seconds
    while not state.stop.is_set() and _running.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        with _wake:
            if since is not None and _generation != since:
                return
            _wake.wait(min(remaining, POLL_INTERVAL))


def _invoke(state: _MappingState, esm: EventSourceMapping, batch: list[StreamRecord]) -> tuple[str, int]:
    """Invoke the function with ``batch``; returns (``"ok"`` | ``"partial"`` | ``"error"``, index)."""
    stats = state.stats
    records = [lambda_event_record(r, state.region, esm.event_source_arn) for r in batch]
    backend = _backend_of(state)
    fn = backend.get_function_by_arn(esm.function_arn)
    stats.invocations += 1
    stats.batch_sizes.append(len(batch))
    stats.last_invocation_started = time.time()
    if fn is None:
        stats.failures += 1
        stats.last_error = f"Function not found: {esm.function_arn}"
        stats.last_processing_result = "PROBLEM: Function not found"
        return "error", 0
    result = lambda_runtime.run(fn, json.dumps({"Records": records}, default=_json_bytes), esm.function_arn)
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


def _process(state: _MappingState, first_batch: list[StreamRecord]) -> None:
    """Deliver one batch with AWS's retry / bisect / partial-failure rules; advances ``state.position``."""
    stats = state.stats
    pending: list[list[StreamRecord]] = [first_batch]
    attempts = 0

    def checkpoint(after: StreamRecord) -> None:
        shard_start = _sequence(after) - state.position_base
        state.position = max(state.position, shard_start + 1)
        stats.last_sequence_number = str(_sequence(after))

    while pending:
        if _should_pause(state):
            return  # position stays at the checkpoint: the batch is read again on resume
        esm = state.esm
        batch = pending[0]
        max_age = esm.max_record_age
        if max_age is not None and max_age != -1:
            now = time.time()
            fresh = [
                r
                for r in batch
                if now - _epoch_seconds(r.to_json()["dynamodb"]["ApproximateCreationDateTime"]) <= max_age
            ]
            expired = len(batch) - len(fresh)
            if expired:
                stats.records_discarded += expired
                if not fresh:
                    checkpoint(batch[-1])
                    pending.pop(0)
                    attempts = 0
                    continue
                batch = pending[0] = fresh
        verdict, index = _invoke(state, esm, batch)
        if verdict == "ok":
            stats.records_delivered += len(batch)
            checkpoint(batch[-1])
            pending.pop(0)
            attempts = 0
            continue
        if verdict == "partial":
            if index > 0:
                stats.records_delivered += index
                checkpoint(batch[index - 1])
                batch = pending[0] = batch[index:]
            attempts += 1
        elif esm.bisect_on_error and len(batch) > 1:
            middle = len(batch) // 2
            pending[0:1] = [batch[:middle], batch[middle:]]
            stats.bisections += 1
            attempts = 0  # splitting a batch does not count towards the retry quota
            _sleep(state, POLL_INTERVAL)
            continue
        else:
            attempts += 1
        max_retries = esm.max_retry_attempts
        if max_retries is not None and max_retries != -1 and attempts > int(max_retries):
            # Retries used up: discard (AWS would also send it to DestinationConfig.OnFailure).
            stats.batches_discarded += 1
            stats.records_discarded += len(batch)
            checkpoint(batch[-1])
            pending.pop(0)
            attempts = 0
            continue
        stats.retries += 1
        _sleep(state, min(MAX_BACKOFF, POLL_INTERVAL * 2 ** (attempts - 1)))


def _poll(state: _MappingState) -> None:
    while not state.stop.is_set() and _running.is_set():
        generation = _generation
        esm = _current_esm(state)
        if esm is None:
            with _lock:
                if _states.get(state.uuid) is state:
                    del _states[state.uuid]
            return
        shard = _shard_for(esm.event_source_arn) if esm.enabled else None
        if shard is None:
            _sleep(state, POLL_INTERVAL, generation)
            continue
        state.position_base = shard.starting_sequence_number
        items = shard.items
        available = len(items) - state.position
        if available <= 0:
            state.window_started = None
            _sleep(state, POLL_INTERVAL, generation)
            continue
        batch_size = int(esm.batch_size or 100)
        window = float(esm.max_batch_window or 0)
        if window > 0 and available < batch_size:
            now = time.monotonic()
            if state.window_started is None:
                state.window_started = now
            if now - state.window_started < window:
                _sleep(state, min(POLL_INTERVAL, window - (now - state.window_started)))
                continue
        state.window_started = None
        _process(state, list(items[state.position : state.position + batch_size]))


def _start_poller(state: _MappingState) -> None:
    if state.thread is not None and state.thread.is_alive():
        return
    state.stop.clear()
    state.thread = threading.Thread(target=_poll, args=(state,), name=f"esm-poller-{state.uuid[:8]}", daemon=True)
    state.thread.start()


def _register(esm: EventSourceMapping) -> _MappingState | None:
    """Track a DynamoDB-stream mapping; its starting position is fixed now."""
    if ":dynamodb:" not in esm.event_source_arn or "/stream/" not in esm.event_source_arn:
        return None
    with _lock:
        state = _states.get(esm.uuid)
        if state is not None and state.esm is esm:
            return state
        shard = _shard_for(esm.event_source_arn)
        latest = (esm.starting_position or "TRIM_HORIZON") == "LATEST"
        position = len(shard.items) if (shard is not None and latest) else 0
        state = _MappingState(esm.uuid, esm.account_id, esm.region, esm, position)
        state.position_base = shard.starting_sequence_number if shard is not None else 0
        _states[esm.uuid] = state
        return state


def _scan() -> None:
    """Adopt mappings the hooks did not see (e.g. created before a server restart)."""
    backends = [b for d in _BACKEND_DICTS for accounts in list(dict.values(d)) for b in list(dict.values(accounts))]
    for backend in backends:
        for esm in list(backend._event_source_mappings.values()):
            state = _register(esm)
            if state is not None and _running.is_set():
                with _lock:
                    _start_poller(state)


def _supervise() -> None:
    while _running.is_set():
        with contextlib.suppress(Exception):  # a moto reset mid-scan: the next scan sees the new state
            _scan()
        time.sleep(SUPERVISOR_INTERVAL)


def _notify_write(table: Any, old: Any, new: Any, record: StreamRecord) -> None:
    """changefeed listener: wake the pollers (runs inside the write request, so only signals)."""
    _bump()


def _bump() -> None:
    global _generation
    with _wake:
        _generation += 1
        _wake.notify_all()


# --------------------------------------------------------------------------------------------------
# moto patches and server lifecycle

_original_create = LambdaBackend.create_event_source_mapping
_original_update = LambdaBackend.update_event_source_mapping
_original_delete = LambdaBackend.delete_event_source_mapping


def _patched_create(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    esm = _original_create(self, spec)
    state = _register(esm)
    if state is not None and _running.is_set():
        with _lock:
            _start_poller(state)
    return esm


def _patched_update(self: LambdaBackend, uuid: str, spec: dict[str, Any]) -> EventSourceMapping | None:
    esm = _original_update(self, uuid, spec)
    _bump()
    return esm


def _patched_delete(self: LambdaBackend, uuid: str) -> EventSourceMapping | None:
    esm = _original_delete(self, uuid)
    with _lock:
        state = _states.pop(uuid, None)
    if state is not None:
        state.stop.set()
        with _wake:
            _wake.notify_all()
    return esm


def _refuse_send_dynamodb_items(self: LambdaBackend, *args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(
        "moto's synchronous DynamoDB -> Lambda delivery must not run on the embedded target; "
        "dr_infra.targets.embedded.esm_poller delivers stream records"
    )


_original_get_configuration = EventSourceMapping.get_configuration


def _patched_get_configuration(self: EventSourceMapping) -> dict[str, Any]:
    config: dict[str, Any] = _original_get_configuration(self)
    with _lock:
        state = _states.get(self.uuid)
    if state is not None:
        config["LastProcessingResult"] = state.stats.last_processing_result
    return config


def server_started(endpoint: str) -> None:
    """Start the supervisor and pollers (the first running server turns delivery on)."""
    global _supervisor
    with _lock:
        _endpoints.add(endpoint)
        if _running.is_set():
            return
        _running.set()
        _supervisor = threading.Thread(target=_supervise, name="esm-supervisor", daemon=True)
        _supervisor.start()


def server_stopped(endpoint: str) -> None:
    """Stop every poller once the last embedded server has stopped (checkpoints are kept)."""
    global _supervisor
    with _lock:
        _endpoints.discard(endpoint)
        if _endpoints or not _running.is_set():
            return
        _running.clear()
        threads = [s.thread for s in _states.values() if s.thread is not None]
        supervisor, _supervisor = _supervisor, None
    with _wake:
        _wake.notify_all()
    lambda_runtime.shutdown_workers()  # unblocks pollers waiting on an invocation
    for thread in [*threads, supervisor]:
        if thread is not None:
            thread.join(timeout=5)


def install() -> None:
    """Wrap moto's mapping API, disable its synchronous delivery, subscribe to writes (idempotent)."""
    global _installed
    if _installed:
        return
    LambdaBackend.create_event_source_mapping = _patched_create  # type: ignore[method-assign]
    LambdaBackend.update_event_source_mapping = _patched_update  # type: ignore[method-assign]
    LambdaBackend.delete_event_source_mapping = _patched_delete  # type: ignore[method-assign]
    LambdaBackend.send_dynamodb_items = _refuse_send_dynamodb_items  # type: ignore[method-assign]
    EventSourceMapping.get_configuration = _patched_get_configuration  # type: ignore[method-assign]
    changefeed.subscribe(_notify_write)
    _installed = True
