"""One Lambda execution environment: runs a deployed function's handler in its own process.

Started by :mod:`dr_infra.targets.embedded.lambda_process` as ``python -S -s lambda_worker.py <runtime dir>``
(or ahead of need as a spare, ``--spare``, told its function by its first stdin line: :mod:`lambda_spares`)
with the function's extracted zip as working directory and ``PYTHONPATH``, and an environment holding
only what AWS gives a function (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
It imports nothing from drdrill, so the function sees only its own code, the standard library and the folder
of what AWS's Python runtime provides (boto3, botocore and their dependencies,
:mod:`dr_infra.targets.embedded.lambda_python_runtime`).

What AWS's Python runtime does and what is modelled
(https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html, .../python-context.html,
.../python-logging.html, .../python-exceptions.html):

* The handler module is imported once per execution environment (Init), then the handler is called
  once per invocation with ``(event, context)``; module state survives between warm invocations.
* ``context`` has ``function_name``, ``function_version``, ``invoked_function_arn``,
  ``memory_limit_in_mb``, ``aws_request_id``, ``log_group_name``, ``log_stream_name``, ``identity``,
  ``client_context`` and ``get_remaining_time_in_millis()``.
* ``print`` output and anything written to stdout/stderr becomes one log event per line; the root
  logger has a handler writing ``[LEVEL]\\t<time>Z\\t<request id>\\t<message>`` as one event (level left
  at Python's default WARNING, as on AWS).
* An unhandled exception becomes ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` and is
  logged as ``[ERROR] <type>: <message>`` followed by the traceback. Import failures are
  ``Runtime.ImportModuleError``, a missing handler ``Runtime.HandlerNotFound``, an unserialisable result
  ``Runtime.MarshalError``.

Protocol (JSON lines): requests arrive on stdin (``{"t": "invoke", ...}`` / ``{"t": "stop"}``); replies
go to a private duplicate of the original stdout (``{"t": "log"}`` lines while the handler runs, then
one ``{"t": "done"}``). File descriptor 1 is pointed at stderr so stray writes cannot corrupt the
protocol; the parent turns raw stderr lines into log events too. The worker exits when stdin closes or
its parent process disappears.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    # Started as a script: Python put this file's folder first on sys.path. The function must not see it.
    del sys.path[0]
# Started with -S: the runtime's package folder comes as an argument, after the function's own code, without
# any .pth file (neither an editable drdrill install nor anything else installed for drdrill leaks in).
SPARE_FLAG = "--spare"
"""Started as a spare (:mod:`lambda_spares`): no function yet; it is assigned one by the first line on stdin."""
_RUNTIME_ARGS = [arg for arg in sys.argv[1:] if arg != SPARE_FLAG]
sys.path.extend(arg for arg in _RUNTIME_ARGS if arg not in sys.path)
PRELOADED = ("boto3", "botocore")
"""What a spare imports while it waits: the AWS SDK the runtime provides, the slow part of a worker's start."""


class _Channel:
    """The protocol stream back to the parent (thread-safe, one JSON object per line)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


class _LogWriter:
    """``sys.stdout`` / ``sys.stderr`` replacement: each complete line becomes one log event."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self._buffer = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._channel.send({"t": "log", "ts": int(time.time() * 1000), "msg": line})
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        if rest:
            self._channel.send({"t": "log", "ts": int(time.time() * 1000), "msg": rest})

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 2


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class _LambdaLogHandler(logging.Handler):
    """AWS's text-format log handler: one log event per record, multi-line messages kept together."""

    def __init__(self, channel: _Channel) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            message = record.getMessage()
        self._channel.send({"t": "log", "ts": int(record.created * 1000), "msg": message})


class LambdaContext:
    """The context object AWS passes as the handler's second argument."""

    def __init__(self, fields: dict[str, Any], deadline_ms: int) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields["function_version"]
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(fields["memory_limit_in_mb"])
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _load_handler(spec: str) -> Any:
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise _InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
    except Exception as exc:
        raise _InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


def _error_payload(exc: BaseException, request_id: str, skip_frames: int = 1) -> dict[str, Any]:
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None:
            tb = tb.tb_next
    error_type = getattr(exc, "error_type", None) or type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(tb)) if tb is not None else [],
    }


