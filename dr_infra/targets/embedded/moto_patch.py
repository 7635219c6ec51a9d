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


_lock = threading.RLock()
_applied: dict[tuple[str, Kind, str], Patch] = {}


def _dotted(owner: Any, name: str) -> str:
    """``moto.dynamodb.responses.DynamoHandler.list_backups``: a class's or a module's attribute, dotted."""
    if isinstance(owner, ModuleType):
        return f"{owner.__name__}.{name}"
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def _record(target: str, kind: Kind, by: str, apply: Callable[[], object]) -> bool:
    with _lock:
        if (target, kind, by) in _applied:
            return False
        apply()
        _applied[(target, kind, by)] = Patch(target, kind, by)
        return True


def _existing(owner: Any, name: str, target: str, by: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        raise MotoInternalsChanged(f"moto internal {target} no longer exists; {by} needs updating") from None


def replace(owner: Any, name: str, value: Any, *, by: str) -> bool:
    """Replace moto's ``owner.name`` (which must exist) with ``value``, once; True when applied now."""
    target = _dotted(owner, name)

    def apply() -> None:
        _existing(owner, name, target, by)
        setattr(owner, name, value)

    return _record(target, "replace", by, apply)


def wrap(owner: Any, name: str, wrapper: Callable[[Any], Any], *, by: str) -> bool:
    """Set ``owner.name`` to ``wrapper(original)`` (the original must exist), once; True when applied now."""
    target = _dotted(owner, name)

    def apply() -> None:
        setattr(owner, name, wrapper(_existing(owner, name, target, by)))

    return _record(target, "wrap", by, apply)


def add(owner: Any, name: str, value: Any, *, by: str) -> bool:
    """Give moto's ``owner`` an attribute it lacks or keeps unimplemented (a handler, a route table), once."""
    return _record(_dotted(owner, name), "add", by, lambda: setattr(owner, name, value))


def once(target: str, action: Callable[[], object], *, by: str) -> bool:
    """Run a change that is no attribute assignment (a route added to a table, an error code registered), once.
    ``target`` names what it changes (dotted, ``moto.backup.urls.url_paths``)."""
    return _record(target, "call", by, action)


def applied() -> list[Patch]:
    """Every change made to moto so far, in the order it was made."""
    with _lock:
        return list(_applied.values())
