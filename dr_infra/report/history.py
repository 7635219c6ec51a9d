"""Earlier runs' journals, for the RTO and RPO trend across runs.

Why tolerant: a history folder collects whatever runs left behind (report.json of older versions,
unrelated JSON files, half-written files of interrupted runs). A file that is not a drdrill journal is
skipped rather than failing the report of the current run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_PREFIX = "drdrill-journal/"


def is_journal(data: Any) -> bool:
    """Whether ``data`` looks like a drdrill journal (schema ``drdrill-journal/N`` and a run id)."""
    return (
        isinstance(data, Mapping) and str(data.get("schema", "")).startswith(SCHEMA_PREFIX) and bool(data.get("run_id"))
    )


def load_history(history_dir: Path | None, exclude_run_id: str | None = None) -> list[dict[str, Any]]:
    """Journals found in ``history_dir`` (``*.json``, recursively), oldest first, one per run id.

    The current run (``exclude_run_id``) is left out: the caller appends it as the newest point.
    """
    if history_dir is None or not history_dir.is_dir():
        return []
    runs: dict[str, dict[str, Any]] = {}
    for path in sorted(history_dir.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.debug("history: skipping %s: %s", path, exc)
            continue
        if not is_journal(data) or data["run_id"] == exclude_run_id:
            continue
        runs[str(data["run_id"])] = data
    return sorted(runs.values(), key=lambda run: str(run.get("started_at") or ""))
