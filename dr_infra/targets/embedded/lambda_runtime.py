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
* Output goes to CloudWatch Logs (if the execution role allows it), group ``/aws/lambda/<name>`` (created
  if missing), one log stream per
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
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` of the execution role
(:mod:`execution_role`, so each call is authorized against the role's policies); ``PATH``; and AWS's
other reserved runtime variables (``_HANDLER``, ``AWS_EXECUTION_ENV``, ``LAMBDA_TASK_ROOT``, ``TZ``,
``LANG``, ``AWS_LAMBDA_INITIALIZATION_TYPE``). ``CreateFunction`` refuses a role that does not trust
Lambda (:mod:`execution_role`). Logs are written by :mod:`lambda_logs`, one worker process is
:mod:`lambda_process`, the invocation snapshot :mod:`lambda_spec`; this module keeps the pools of warm
workers and the moto patches. Differences from AWS, on purpose or by necessity:

* The interpreter is the one running drdrill, whatever ``Runtime`` says; the function sees its own files,
  the standard library and only the packages AWS's Python runtime provides
  (:mod:`lambda_python_runtime`: anything else is ``Runtime.ImportModuleError``). Container images and
  layers are not supported (image functions fail with ``Runtime.InvalidEntrypoint``; layers are ignored).
* Warm workers are keyed by function, version, code hash and configuration (handler, runtime, memory,
  environment variables, role, endpoint); the first invocation after a code or configuration change ends the
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
import json
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction, LambdaStorage
from moto.awslambda_simple.models import LambdaSimpleBackend

from dr_infra.targets.embedded import (
    execution_role,
    function_state,
    lambda_logs,
    lambda_spares,
    moto_patch,
    process_state,
)
from dr_infra.targets.embedded.lambda_process import Worker, code_dir
from dr_infra.targets.embedded.lambda_spec import FunctionSpec, InvocationResult
from dr_infra.targets.embedded.process_state import SWITCHES

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.awslambda.models.LambdaFunction.invoke",
    "moto.awslambda.models.LambdaFunction._invoke_lambda",
    "moto.awslambda.models.LambdaBackend.delete_function",
    "moto.awslambda.models.LambdaStorage.put_function",
    "moto.awslambda.models.LambdaBackend.invoke",
    "moto.awslambda.exceptions.LambdaClientError",
    "moto.awslambda.exceptions.InvalidParameterValueException",
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke",
    *lambda_logs.HOOKED_INTERNALS,
    *execution_role.HOOKED_INTERNALS,
)
"""moto internals this module replaces or relies on (checked by :func:`patches.check_internals`). It also
reads these ``LambdaFunction`` instance attributes: ``code_bytes``, ``code_sha_256``, ``environment_vars``,
``handler``, ``run_time``, ``timeout``, ``memory_size``, ``version``, ``function_arn``, ``package_type``,
``role``."""

MAX_WORKERS_PER_FUNCTION = 4

_lock = threading.RLock()
_pool_changed = threading.Condition(_lock)
_endpoints: list[str] = []
_pools: dict[tuple[Any, ...], _Pool] = {}


@dataclass
class _Pool:
    spec: FunctionSpec
    endpoint: str
    idle: list[Worker] = field(default_factory=list)
    busy: set[Worker] = field(default_factory=set)
    retired: bool = False


def _retire_pool(key: tuple[Any, ...]) -> list[Worker]:
    """Take a pool out of service; returns its idle workers for the caller to kill (outside the lock)."""
    pool = _pools.pop(key, None)
    if pool is None:
        return []
    pool.retired = True
    idle, pool.idle = pool.idle, []
    return idle


def _acquire(spec: FunctionSpec, endpoint: str) -> tuple[_Pool, Worker]:
    key = spec.pool_key(endpoint)
    stale: list[Worker] = []
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
                    worker = Worker(spec, endpoint)
                    pool.busy.add(worker)
                    break
                _pool_changed.wait(0.1)
                continue
            break
    for old in stale:
        old.kill()
    return pool, worker


def _release(pool: _Pool, worker: Worker) -> None:
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
    if not SWITCHES.faults.any_on(name):
        return None
    return SWITCHES.faults.take(name, resource=function_name, function=function_name) or SWITCHES.faults.take(
        name, resource=function_name, function=None
    )


def current_endpoint() -> str | None:
    """The endpoint functions' boto3 clients are pointed at (the most recently started server)."""
    with _lock:
        return _endpoints[-1] if _endpoints else None


def run(fn: LambdaFunction, event_json: str, invoked_arn: str | None = None) -> InvocationResult:
    """Invoke ``fn`` with ``event_json`` synchronously in a worker process (function errors are results); during
    an update in progress, the function as it was before it (:func:`function_state.spec_for`)."""
    spec = function_state.spec_for(fn)
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
            time.sleep(process_state.current_settings().function_start_seconds)
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


_original_put_function = LambdaStorage.put_function


def _patched_put_function(self: LambdaStorage, fn: LambdaFunction) -> None:
    """Replacement for ``LambdaStorage.put_function`` (CreateFunction): the role must trust Lambda.

    moto checks only that the role exists (and answers AWS's message when it does not); a role that exists but
    trusts another service, or nobody, is refused with the same message (see :mod:`execution_role`)."""
    role = str(getattr(fn, "role", "") or "")
    account = str(getattr(fn, "account_id", "") or "")
    if (
        role.startswith("arn:")
        and execution_role.role_exists(role, account)
        and not execution_role.lambda_may_assume(role, account)
    ):
        raise InvalidParameterValueException(execution_role.ROLE_NOT_ASSUMABLE)
    _original_put_function(self, fn)


def _simple_backend_invoke(self: LambdaSimpleBackend, *args: Any, **kwargs: Any) -> Any:
    """``use_docker: false`` in moto's config still runs the real function on the embedded target."""
    return LambdaBackend.invoke(self, *args, **kwargs)


def retire_function(account_id: str, region: str, function_name: str, qualifier: str | None = None) -> None:
    """End every worker of a function (all versions, or one qualifier)."""
    stale: list[Worker] = []
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
    stale: list[Worker] = []
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
    lambda_spares.enable()
    lambda_spares.fill(tempfile.gettempdir())  # the first function's cold start finds a process waiting


def server_stopped(endpoint: str) -> None:
    """Called by the embedded server after it stopped: its workers would talk to a dead endpoint."""
    with _lock:
        if endpoint in _endpoints:
            _endpoints.remove(endpoint)
        last = not _endpoints
    if last:
        lambda_spares.stop()
    shutdown_workers(endpoint)


def _at_exit() -> None:
    lambda_spares.stop()
    shutdown_workers()
    shutil.rmtree(code_dir, ignore_errors=True)


def install() -> None:
    """Route every moto invocation path through :func:`run`."""
    moto_patch.replace(LambdaFunction, "invoke", _patched_invoke, by=__name__)
    moto_patch.replace(LambdaFunction, "_invoke_lambda", _patched_invoke_lambda, by=__name__)
    moto_patch.replace(LambdaBackend, "delete_function", _patched_delete_function, by=__name__)
    moto_patch.replace(LambdaStorage, "put_function", _patched_put_function, by=__name__)
    moto_patch.replace(LambdaSimpleBackend, "invoke", _simple_backend_invoke, by=__name__)
    moto_patch.once("atexit", lambda: atexit.register(_at_exit), by=__name__)
