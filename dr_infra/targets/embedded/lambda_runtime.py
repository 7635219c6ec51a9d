"""Functions run for real: the deployed zip, in a separate process, with AWS's environment and limits.

What AWS does
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html,
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):

* A function runs in an execution environment built from its deployment package, with its configured
  environment variables plus the reserved ones (``AWS_REGION``, ``AWS_LAMBDA_FUNCTION_NAME``, ...,
  credentials of its execution role). An environment is reused ("warm") for later invocations of the same
  function version and configuration; concurrent invocations get separate environments.
* The configured ``Timeout`` is enforced: the invocation ends with ``Task timed out after N.NN seconds``
  and the environment is reset.
* Output goes to CloudWatch Logs, group ``/aws/lambda/<name>`` (created if missing), one log stream per
  environment named ``YYYY/MM/DD/[<version>]<hex>``, each invocation framed by ``START RequestId: ...
  Version: ...``, ``END RequestId: ...`` and ``REPORT RequestId: ... Duration ... Billed Duration ...
  Memory Size ... Max Memory Used ...``.
* ``Invoke``: ``RequestResponse`` waits and returns the result; an unhandled error returns the error
  JSON with header ``X-Amz-Function-Error: Unhandled``; ``Event`` queues the invocation and answers 202;
  ``DryRun`` only checks the request and answers 204.

What is modelled: moto 5.2.5 runs functions only in Docker (and without Docker writes an error and
echoes). Here ``LambdaFunction.invoke`` / ``LambdaFunction._invoke_lambda`` are replaced so every
invocation (direct, event source mapping, moto's SQS/SNS/Logs paths) runs :mod:`lambda_worker` with
``sys.executable -S`` (no ``site``/``.pth`` processing, so drdrill itself is not importable even when
installed editable) as a subprocess in its own session, ``cwd`` and ``PYTHONPATH`` the extracted zip, and
an environment holding only: the function's ``Environment.Variables``; ``AWS_REGION`` /
``AWS_DEFAULT_REGION``; ``AWS_LAMBDA_FUNCTION_NAME`` / ``_MEMORY_SIZE`` / ``_VERSION``;
``AWS_LAMBDA_LOG_GROUP_NAME`` / ``_LOG_STREAM_NAME``; ``AWS_ENDPOINT_URL`` = the embedded endpoint;
the embedded target's fake credentials; ``PATH``; and AWS's other reserved runtime variables
(``_HANDLER``, ``AWS_EXECUTION_ENV``, ``LAMBDA_TASK_ROOT``, ``TZ``, ``LANG``,
``AWS_LAMBDA_INITIALIZATION_TYPE``). Differences from AWS, on purpose or by necessity:

* The interpreter is the one running drdrill (its packages, boto3 included, are importable), whatever
  ``Runtime`` says; the function's own files come first on ``sys.path``. Container images and layers are
  not supported (image functions fail with ``Runtime.InvalidEntrypoint``).
* Warm workers are keyed by function, version, code hash and configuration (handler, runtime, memory,
  environment variables, endpoint); the first invocation after a code or configuration change ends the
  older workers (``Timeout`` is applied per invocation, so changing it keeps them). Concurrent
  invocations of one function use up to :data:`MAX_WORKERS_PER_FUNCTION` workers and then wait
  (serialise). Idle workers are not reclaimed on a
  timer; they end when the function is deleted, when the server that launched them stops, or when this
  process exits.
* Memory is not limited; ``Max Memory Used`` is the worker's peak RSS.
* ``Event`` invocations run once in a background thread; the asynchronous retry policy (two retries,
  destinations) is not modelled.
* Fault switches: ``function_error`` makes the invocation fail as if the handler raised (the handler
  does not run); ``function_timeout`` ends it as timed out at once (without waiting the Timeout), logged
  as on AWS, and resets the environment. Either may carry a ``function`` parameter to target one function.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.logs.models import logs_backends

from dr_infra.targets.embedded import settings
from dr_infra.targets.embedded.faults import FAULTS
from dr_infra.targets.embedded.target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.models.LambdaFunction.invoke",
    "moto.awslambda.models.LambdaFunction._invoke_lambda",
    "moto.awslambda.models.LambdaBackend.delete_function",
    "moto.awslambda.models.LambdaBackend.invoke",
    "moto.awslambda.exceptions.LambdaClientError",
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke",
    "moto.logs.models.logs_backends",
    "moto.logs.models.LogsBackend.ensure_log_group",
    "moto.logs.models.LogsBackend.create_log_stream",
    "moto.logs.models.LogsBackend.put_log_events",
)
"""moto internals this module replaces or relies on (checked by :func:`patches.check_internals`). It also
reads these ``LambdaFunction`` instance attributes: ``code_bytes``, ``code_sha_256``, ``environment_vars``,
``handler``, ``run_time``, ``timeout``, ``memory_size``, ``version``, ``function_arn``, ``package_type``."""

WORKER_SCRIPT = str(Path(__file__).resolve().parent / "lambda_worker.py")
MAX_WORKERS_PER_FUNCTION = 4
LOG_TAIL_BYTES = 4096
_STOP_GRACE_SECONDS = 2.0

_lock = threading.RLock()
_pool_changed = threading.Condition(_lock)
_endpoints: list[str] = []
_pools: dict[tuple[Any, ...], _Pool] = {}
_code_dir = tempfile.mkdtemp(prefix="drdrill-lambda-")
_log_lock = threading.Lock()
_installed = False


# --------------------------------------------------------------------------------------------------
# What one invocation needs to know about the function (a snapshot: moto's object may change under us)


@dataclass(frozen=True)
class FunctionSpec:
    account_id: str
    region: str
    function_name: str
    version: str
    function_arn: str
    handler: str
    runtime: str
    timeout: float
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str
    code_bytes: bytes = field(repr=False, compare=False)
    package_type: str = "Zip"

    @classmethod
    def of(cls, fn: LambdaFunction) -> FunctionSpec:
        return cls(
            account_id=fn.account_id,
            region=fn.region,
            function_name=fn.function_name,
            version=str(fn.version),
            function_arn=fn.function_arn,
            handler=str(fn.handler or ""),
            runtime=str(fn.run_time or ""),
            timeout=float(fn.timeout or 3),
            memory_size=int(fn.memory_size or 128),
            environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
            code_sha256=str(getattr(fn, "code_sha_256", "")),
            code_bytes=bytes(getattr(fn, "code_bytes", b"") or b""),
            package_type=str(getattr(fn, "package_type", "Zip") or "Zip"),
        )

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def pool_key(self, endpoint: str) -> tuple[Any, ...]:
        return (
            self.account_id,
            self.region,
            self.function_name,
            self.version,
            self.code_sha256,
            self.handler,
            self.runtime,
            self.memory_size,
            self.environment,
            endpoint,
        )


@dataclass
class InvocationResult:
    """What an invocation returned, as Invoke reports it."""

    request_id: str
    payload: bytes
    function_error: bool
    timed_out: bool = False
    duration_ms: float = 0.0
    log_tail: str = ""
    worker_pid: int | None = None

    def response(self) -> Any:
        """The payload parsed as JSON (``None`` if it is not JSON)."""
        try:
            return json.loads(self.payload or b"null")
        except ValueError:
            return None


# --------------------------------------------------------------------------------------------------
# CloudWatch Logs, written straight into moto's logs backend


def _put_logs(spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
    """Deliver log lines to CloudWatch Logs, after ``settings.current().log_delivery_seconds`` (aws-scaled:
    log delivery is asynchronous on AWS, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html)."""
    if not events:
        return
    delay = settings.current().log_delivery_seconds
    if delay > 0:
        timer = threading.Timer(delay, _deliver_logs, (spec, stream, events))
        timer.daemon = True
        timer.start()
        return
    _deliver_logs(spec, stream, events)


def _deliver_logs(spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
    backend = logs_backends[spec.account_id][spec.region]
    payload = [{"timestamp": ts, "message": msg} for ts, msg in events]
    with _log_lock:
        for attempt in range(2):
            try:
                backend.ensure_log_group(spec.log_group)
                group = backend.groups[spec.log_group]
                if stream not in group.streams:
                    backend.create_log_stream(spec.log_group, stream)
                backend.put_log_events(spec.log_group, stream, payload)
                return
            except Exception:
                if attempt:
                    return


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso_now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------------------------------
# Workers (execution environments)


def _package_dirs() -> list[str]:
    """The interpreter's site-packages folders, passed to the worker, which runs with ``-S``.

    ``-S`` skips ``site`` and its ``.pth`` files, so an editable install of drdrill (a ``.pth`` line or
    finder pointing at the source tree) does not leak into the function's ``sys.path``; the worker
    appends these folders itself, after the function's own code.
    """
    return [p for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]


def _extract(spec: FunctionSpec) -> str:
    """The function's zip, extracted once per code hash."""
    digest = spec.code_sha256 or hashlib.sha256(spec.code_bytes).hexdigest()
    target = Path(_code_dir) / digest.replace("/", "_").replace("+", "-")[:64]
    with _lock:
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(dir=_code_dir))
            with zipfile.ZipFile(io.BytesIO(spec.code_bytes)) as archive:
                archive.extractall(staging)
            staging.replace(target)
    return str(target)