def _max_memory_mb() -> int:
    return max(1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(1)


def _read_line_unbuffered() -> str:
    """One line from fd 0, read byte by byte so nothing after it is buffered away (a re-exec keeps the rest)."""
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8")


def _assigned() -> bool:
    """A spare: import :data:`PRELOADED`, wait for the function, then become its execution environment as a
    worker started for it would be (its environment variables, its folder as cwd and first on ``sys.path``,
    no bytecode written). A package holding a module the preload imported (its own ``boto3``, ``urllib3``,
    ...) would be shadowed by that import, so the spare re-executes itself as a fresh worker with the
    function's environment instead. ``False``: no function came (stop or end of input)."""
    before = set(sys.modules)
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 - the function's own import will report it
            continue
    preloaded = {name.partition(".")[0] for name in set(sys.modules) - before}
    line = _read_line_unbuffered()
    if not line.strip():
        return False
    message = json.loads(line)
    if message.get("t") != "assign":
        return False
    env, cwd = dict(message["env"]), str(message["cwd"])
    os.chdir(cwd)
    shipped = {entry.name.removesuffix(".py") for entry in os.scandir(cwd)}
    if shipped & preloaded:
        script = str(Path(__file__).resolve())
        os.execve(sys.executable, [sys.executable, "-S", "-s", script, *_RUNTIME_ARGS], env)  # noqa: S606
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    sys.dont_write_bytecode = True
    sys.path.insert(0, cwd)  # where PYTHONPATH puts it in a worker started for the function
    importlib.invalidate_caches()
    return True


def main() -> int:
    if SPARE_FLAG in sys.argv[1:] and not _assigned():
        return 0
    channel = _Channel(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)  # stray fd-level writes go to stderr, never into the protocol
    writer = _LogWriter(channel)
    sys.stdout = writer  # type: ignore[assignment]
    sys.stderr = writer  # type: ignore[assignment]
    runtime = _Runtime(channel, writer, _install_log_handler(channel))
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    for line in sys.__stdin__ or []:
        message = json.loads(line)
        if message.get("t") == "stop":
            break
        if message.get("t") == "invoke":
            channel.send(runtime.invoke(message))
    return 0


def _install_log_handler(channel: _Channel) -> _RequestIdFilter:
    """The root logger writes Lambda's log format (level, time, request id) to the channel; returns the filter
    that stamps the current request id."""
    request_filter = _RequestIdFilter()
    log_handler = _LambdaLogHandler(channel)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    log_handler.setFormatter(formatter)
    log_handler.addFilter(request_filter)
    logging.getLogger().addHandler(log_handler)
    return request_filter


class _Runtime:
    """The execution environment's handler (loaded on the first invocation, again after an init error) and
    how each invocation's reply is built."""

    def __init__(self, channel: _Channel, writer: _LogWriter, request_filter: _RequestIdFilter) -> None:
        self.channel = channel
        self.writer = writer
        self.request_filter = request_filter
        self.handler: Any = None

    def invoke(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run one ``invoke`` message; the ``done`` reply (payload, ok, duration, init duration, memory)."""
        request_id = message["id"]
        self.request_filter.request_id = request_id
        init_ms: float | None = None
        started = time.perf_counter()
        reply: dict[str, Any] = {"t": "done", "id": request_id}
        try:
            if self.handler is None:
                init_started = time.perf_counter()
                self.handler = _load_handler(message["handler"])
                init_ms = (time.perf_counter() - init_started) * 1000
                started = time.perf_counter()
            reply["payload"] = self._call(message)
            reply["ok"] = True
        except _InitError as exc:
            self.handler = None if exc.error_type != "Runtime.MarshalError" else self.handler
            payload = {
                "errorMessage": str(exc),
                "errorType": exc.error_type,
                "requestId": request_id,
                "stackTrace": [],
            }
            reply.update(ok=False, payload=json.dumps(payload))
            self.channel.send({"t": "log", "ts": int(time.time() * 1000), "msg": f"[ERROR] {exc.error_type}: {exc}"})
        except Exception as exc:
            payload = _error_payload(exc, request_id)
            reply.update(ok=False, payload=json.dumps(payload))
            text = f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\n"
            text += "Traceback (most recent call last):\n"
            self.channel.send({"t": "log", "ts": int(time.time() * 1000), "msg": text + "".join(payload["stackTrace"])})
        self.writer.flush()
        reply["duration_ms"] = (time.perf_counter() - started) * 1000
        reply["init_ms"] = init_ms
        reply["max_memory_mb"] = _max_memory_mb()
        return reply

    def _call(self, message: dict[str, Any]) -> str:
        """The handler's result as JSON (an injected ``function_error`` fault raises instead)."""
        fault = message.get("fault")
        event = json.loads(message["event"])
        context = LambdaContext(message["context"], int(message["deadline_ms"]))
        if fault:
            error_class = type(str(fault.get("type") or "InjectedFunctionError"), (Exception,), {})
            raise error_class(str(fault.get("message") or "function_error fault injected by drdrill"))
        result = self.handler(event, context)
        try:
            return json.dumps(result)
        except (TypeError, ValueError) as exc:
            raise _InitError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
