"""The one helper every gap-filler installs its moto patches with: applied once per process, each one recorded.

Why: a gap-filler's ``install()`` used to guard itself with a module-level ``_installed`` flag and hand-assign
attributes of moto's classes. Here each patch is applied at most once per (moto attribute, kind of change,
gap-filler), refused with :class:`MotoInternalsChanged` when the attribute it replaces or wraps no longer exists in
moto (the internals are undocumented; moto is pinned, :mod:`dr_infra.targets.embedded.patches`), and recorded, so
:func:`applied` says exactly which moto internals drdrill changed and which gap-filler changed each. Two gap-fillers
may wrap the same attribute (their wraps stack in install order, the later one outermost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

Kind = Literal["replace", "wrap", "add", "call"]


class MotoInternalsChanged(RuntimeError):
    """The installed moto is not the one drdrill's embedded target was written against."""


@dataclass(frozen=True)
class Patch:
    """One change drdrill made to moto: ``target`` (dotted), what kind, and the gap-filler module that made it."""

    target: str
    kind: Kind
    by: str


def _dotted(owner: Any, name: str) -> str:
    """``moto.dynamodb.responses.DynamoHandler.list_backups``: a class's or a module's attribute, dotted."""
    if isinstance(owner, ModuleType):
        return f"{owner.__name__}.{name}"
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def _existing(owner: Any, name: str, target: str, by: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        raise MotoInternalsChanged(f"moto internal {target} no longer exists; {by} needs updating") from None


class PatchLog:
    """The changes made to one set of classes, each at most once: :data:`MOTO` for moto's own (a test of the
    helper itself keeps a log of its own, over stand-in classes)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._applied: dict[tuple[str, Kind, str], Patch] = {}

    def _record(self, target: str, kind: Kind, by: str, apply: Callable[[], object]) -> bool:
        with self._lock:
            if (target, kind, by) in self._applied:
                return False
            apply()
            self._applied[(target, kind, by)] = Patch(target, kind, by)
            return True

    def replace(self, owner: Any, name: str, value: Any, *, by: str) -> bool:
        """Replace moto's ``owner.name`` (which must exist) with ``value``, once; True when applied now."""
        target = _dotted(owner, name)

        def apply() -> None:
            _existing(owner, name, target, by)
            setattr(owner, name, value)

        return self._record(target, "replace", by, apply)

    def wrap(self, owner: Any, name: str, wrapper: Callable[[Any], Any], *, by: str) -> bool:
        """Set ``owner.name`` to ``wrapper(original)`` (the original must exist), once; True when applied now."""
        target = _dotted(owner, name)

        def apply() -> None:
            setattr(owner, name, wrapper(_existing(owner, name, target, by)))

        return self._record(target, "wrap", by, apply)

    def add(self, owner: Any, name: str, value: Any, *, by: str) -> bool:
        """Give moto's ``owner`` an attribute it lacks or keeps unimplemented (a handler, a route table), once."""
        return self._record(_dotted(owner, name), "add", by, lambda: setattr(owner, name, value))

    def once(self, target: str, action: Callable[[], object], *, by: str) -> bool:
        """Run a change that is no attribute assignment (a route added to a table, an error code registered),
        once. ``target`` names what it changes (dotted, ``moto.backup.urls.url_paths``)."""
        return self._record(target, "call", by, action)

    def count(self) -> int:
        """How many changes were made so far (cheap: what a per-request cache compares, :mod:`action_lookup`)."""
        with self._lock:
            return len(self._applied)

    def applied(self) -> list[Patch]:
        """Every change made so far, in the order it was made."""
        with self._lock:
            return list(self._applied.values())


MOTO = PatchLog()
"""The changes drdrill made to moto: one per process, since moto's classes (and its backends) are process-global."""
replace = MOTO.replace
wrap = MOTO.wrap
add = MOTO.add
once = MOTO.once
applied = MOTO.applied