class _Worker:
    """One warm worker process and the threads reading its pipes."""

    def __init__(self, spec: FunctionSpec, endpoint: str) -> None:
        self.spec = spec
        self.endpoint = endpoint
        now = dt.datetime.now(dt.UTC)
        self.log_stream = f"{now:%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        code_dir = _extract(spec)
        env = dict(spec.environment)
        env.update(
            {
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": code_dir,
                "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
                "PYTHONPATH": code_dir,
                "PYTHONDONTWRITEBYTECODE": "1",
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
            }
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-s", WORKER_SCRIPT, *_package_dirs()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=code_dir,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        self.pid = self.proc.pid
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.current_request: str | None = None
        self.invocations = 0
        threading.Thread(target=self._read_protocol, name=f"lambda-out-{self.pid}", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"lambda-err-{self.pid}", daemon=True).start()

    def _read_protocol(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.messages.put(json.loads(raw))
            except ValueError:
                continue
        self.messages.put({"t": "eof"})

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            _put_logs(self.spec, self.log_stream, [(_now_ms(), line)])

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def invoke(
        self, event_json: str, request_id: str, invoked_arn: str, fault: dict[str, Any] | None
    ) -> InvocationResult:
        spec = self.spec
        self.invocations += 1
        log: list[str] = []

        def emit(ts: int, message: str) -> None:
            log.append(message)
            _put_logs(spec, self.log_stream, [(ts, message)])

        emit(_now_ms(), f"START RequestId: {request_id} Version: {spec.version}")
        started = time.monotonic()
        deadline = started + spec.timeout
        deadline_ms = _now_ms() + int(spec.timeout * 1000)
        done: dict[str, Any] | None = None
        exited = False
        if fault is not None and fault.get("kind") == "timeout":
            timed_out = True
        else:
            request = {
                "t": "invoke",
                "id": request_id,
                "handler": spec.handler,
                "event": event_json,
                "deadline_ms": deadline_ms,
                "fault": fault,
                "context": {
                    "function_name": spec.function_name,
                    "function_version": spec.version,
                    "invoked_function_arn": invoked_arn,
                    "memory_limit_in_mb": spec.memory_size,
                    "aws_request_id": request_id,
                    "log_group_name": spec.log_group,
                    "log_stream_name": self.log_stream,
                },
            }
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write((json.dumps(request) + "\n").encode())
                self.proc.stdin.flush()
            except (OSError, ValueError):
                exited = True
            timed_out = False
            while not exited and done is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                try:
                    message = self.messages.get(timeout=min(remaining, 0.5))
                except queue.Empty:
                    continue
                kind = message.get("t")
                if kind == "log":
                    emit(int(message.get("ts") or _now_ms()), str(message.get("msg", "")))
                elif kind == "done" and message.get("id") == request_id:
                    done = message
                elif kind == "eof":
                    exited = True
        elapsed_ms = (time.monotonic() - started) * 1000
        if timed_out:
            text = f"Task timed out after {spec.timeout:.2f} seconds"
            emit(_now_ms(), f"{_iso_now()} {request_id} {text}")
            payload = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: {text}",
            }
            result = InvocationResult(request_id, json.dumps(payload).encode(), True, True, spec.timeout * 1000)
            self.kill()  # AWS resets the execution environment after a timeout
        elif exited or done is None:
            code = self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
            text = f"Runtime exited with error: exit status {code}"
            emit(_now_ms(), f"RequestId: {request_id} Error: {text}")
            payload = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: {text}",
            }
            result = InvocationResult(request_id, json.dumps(payload).encode(), True, False, elapsed_ms)
            self.kill()
        else:
            duration = float(done.get("duration_ms") or elapsed_ms)
            result = InvocationResult(
                request_id, str(done.get("payload", "null")).encode(), not done.get("ok"), False, duration
            )
        emit(_now_ms(), f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {result.duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(result.duration_ms))} ms\t"
            f"Memory Size: {spec.memory_size} MB\t"
            f"Max Memory Used: {int((done or {}).get('max_memory_mb') or 0) or '-'} MB"
        )
        if done and done.get("init_ms"):
            report += f"\tInit Duration: {float(done['init_ms']):.2f} ms"
        if timed_out:
            report += "\tStatus: timeout"
        emit(_now_ms(), report)
        result.worker_pid = self.pid
        tail = "\n".join(log).encode()[-LOG_TAIL_BYTES:]
        result.log_tail = tail.decode("utf-8", "ignore")
        return result


