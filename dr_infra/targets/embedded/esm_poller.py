"""DynamoDB stream -> Lambda delivery the way AWS's event source mapping poller does it: asynchronously.

What AWS does (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html,
https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html):

* A poller per enabled mapping reads the stream's shards from the mapping's ``StartingPosition``
  (``LATEST``: the tip of the shard when polling starts, which is some time after the mapping was created;
  ``TRIM_HORIZON``: every record still in the stream) and invokes the function synchronously with batches of
  at most ``BatchSize`` records, gathering for up to ``MaximumBatchingWindowInSeconds`` (default 0 for
  streams). The table write never waits for it.
* A function error (or timeout) fails the whole batch; Lambda retries it, in order, until it succeeds, the
  records pass ``MaximumRecordAgeInSeconds`` (-1: never) or ``MaximumRetryAttempts`` (-1: unlimited) is
  used up; then the batch is discarded (described to ``DestinationConfig.OnFailure`` if set, see
  :mod:`esm_destinations`) and the poller moves on. With ``BisectBatchOnFunctionError`` a failing batch is
  split in two and the halves retried separately; splitting does not count towards the retry quota.
* With ``FunctionResponseTypes: ["ReportBatchItemFailures"]`` the function may return
  ``{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}]}``: Lambda checkpoints at the lowest
  reported sequence number and retries from that record on. An empty or null list / response is full
  success; an empty, null or unknown ``itemIdentifier`` is a full-batch failure.
* Disabling a mapping stops delivery; re-enabling resumes from the checkpoint. Reading the stream never
  removes records, so other readers (DynamoDB Streams API) see everything.

What is modelled: one daemon poller thread per DynamoDB-stream mapping, started when the mapping is created
(:mod:`esm_api`) or found by a supervisor scan of moto's Lambda backends (mappings that existed before a
server restart resume from their checkpoint). It delivers only while :func:`esm_lifecycle.polling` says so
(never while the mapping is ``Creating``); a ``LATEST`` mapping starts after the last record written before
it became ``Enabled`` (:func:`esm_lifecycle.settled_at`). The
poller reads moto's ``StreamShard.items`` (append-only thanks to :mod:`changefeed`), is woken by every write (a
:func:`changefeed.subscribe` listener) and also polls every :data:`POLL_INTERVAL` seconds, reads the mapping's
settings live on each loop, and invokes through :mod:`lambda_runtime` (a separate worker process). It stops when
the mapping is deleted (or moto is reset) and when the last embedded server stops. moto's synchronous
``send_dynamodb_items`` is replaced by a guard that raises, so moto's own delivery (and its Docker attempt) can
never run. The event itself is built by :mod:`esm_events`.

The stream is read with the function's execution role (:mod:`execution_role`): ``CreateEventSourceMapping``
is refused with AWS's "Cannot access stream ..." (:mod:`esm_api`) when the role lacks
``dynamodb:DescribeStream`` / ``GetShardIterator`` / ``GetRecords`` on the stream or ``dynamodb:ListStreams``;
if the permissions go away later the poller reads nothing (the records stay in the stream) and
``LastProcessingResult`` is ``PROBLEM:`` with that message until they come back (that state's wording is
drdrill's; AWS's is not documented).

Not modelled: ``ParallelizationFactor`` above 1 (refused by :mod:`esm_validation`: one batch in flight per
mapping), the 6
MB payload limit and the 24-hour stream retention (``FilterCriteria`` and tumbling windows are refused by
:mod:`esm_validation`). Retries back off from 50 ms doubling to 1 s (AWS's backoff is longer and
undocumented). ``LastProcessingResult`` in Get/ListEventSourceMappings reports ``No records processed``,
``OK`` or ``PROBLEM: Function call failed`` as AWS does. The ``stream_records_aged`` fault switch makes the
record-age rule testable without waiting AWS's 60-second minimum.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import asdict
from typing import Any

from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.dynamodb.models.table import StreamRecord, StreamShard

from dr_infra.targets.embedded import (
    changefeed,
    esm_batch,
    esm_lifecycle,
    esm_state,
    execution_role,
    lambda_runtime,
    moto_patch,
    process_state,
    stream_store,
)
from dr_infra.targets.embedded.esm_events import created_at
from dr_infra.targets.embedded.moto_additions import AdditionKey

HOOKED_INTERNALS: tuple[str, ...] = ("moto.awslambda.models.LambdaBackend.send_dynamodb_items",)
"""moto internals this module replaces. It (and :mod:`esm_state`, :mod:`esm_batch`) also reads
``LambdaBackend._event_source_mappings``,
``EventSourceMapping`` attributes (``uuid``, ``enabled``, ``batch_size``, ``starting_position``,
``max_batch_window``, ``max_record_age``, ``max_retry_attempts``, ``bisect_on_error``,
``function_response_types``, ``destination_config``, ``function_arn``, ``event_source_arn``, ``region``,
``account_id``),
``Table.latest_stream_label`` / ``stream_shard`` and ``StreamShard.items`` /
``starting_sequence_number``."""

SUPERVISOR_INTERVAL = 0.25
POLL_INTERVAL = esm_state.POLL_INTERVAL

_lock = threading.RLock()
POLLER_STATES: AdditionKey[dict[str, esm_state.MappingState]] = AdditionKey("esm_poller:states", dict)


def _states() -> dict[str, esm_state.MappingState]:
    """Each polled mapping's poller position, by UUID, beside moto's mappings."""
    return process_state.MOTO_ADDITIONS[POLLER_STATES]


_endpoints: set[str] = set()
_supervisor: threading.Thread | None = None


# --------------------------------------------------------------------------------------------------
# Public in-process API


def mapping_stats(uuid: str) -> dict[str, Any] | None:
    """A copy of a mapping's poller statistics (``None`` if the mapping is unknown)."""
    with _lock:
        state = _states().get(uuid)
        return asdict(state.stats) if state else None


