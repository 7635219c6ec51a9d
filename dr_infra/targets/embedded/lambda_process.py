"""One execution environment's process: the function's zip, a clean interpreter, AWS's environment variables.

See :mod:`lambda_runtime` for what AWS does and what is modelled; this module starts and talks to one worker
(:mod:`lambda_worker`) and frames each invocation in the log as Lambda does. The worker's credentials are
its execution role's (:mod:`execution_role`), never the embedded target's own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dr_infra.targets.embedded import execution_role, lambda_python_runtime, lambda_spares
from dr_infra.targets.embedded.lambda_logs import iso_now, now_ms, put_logs
from dr_infra.targets.embedded.lambda_spec import FunctionSpec, InvocationResult

WORKER_SCRIPT = str(Path(__file__).resolve().parent / "lambda_worker.py")
LOG_TAIL_BYTES = 4096

_extract_lock = threading.Lock()
code_dir = tempfile.mkdtemp(prefix="drdrill-lambda-")


def _extract(spec: FunctionSpec) -> str:
    """The function's zip, extracted once per code hash."""
    digest = spec.code_sha256 or hashlib.sha256(spec.code_bytes).hexdigest()
    target = Path(code_dir) / digest.replace("/", "_").replace("+", "-")[:64]
    with _extract_lock:
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(dir=code_dir))
            with zipfile.ZipFile(io.BytesIO(spec.code_bytes)) as archive:
                archive.extractall(staging)
            staging.replace(target)
    return str(target)


class Worker:
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
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": code_dir,
                "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
                "PYTHONPATH": code_dir,
                "PYTHONDONTWRITEBYTECODE": "1",
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
            }
        )
        env.update(
            execution_role.credentials(spec.role, spec.function_name, spec.region, spec.account_id).environment()
        )
        spare = lambda_spares.take(env, code_dir)  # a process already started, told its function now
        self.proc = spare or subprocess.Popen(
            [sys.executable, "-S", "-s", WORKER_SCRIPT, lambda_python_runtime.packages_folder()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=code_dir,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        lambda_spares.fill(tempfile.gettempdir())  # the next new environment finds one waiting
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
            put_logs(self.spec, self.log_stream, [(now_ms(), line)])

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
        """One invocation framed as Lambda logs it: START, the function's lines, END, REPORT."""
        spec = self.spec
        self.invocations += 1
        log: list[str] = []

        def emit(ts: int, message: str) -> None:
            log.append(message)
            put_logs(spec, self.log_stream, [(ts, message)])

        emit(now_ms(), f"START RequestId: {request_id} Version: {spec.version}")
        started = time.monotonic()
        deadline = started + spec.timeout
        deadline_ms = now_ms() + int(spec.timeout * 1000)
        done: dict[str, Any] | None = None
        exited = False
        if fault is not None and fault.get("kind") == "timeout":
            timed_out = True
        else:
            exited = not self._send(self._request(event_json, request_id, invoked_arn, fault, deadline_ms))
            done, exited, timed_out = self._await_done(request_id, deadline, emit, exited)
        elapsed_ms = (time.monotonic() - started) * 1000
        result = self._result(request_id, done, exited, timed_out, elapsed_ms, emit)
        emit(now_ms(), f"END RequestId: {request_id}")
        emit(now_ms(), self._report_line(result, done, timed_out))
        result.worker_pid = self.pid
        tail = "\n".join(log).encode()[-LOG_TAIL_BYTES:]
        result.log_tail = tail.decode("utf-8", "ignore")
        return result

    def _request(
        self, event_json: str, request_id: str, invoked_arn: str, fault: dict[str, Any] | None, deadline_ms: int
    ) -> dict[str, Any]:
        """The worker protocol's invoke message: the event, the deadline, the fault and the Lambda context."""
        spec = self.spec
        return {
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

    def _send(self, request: dict[str, Any]) -> bool:
        """Write one message to the worker; False when its stdin is gone (the process exited)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def _await_done(
        self, request_id: str, deadline: float, emit: Callable[[int, str], None], exited: bool
    ) -> tuple[dict[str, Any] | None, bool, bool]:
        """Relay the worker's log lines until its ``done`` for ``request_id``, its exit, or the deadline.

        Returns ``(done, exited, timed_out)``.
        """
        done: dict[str, Any] | None = None
        while not exited and done is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, False, True
            try:
                message = self.messages.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            kind = message.get("t")
            if kind == "log":
                emit(int(message.get("ts") or now_ms()), str(message.get("msg", "")))
            elif kind == "done" and message.get("id") == request_id:
                done = message
            elif kind == "eof":
                exited = True
        return done, exited, False

    def _result(
        self,
        request_id: str,
        done: dict[str, Any] | None,
        exited: bool,
        timed_out: bool,
        elapsed_ms: float,
        emit: Callable[[int, str], None],
    ) -> InvocationResult:
        """The invocation's result: a timeout and a runtime exit as Lambda reports them (and the environment reset),
        else the function's own payload."""
        spec = self.spec
        if timed_out:
            text = f"Task timed out after {spec.timeout:.2f} seconds"
            emit(now_ms(), f"{iso_now()} {request_id} {text}")
            payload = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: {text}",
            }
            result = InvocationResult(request_id, json.dumps(payload).encode(), True, True, spec.timeout * 1000)
            self.kill()  # AWS resets the execution environment after a timeout
            return result
        if exited or done is None:
            code = self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
            text = f"Runtime exited with error: exit status {code}"
            emit(now_ms(), f"RequestId: {request_id} Error: {text}")
            payload = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: {text}",
            }
            result = InvocationResult(request_id, json.dumps(payload).encode(), True, False, elapsed_ms)
            self.kill()
            return result
        duration = float(done.get("duration_ms") or elapsed_ms)
        return InvocationResult(
            request_id, str(done.get("payload", "null")).encode(), not done.get("ok"), False, duration
        )

    def _report_line(self, result: InvocationResult, done: dict[str, Any] | None, timed_out: bool) -> str:
        """Lambda's REPORT line: duration, billed duration, memory, init duration, timeout status."""
        report = (
            f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(result.duration_ms))} ms\t"
            f"Memory Size: {self.spec.memory_size} MB\t"
            f"Max Memory Used: {int((done or {}).get('max_memory_mb') or 0) or '-'} MB"
        )
        if done and done.get("init_ms"):
            report += f"\tInit Duration: {float(done['init_ms']):.2f} ms"
        if timed_out:
            report += "\tStatus: timeout"
        return report