@dataclass
class _Pool:
    spec: FunctionSpec
    endpoint: str
    idle: list[_Worker] = field(default_factory=list)
    busy: set[_Worker] = field(default_factory=set)
    retired: bool = False


def _retire_pool(key: tuple[Any, ...]) -> list[_Worker]:
    """Take a pool out of service; returns its idle workers for the caller to kill (outside the lock)."""
    pool = _pools.pop(key, None)
    if pool is None:
        return []
    pool.retired = True
    idle, pool.idle = pool.idle, []
    return idle


def _acquire(spec: FunctionSpec, endpoint: str) -> tuple[_Pool, _Worker]:
    key = spec.pool_key(endpoint)
    stale: list[_Worker] = []
    with _pool_changed:
        # A new code/config for this function version retires its older warm workers.
        for other in [k for k in _pools if k[:4] == key[:4] and k != key]:
            stale.extend(_retire_pool(other))
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = _Pool(spec, endpoint)
        while True:
            while pool.idle:
                worker = pool.idle.pop()
                if worker.alive:
                    pool.busy.add(worker)
                    break
                stale.append(worker)
            else:
                if len(pool.busy) < MAX_WORKERS_PER_FUNCTION:
                    worker = _Worker(spec, endpoint)
                    pool.busy.add(worker)
                    break
                _pool_changed.wait(0.1)
                continue
            break
    for old in stale:
        old.kill()
    return pool, worker


