"""Values in the words and units a person reads fastest: durations, times, and any JSON value on one line.

Why its own module: the HTML, Markdown, JUnit and terminal renderers and the charts all format the same numbers;
one formatter keeps "850 ms" from being "0.85 s" in one place and "0.850" in another.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def fmt_seconds(value: Any) -> str:
    """Seconds in the unit a person reads fastest: ``850 ms``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    seconds = float(value)
    if seconds == 0:
        return "0 s"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def fmt_time(value: Any) -> str:
    """An ISO-8601 time as ``2025-03-01 10:15:00 UTC`` (milliseconds kept when not zero); other text as-is."""
    if not value:
        return "-"
    if not isinstance(value, str):
        return str(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + (" UTC" if moment.tzinfo is not None else "")


def compact(value: Any) -> str:
    """One-line text for a value of any shape (dicts and lists as compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
