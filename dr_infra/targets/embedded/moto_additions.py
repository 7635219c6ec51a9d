"""The record of what the embedded target's modules add to moto's resources, each entry under a typed key.

Several modules keep state beside moto's own (:mod:`.history`'s item histories beside its tables,
:mod:`.esm_lifecycle`'s state machines beside its event source mappings, ...). Its types belong to those modules,
and they read it through :data:`.process_state.MOTO_ADDITIONS`, so the record cannot name the types itself (it
would import the modules that import it): each module declares an :class:`AdditionKey` constant saying what it
keeps and how to make it empty, and reads ``MOTO_ADDITIONS[KEY]``, typed by the key. The keys are constants; the
values live in the one record, which lists them (:meth:`MotoAdditions.names`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class AdditionKey(Generic[T]):
    """One module's entry in :class:`MotoAdditions`: its name (``module:what``) and how to make it empty."""

    name: str
    empty: Callable[[], T]


class MotoAdditions:
    """The values of the :class:`AdditionKey` entries, each made on first use (thread-safe)."""

    def __init__(self) -> None:
        self._values: dict[AdditionKey[Any], Any] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: AdditionKey[T]) -> T:
        value = self._values.get(key)  # the hot path: a request's lookup, no lock once the entry exists
        if value is None:
            with self._lock:
                value = self._values.setdefault(key, key.empty())
        return cast(T, value)

    def names(self) -> list[str]:
        """The entries made so far, by name."""
        with self._lock:
            return sorted(key.name for key in self._values)
