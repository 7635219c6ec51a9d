"""Report files written atomically: a crash while rendering never leaves a half-written or empty report.

Each file is written to a temporary name in the same folder and renamed over its final name (a rename is
atomic on one file system), so a reader sees the previous version or the new one, never a truncated file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from dr_infra.errors import ConfigError


def write_atomically(path: Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary sibling and a rename."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    return path


LATEST = "latest"


def check_report_dir(path: Path) -> Path:
    """Refuse, before any work starts, a report folder the run could not write or would write wrongly.

    Found only after the drill, an unusable folder used to cost the whole run (an hour on AWS) and its journal.
    The folder must not be drdrill's ``latest`` link or inside it (that would write through the link over the
    previous run's report); it may not exist yet, but then its nearest existing parent must be a writable folder.
    """
    parts = path.parts
    if LATEST in parts:
        raise ConfigError(
            f"--report-dir {path}: '{LATEST}' is drdrill's link to the newest report, so writing there would "
            "overwrite the previous run; give a new folder, e.g. reports/my-drill"
        )
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is a file" if existing == path else f"cannot be created: {existing} is a file"
        raise ConfigError(f"--report-dir {path} {what}; give a folder (existing or new) to write the report into")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == path else f" (its parent {existing} is not writable)"
        raise ConfigError(f"--report-dir {path} is not writable{where}; give a folder you can write to")
    return path
