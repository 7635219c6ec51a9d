"""What an equivalence check found: exact counts, the first differences and their attribute-level diffs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dr_infra.verify.canonical import Item, normalize_value, to_jsonable

DEFAULT_PARTITIONS = 4096
DEFAULT_MAX_EXAMPLES = 10
MAX_ATTRIBUTE_DIFFS = 50

#: How :attr:`Diff.expected_digest` is made: the sum modulo 2**256 of every item's SHA-256 (of its canonical
#: JSON, :func:`dr_infra.verify.canonical.canonical`), as 64 hex digits: an order-independent hash of the
#: multiset of items.
DIGEST_METHOD = "sha256-multiset-sum/1"


@dataclass
class Diff:
    """What a comparison found. Counts are exact; ``examples`` holds the first ``max_examples`` ones."""

    compared_expected: int = 0
    compared_actual: int = 0
    missing: int = 0
    extra: int = 0
    changed: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    max_examples: int = DEFAULT_MAX_EXAMPLES
    partitions: int = DEFAULT_PARTITIONS
    differing_partitions: int = 0
    drilldown_passes: int = 0
    drilldown_items: int = 0
    """Items (both sides) fully examined in the drill-down; items outside differing partitions are not."""
    expected_digest: str | None = None
    actual_digest: str | None = None
    """Digests of the two sides' data (:data:`DIGEST_METHOD`): equal data gives equal digests, whatever the
    order the items were read in, so the journal pins what exactly was compared."""

    @property
    def equal(self) -> bool:
        return self.missing == 0 and self.extra == 0 and self.changed == 0

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.changed

    def summary(self) -> str:
        """One line for logs and reports."""
        sides = f"{self.compared_expected} expected, {self.compared_actual} actual items"
        if self.equal:
            return f"equal: {sides}"
        return (
            f"NOT equal: {self.missing} missing, {self.extra} extra, {self.changed} changed ({sides}; "
            f"{len(self.examples)} of {self.differences} differences shown)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready evidence (the journal's ``diff``)."""
        return {
            "equal": self.equal,
            "summary": self.summary(),
            "compared_expected": self.compared_expected,
            "compared_actual": self.compared_actual,
            "missing": self.missing,
            "extra": self.extra,
            "changed": self.changed,
            "examples": self.examples,
            "examples_truncated": self.differences > len(self.examples),
            "partitions": self.partitions,
            "differing_partitions": self.differing_partitions,
            "drilldown_passes": self.drilldown_passes,
            "drilldown_items": self.drilldown_items,
            "expected_digest": self.expected_digest,
            "actual_digest": self.actual_digest,
            "digest_method": DIGEST_METHOD,
        }

    def add_example(self, example: dict[str, Any]) -> None:
        if len(self.examples) < self.max_examples:
            self.examples.append(example)

    @property
    def wants_examples(self) -> bool:
        return len(self.examples) < self.max_examples


def attribute_diffs(
    expected: Item, actual: Item, ignore_attributes: Iterable[str] = (), limit: int = MAX_ATTRIBUTE_DIFFS
) -> list[dict[str, Any]]:
    """Where two items differ: ``[{"attribute": "profile.tags[2]", "expected": {...}, "actual": {...}}]``.

    Maps and lists are descended into; a set, scalar or type change is reported at its own path. An absent
    attribute is ``None``.
    """
    ignore = frozenset(ignore_attributes)
    out: list[dict[str, Any]] = []
    for name in sorted((set(expected) | set(actual)) - ignore):
        _diff_value(name, expected.get(name), actual.get(name), out, limit)
        if len(out) >= limit:
            break
    return out[:limit]


def _diff_value(path: str, expected: Any, actual: Any, out: list[dict[str, Any]], limit: int) -> None:
    if len(out) >= limit:
        return
    if expected is None or actual is None:
        if expected is not None or actual is not None:
            out.append({"attribute": path, "expected": to_jsonable(expected), "actual": to_jsonable(actual)})
        return
    norm_expected, norm_actual = normalize_value(expected), normalize_value(actual)
    if norm_expected == norm_actual:
        return
    if "M" in expected and "M" in actual:
        inner_expected, inner_actual = expected["M"], actual["M"]
        for key in sorted(set(inner_expected) | set(inner_actual)):
            _diff_value(f"{path}.{key}", inner_expected.get(key), inner_actual.get(key), out, limit)
        return
    if "L" in expected and "L" in actual:
        list_expected, list_actual = expected["L"], actual["L"]
        for index in range(max(len(list_expected), len(list_actual))):
            _diff_value(
                f"{path}[{index}]",
                list_expected[index] if index < len(list_expected) else None,
                list_actual[index] if index < len(list_actual) else None,
                out,
                limit,
            )
        return
    out.append({"attribute": path, "expected": to_jsonable(expected), "actual": to_jsonable(actual)})