def _release(pool: _Pool, worker: _Worker) -> None:
    with _pool_changed:
        pool.busy.discard(worker)
        keep = worker.alive and not pool.retired and worker.endpoint in _endpoints
        if keep:
            pool.idle.append(worker)
        _pool_changed.notify_all()
    if not keep:
        worker.kill()


def _take_fault(name: str, function_name: str) -> dict[str, Any] | None:
    """One activation of a function fault for this function: scoped to a prefix of its name, or unscoped;
    a switch with a ``function`` parameter applies to that function only."""
    if not FAULTS.any_on(name):
        return None
    return FAULTS.take(name, resource=function_name, function=function_name) or FAULTS.take(
        name, resource=function_name, function=None
    )


def current_endpoint() -> str | None:
    """The endpoint functions' boto3 clients are pointed at (the most recently started server)."""
    with _lock:
        return _endpoints[-1] if _endpoints else None


def run(fn: LambdaFunction, event_json: str, invoked_arn: str | None = None) -> InvocationResult:
    """Invoke ``fn`` with ``event_json`` synchronously in a worker process (function errors are results)."""
    spec = FunctionSpec.of(fn)
    request_id = str(uuid.uuid4())
    endpoint = current_endpoint()
    if endpoint is None or spec.package_type != "Zip" or not spec.code_bytes:
        reason = (
            "no embedded endpoint is running"
            if endpoint is None
            else "only .zip functions run on the embedded target (container images are not supported)"
        )
        payload = {
            "errorType": "Runtime.InvalidEntrypoint",
            "errorMessage": f"RequestId: {request_id} Error: {reason}",
        }
        return InvocationResult(request_id, json.dumps(payload).encode(), True)
    fault: dict[str, Any] | None = None
    error_fault = _take_fault("function_error", spec.function_name)
    if error_fault is not None:
        fault = {
            "kind": "error",
            "message": error_fault.get("message"),
            "type": error_fault.get("error_type"),
        }
    else:
        timeout_fault = _take_fault("function_timeout", spec.function_name)
        if timeout_fault is not None:
            fault = {"kind": "timeout"}
    pool, worker = _acquire(spec, endpoint)
    try:
        if worker.invocations == 0:  # a cold start: the runtime's Init phase (aws-scaled profile only)
            time.sleep(settings.current().function_start_seconds)
        return worker.invoke(event_json, request_id, invoked_arn or spec.function_arn, fault)
    finally:
        _release(pool, worker)


