"""Evidence in a journal, normalised for reading: DynamoDB values in words, diffs trimmed, duplicates merged.

Why tolerant: journals come from older versions, interrupted runs and hand-edited files; every reader here takes
whatever shape it is given (``.get``, lists or single values) rather than fail when an auditor needs the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dr_infra.report.fmt import compact


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v if isinstance(v, dict) else {"value": v} for v in _as_list(value)]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def dynamo_value(value: Any) -> str:
    """A DynamoDB JSON value in words: ``{"S": "a"}`` -> ``a``, ``{"N": "1.5"}`` -> ``1.5``, others compact."""
    if isinstance(value, Mapping) and len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind in {"S", "N", "B"} and isinstance(inner, str):
            return inner
        if kind == "BOOL" and isinstance(inner, bool):
            return "true" if inner else "false"
        if kind == "NULL":
            return "null"
    return compact(value)


def key_text(key: Any) -> str:
    """An item key in words: ``pk=order-0001, sk=ORDER`` (attribute names sorted)."""
    if isinstance(key, Mapping) and key:
        return ", ".join(f"{name}={dynamo_value(key[name])}" for name in sorted(key))
    return compact(key)


def attribute_diffs_text(diffs: Any) -> str:
    """Attribute differences in words: ``price: 19.99 -> 0; tags[2]: (absent) -> x``."""
    if isinstance(diffs, list) and all(isinstance(d, Mapping) and "attribute" in d for d in diffs):

        def side(value: Any) -> str:
            return "(absent)" if value is None else dynamo_value(value)

        return "; ".join(f"{d['attribute']}: {side(d.get('expected'))} -> {side(d.get('actual'))}" for d in diffs)
    if not diffs:
        return ""
    return compact(diffs)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _diffs(raw: Any) -> list[dict[str, Any]]:
    """Data comparisons in words, the first :data:`DIFF_EXAMPLES` differing items, and how many were left out.

    ``compared`` is the expected item count (``compared_expected``; ``compared`` in older journals). ``more``
    comes from the exact counts (missing + extra + changed), not from the examples: the comparison keeps only
    its first few examples, so the journal never holds the others.
    """
    out = []
    for diff in _dicts(raw):
        examples = _dicts(diff.get("examples"))
        shown = [
            {
                "kind": str(ex.get("kind", "")),
                "key": key_text(ex.get("key")),
                "attribute_diffs": attribute_diffs_text(ex.get("attribute_diffs")),
            }
            for ex in examples[:DIFF_EXAMPLES]
        ]
        counts = [_count(diff.get(name)) for name in ("missing", "extra", "changed")]
        differences = sum(c for c in counts if c is not None) if any(c is not None for c in counts) else None
        total = max(differences, len(examples)) if differences is not None else len(examples)
        compared = _count(diff.get("compared_expected"))
        if compared is None:
            compared = _count(diff.get("compared"))
        out.append(
            {
                **diff,
                "compared": compared,
                "compared_actual": _count(diff.get("compared_actual")),
                "differences": differences,
                "summary": str(diff.get("summary") or ""),
                "table": str(diff.get("table") or ""),
                "expected_at": diff.get("expected_at"),
                "shown": shown,
                "more": max(0, total - len(shown)),
            }
        )
    return out


def _recovery_points(raw: Any) -> list[dict[str, Any]]:
    """Recovery points, each ARN once (the backup step and the restore job follow-up both record it)."""
    by_arn: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for point in _dicts(raw):
        arn = point.get("arn")
        if not arn:
            out.append(point)
            continue
        if str(arn) in by_arn:
            seen = by_arn[str(arn)]
            seen.update({k: v for k, v in point.items() if v is not None and seen.get(k) is None})
            continue
        by_arn[str(arn)] = dict(point)
        out.append(by_arn[str(arn)])
    return out


def evidence_lines(value: Any) -> list[str]:
    """Evidence of a shape the report has no section for, as readable lines (``key: value``), not reprs.

    A dict gives one line per key; a list of dicts one line per dict (``key: value, key: value``); a list of
    plain values one line per value. Nested values are shown as compact JSON.
    """

    def inline(item: Any) -> str:
        if isinstance(item, Mapping):
            return ", ".join(f"{k}: {inline(v)}" for k, v in item.items()) or "-"
        if isinstance(item, list) and all(not isinstance(v, Mapping | list) for v in item):
            return ", ".join(compact(v) for v in item) or "-"
        return compact(item) if item is not None else "-"

    if isinstance(value, Mapping):
        return [f"{k}: {inline(v)}" for k, v in value.items()]
    if isinstance(value, list):
        return [inline(item) for item in value]
    return [inline(value)]


def evidence_title(key: str) -> str:
    """An evidence key in words: ``restore_job_count`` -> ``Restore job count``."""
    return key.replace("_", " ").strip().capitalize() or key


KNOWN_EVIDENCE = (
    "restore_jobs",
    "recovery_points",
    "restore_times",
    "monitor_log",
    "diff",
    "throttles",
    "notes",
)


def _throttles(raw: Any) -> dict[str, Any]:
    """``throttles`` is documented as a dict; as an evidence list it may be several dicts: add them up."""
    total: dict[str, Any] = {}
    for item in _as_list(raw):
        if isinstance(item, Mapping):
            for op, count in item.items():
                prev = total.get(op, 0)
                both_numbers = isinstance(prev, int | float) and isinstance(count, int | float)
                total[op] = prev + count if both_numbers else count
    return total


#: How many differing items of a diff the report shows (the journal keeps what the drill recorded).
DIFF_EXAMPLES = 10
#: How many of a user's monitor's own log lines report.md shows for a scenario that met its guarantee.
MONITOR_LINES = 10
_USER_MONITOR = "(the user's monitor: "


def user_monitor(evidence: Mapping[str, Any]) -> dict[str, Any] | None:
    """The change monitor of a scenario drilled with the user's code (a stack definition's ``[monitor]``), for
    report.md: the function drdrill deployed it as, its handler and runtime, and its own log lines since the change
    (evidence ``monitor_output``, the first :data:`MONITOR_LINES`; ``total`` ``None`` when the scenario read none:
    no change was made); ``None`` for drdrill's own monitor.

    Read from the journal alone: ``stack.created`` names the function (``lambda function NAME (the user's monitor:
    SOURCE, HANDLER)``), ``stack.definition.monitor`` its handler and runtime."""
    stack = evidence.get("stack")
    if not isinstance(stack, Mapping):
        return None
    created = [str(c) for c in _as_list(stack.get("created"))]
    entry = next((c for c in created if c.startswith("lambda function ") and _USER_MONITOR in c), None)
    if entry is None:
        return None
    definition = stack.get("definition")
    monitor = definition.get("monitor") if isinstance(definition, Mapping) else None
    monitor = monitor if isinstance(monitor, Mapping) else {}
    lines = [
        {"timestamp": line.get("timestamp"), "message": str(line.get("message") or line.get("value") or "")}
        for line in _dicts(evidence.get("monitor_output"))
    ]
    return {
        "function": entry.removeprefix("lambda function ").split(" (", 1)[0],
        "handler": str(monitor.get("handler") or entry.split(_USER_MONITOR, 1)[1].rstrip(")").split(", ")[-1]),
        "runtime": str(monitor.get("runtime") or ""),
        "lines": lines[:MONITOR_LINES],
        "more": max(0, len(lines) - MONITOR_LINES),
        "total": len(lines) if "monitor_output" in evidence else None,
    }