def poller_running(uuid: str) -> bool:
    """Whether a poller thread is currently running for the mapping."""
    with _lock:
        state = _states().get(uuid)
        return bool(state and state.thread and state.thread.is_alive())


# --------------------------------------------------------------------------------------------------
# The poller


ACCESS_RECHECK = 0.5
"""Seconds between re-evaluations of the role's stream permissions while a mapping has records to read."""


def stream_access_problem(state: esm_state.MappingState, esm: EventSourceMapping) -> str | None:
    """Why the function's role cannot read the stream now (re-checked every :data:`ACCESS_RECHECK` s), or None.

    The mapping reads the stream with the function's execution role (:mod:`execution_role`)."""
    now = time.monotonic()
    if state.access_checked >= 0 and now - state.access_checked < ACCESS_RECHECK:
        return state.access_problem
    fn = esm_state.backend_of(state).get_function_by_arn(esm.function_arn)
    role = str(getattr(fn, "role", "") or "")
    state.access_problem = execution_role.stream_access_problem(
        role, state.account_id, state.region, esm.event_source_arn
    )
    state.access_checked = now
    return state.access_problem


def _poll(state: esm_state.MappingState) -> None:
    while not state.stop.is_set() and esm_state.running.is_set():
        if not _poll_once(state):
            return


def _poll_once(state: esm_state.MappingState) -> bool:
    """One turn of the poller: deliver the next batch, or wait; False when the mapping is gone."""
    generation = esm_state.generation()
    esm = esm_state.current_esm(state)
    if esm is None:
        with _lock:
            if _states().get(state.uuid) is state:
                del _states()[state.uuid]
        return False
    shard = esm_state.shard_for(esm.event_source_arn) if esm_lifecycle.polling(state.uuid) else None
    if shard is None:
        esm_state.sleep(state, POLL_INTERVAL, generation)
        return True
    batch = _next_batch(state, esm, shard, generation)
    if batch is not None:
        esm_batch.process(state, batch)
    return True


def _next_batch(
    state: esm_state.MappingState, esm: EventSourceMapping, shard: StreamShard, generation: int
) -> list[StreamRecord] | None:
    """The records to deliver from the position on, up to the batch size; None (having waited where AWS
    waits) when there are none, the batching window is still gathering, or the role cannot read the stream."""
    state.position_base = shard.starting_sequence_number
    items = shard.items
    oldest = stream_store.horizon(items)
    if state.position is None:  # LATEST: the tip of the shard as it was when the mapping became Enabled
        started = esm_lifecycle.settled_at(state.uuid)
        state.position = oldest + sum(1 for record in items if created_at(record) < started)
    elif state.position < oldest:  # records trimmed (24 h) before they were read are lost, as on AWS
        state.position = oldest
    available = len(items) - state.position
    if available <= 0:
        state.window_started = None
        esm_state.sleep(state, POLL_INTERVAL, generation)
        return None
    batch_size = int(esm.batch_size or 100)
    if _gathering(state, esm, available, batch_size):
        return None
    state.window_started = None
    problem = stream_access_problem(state, esm)
    if problem is not None:  # the role cannot read the stream: nothing is read, nothing is lost
        state.stats.last_error = problem
        state.stats.last_processing_result = f"PROBLEM: {problem}"
        esm_state.sleep(state, ACCESS_RECHECK)
        return None
    try:
        return list(items[state.position : state.position + batch_size])
    except stream_store.TrimmedDataAccessException:  # trimmed since the horizon was read: start again
        return None


def _gathering(state: esm_state.MappingState, esm: EventSourceMapping, available: int, batch_size: int) -> bool:
    """MaximumBatchingWindowInSeconds: fewer records than the batch size wait (up to the window) for more."""
    window = float(esm.max_batch_window or 0)
    if window <= 0 or available >= batch_size:
        return False
    now = time.monotonic()
    if state.window_started is None:
        state.window_started = now
    if now - state.window_started < window:
        esm_state.sleep(state, min(POLL_INTERVAL, window - (now - state.window_started)))
        return True
    return False


