"""One embedded target for the integration tests, and a lister of everything a stack could leave behind."""

from __future__ import annotations

from typing import Any

from tests.leftovers import leftovers as shared_leftovers


def leftovers(target: Any, prefix: str, plan_ids: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every resource whose name starts with ``prefix``, by kind (empty lists when clean)."""
    return shared_leftovers(target.client, prefix, plan_ids)


def assert_clean(target: Any, prefix: str, plan_ids: tuple[str, ...] = ()) -> None:
    left = {kind: names for kind, names in leftovers(target, prefix, plan_ids).items() if names}
    assert not left, f"left behind: {left}"
