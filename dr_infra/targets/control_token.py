"""The control token: who may use an embedded endpoint's ``/_drdrill/`` routes (fault switches, IAM enforcement,
the plan clock, whole-table export).

Why: the routes steer a drill (a fault switch turns a passing drill into a failing one; turning IAM enforcement
off voids a least-privilege proof; the export reads any table), and a loopback port answers every local process
and, through DNS rebinding, any web page. So each embedded server makes a random token when it starts and every
control request must carry it in the ``X-Drdrill-Token`` header (the server also refuses a ``Host`` that is not
the loopback address, which is what a rebinding page sends).

Where a client finds it: ``DRDRILL_CONTROL_TOKEN`` when set (``drdrill serve`` prints it), else the token file
the server wrote for its port under ``$XDG_RUNTIME_DIR/drdrill-<uid>/`` (else the temp dir), a folder only the
user can enter holding a file only the user can read; a file another user could have written is ignored.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import urllib.parse
from pathlib import Path

HEADER = "X-Drdrill-Token"
EXPORT_DENIED = "ExportDeniedUnderIamEnforcement"
"""The export route's refusal code while IAM enforcement is on (readers fall back to Scan)."""
ENV = "DRDRILL_CONTROL_TOKEN"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def token_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"drdrill-{os.getuid()}"


def token_file(port: int) -> Path:
    return token_dir() / f"control-{port}.token"


def _private_dir() -> Path:
    folder = token_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{folder} is not a private folder of this user; remove it and start again")
    return folder


def write_token(port: int, token: str) -> Path:
    """Write ``token`` for ``port`` readable by this user only (replacing an older server's file)."""
    path = _private_dir() / f"control-{port}.token"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token)
    return path


def remove_token(port: int, token: str) -> None:
    """Remove the port's token file if it is still this server's."""
    path = token_file(port)
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8").strip() == token:
            path.unlink()


def _port(endpoint_url: str) -> int | None:
    parsed = urllib.parse.urlsplit(endpoint_url)
    if parsed.hostname not in LOOPBACK_HOSTS:
        return None
    try:
        return parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return None


def read_token(endpoint_url: str) -> str | None:
    """The token for ``endpoint_url``: ``$DRDRILL_CONTROL_TOKEN``, else the loopback port's private token file."""
    if os.environ.get(ENV):
        return os.environ[ENV].strip()
    port = _port(endpoint_url)
    if port is None:
        return None
    path = token_file(port)
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def host_is_loopback(host_header: str) -> bool:
    """Whether an HTTP ``Host`` header names the loopback address (with or without a port)."""
    host = host_header.strip()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.lower() in LOOPBACK_HOSTS