def _start_poller(state: esm_state.MappingState) -> None:
    if state.thread is not None and state.thread.is_alive():
        return
    state.stop.clear()
    state.thread = threading.Thread(target=_poll, args=(state,), name=f"esm-poller-{state.uuid[:8]}", daemon=True)
    state.thread.start()


def register(esm: EventSourceMapping) -> esm_state.MappingState | None:
    """Track a DynamoDB-stream mapping (TRIM_HORIZON: from the shard's start; LATEST: once polling starts)."""
    if ":dynamodb:" not in esm.event_source_arn or "/stream/" not in esm.event_source_arn:
        return None
    with _lock:
        state = _states().get(esm.uuid)
        if state is not None and state.esm is esm:
            return state
        shard = esm_state.shard_for(esm.event_source_arn)
        latest = (esm.starting_position or "TRIM_HORIZON") == "LATEST"
        state = esm_state.MappingState(esm.uuid, esm.account_id, esm.region, esm, None if latest else 0)
        state.position_base = shard.starting_sequence_number if shard is not None else 0
        _states()[esm.uuid] = state
        return state


def _scan() -> None:
    """Adopt mappings the hooks did not see (e.g. created before a server restart)."""
    backends = [
        b for d in esm_state.BACKEND_DICTS for accounts in list(dict.values(d)) for b in list(dict.values(accounts))
    ]
    for backend in backends:
        for esm in list(backend._event_source_mappings.values()):
            if esm_lifecycle.state(esm.uuid) in (esm_lifecycle.DELETING, esm_lifecycle.GONE):
                continue  # deleted: its poller was stopped and stays stopped
            esm_lifecycle.adopt(esm.uuid, bool(esm.enabled))
            state = register(esm)
            if state is not None and esm_state.running.is_set():
                with _lock:
                    _start_poller(state)


def _supervise() -> None:
    while esm_state.running.is_set():
        with contextlib.suppress(Exception):  # a moto reset mid-scan: the next scan sees the new state
            _scan()
        time.sleep(SUPERVISOR_INTERVAL)


def _notify_write(table: Any, old: Any, new: Any, record: stream_store.PackedRecord) -> None:
    """changefeed listener: wake the pollers (runs inside the write request, so only signals)."""
    _bump()


def _bump() -> None:
    esm_state.bump()


# --------------------------------------------------------------------------------------------------
# moto patches and server lifecycle


def start(esm: EventSourceMapping) -> None:
    """A mapping was just created: track it and start its poller (it waits until the mapping is Enabled)."""
    state = register(esm)
    if state is not None and esm_state.running.is_set():
        with _lock:
            _start_poller(state)


def wake() -> None:
    """A mapping changed: let the pollers look again."""
    _bump()


def stop(uuid: str) -> None:
    """A mapping was deleted: end its poller."""
    with _lock:
        state = _states().pop(uuid, None)
    if state is not None:
        state.stop.set()
        esm_state.bump()


def last_processing_result(uuid: str) -> str:
    """What Get/ListEventSourceMappings report as ``LastProcessingResult``."""
    with _lock:
        state = _states().get(uuid)
        return state.stats.last_processing_result if state else "No records processed"


def _refuse_send_dynamodb_items(self: LambdaBackend, *args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(
        "moto's synchronous DynamoDB -> Lambda delivery must not run on the embedded target; "
        "dr_infra.targets.embedded.esm_poller delivers stream records"
    )


def server_started(endpoint: str) -> None:
    """Start the supervisor and pollers (the first running server turns delivery on)."""
    global _supervisor
    with _lock:
        _endpoints.add(endpoint)
        if esm_state.running.is_set():
            return
        esm_state.running.set()
        _supervisor = threading.Thread(target=_supervise, name="esm-supervisor", daemon=True)
        _supervisor.start()


def server_stopped(endpoint: str) -> None:
    """Stop every poller once the last embedded server has stopped (checkpoints are kept)."""
    global _supervisor
    with _lock:
        _endpoints.discard(endpoint)
        if _endpoints or not esm_state.running.is_set():
            return
        esm_state.running.clear()
        threads = [s.thread for s in _states().values() if s.thread is not None]
        supervisor, _supervisor = _supervisor, None
    esm_state.bump()
    lambda_runtime.shutdown_workers()  # unblocks pollers waiting on an invocation
    for thread in [*threads, supervisor]:
        if thread is not None:
            thread.join(timeout=5)


def install() -> None:
    """Disable moto's synchronous delivery, subscribe to writes."""
    moto_patch.replace(LambdaBackend, "send_dynamodb_items", _refuse_send_dynamodb_items, by=__name__)
    moto_patch.once(f"{changefeed.__name__}.subscribers", lambda: changefeed.subscribe(_notify_write), by=__name__)