# --------------------------------------------------------------------------------------------------
# moto patches


def _patched_invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """Replacement for ``LambdaFunction.invoke``: RequestResponse / Event / DryRun, run for real."""
    headers = request_headers or {}
    invocation_type = headers.get("x-amz-invocation-type") or headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if isinstance(body, dict | list):
        body = json.dumps(body)
    event_json = body if body else "{}"
    try:
        json.loads(event_json)
    except ValueError as exc:
        raise LambdaClientError(
            "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from None
    invoked_arn = self.function_arn
    if invocation_type == "DryRun":
        return b""
    response_headers["x-amz-executed-version"] = str(self.version)
    if invocation_type == "Event":
        threading.Thread(target=run, args=(self, event_json, invoked_arn), daemon=True).start()
        return b""
    result = run(self, event_json, invoked_arn)
    if result.function_error:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = base64.b64encode(result.log_tail.encode()).decode()
    return result.payload


def _patched_invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Replacement for ``LambdaFunction._invoke_lambda`` (moto's other event sources): no Docker."""
    event_json = event if isinstance(event, str) else json.dumps(event if event is not None else {})
    result = run(self, event_json)
    return result.payload.decode("utf-8", "replace"), result.function_error, result.log_tail


_original_delete_function = LambdaBackend.delete_function


def _patched_delete_function(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
    """Replacement for ``LambdaBackend.delete_function``: its execution environments end too."""
    name = function_name.split(":function:")[-1].split(":")[0]
    _original_delete_function(self, function_name, qualifier)
    retire_function(self.account_id, self.region_name, name, qualifier)


def _simple_backend_invoke(self: LambdaSimpleBackend, *args: Any, **kwargs: Any) -> Any:
    """``use_docker: false`` in moto's config still runs the real function on the embedded target."""
    return LambdaBackend.invoke(self, *args, **kwargs)


def retire_function(account_id: str, region: str, function_name: str, qualifier: str | None = None) -> None:
    """End every worker of a function (all versions, or one qualifier)."""
    stale: list[_Worker] = []
    with _pool_changed:
        for key in list(_pools):
            if key[:3] == (account_id, region, function_name) and qualifier in (None, key[3]):
                pool = _pools[key]
                stale.extend(_retire_pool(key))
                stale.extend(pool.busy)
    for worker in stale:
        worker.kill()


def shutdown_workers(endpoint: str | None = None) -> None:
    """Kill every worker (or those launched for ``endpoint``), busy ones included."""
    stale: list[_Worker] = []
    with _pool_changed:
        for key in list(_pools):
            pool = _pools[key]
            if endpoint is None or pool.endpoint == endpoint:
                stale.extend(_retire_pool(key))
                stale.extend(pool.busy)
        _pool_changed.notify_all()
    for worker in stale:
        worker.kill()


def live_worker_pids() -> list[int]:
    """PIDs of worker processes this module currently holds (for tests and diagnostics)."""
    with _lock:
        return sorted(w.pid for p in _pools.values() for w in (*p.idle, *p.busy) if w.alive)


def server_started(endpoint: str) -> None:
    """Called by the embedded server once it listens: functions' clients point at the newest server."""
    with _lock:
        if endpoint not in _endpoints:
            _endpoints.append(endpoint)


def server_stopped(endpoint: str) -> None:
    """Called by the embedded server after it stopped: its workers would talk to a dead endpoint."""
    with _lock:
        if endpoint in _endpoints:
            _endpoints.remove(endpoint)
    shutdown_workers(endpoint)


def _at_exit() -> None:
    shutdown_workers()
    shutil.rmtree(_code_dir, ignore_errors=True)


def install() -> None:
    """Route every moto invocation path through :func:`run` (idempotent)."""
    global _installed
    if _installed:
        return
    LambdaFunction.invoke = _patched_invoke  # type: ignore[method-assign]
    LambdaFunction._invoke_lambda = _patched_invoke_lambda  # type: ignore[method-assign]
    LambdaBackend.delete_function = _patched_delete_function  # type: ignore[method-assign]
    LambdaSimpleBackend.invoke = _simple_backend_invoke  # type: ignore[method-assign]
    atexit.register(_at_exit)
    _installed = True
