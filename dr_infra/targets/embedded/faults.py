"""Fault switches for chaos on the restore path of the embedded target.

AWS has no switch to make a restore fail on purpose; AWS Fault Injection Service cannot inject API errors
into ``backup`` or ``dynamodb`` calls (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html).
The embedded target can, so drills can prove what drdrill reports when recovery itself breaks.

A switch is a name plus parameters and an optional count of activations:

* ``restore_job_fails`` (``message``): restore jobs end ``FAILED`` with that ``StatusMessage``.
* ``restore_job_duration`` (``seconds``): restore jobs stay ``RUNNING`` that long, ``PercentDone`` rising.
* ``start_restore_denied`` (``message``): ``StartRestoreJob`` raises ``AccessDeniedException``.
* ``throttle`` (``operation``, ``count``): the next ``count`` calls of that operation raise
  ``ThrottlingException`` (botocore's standard retry mode retries them).
* ``function_error`` (``count``): the next ``count`` function invocations raise an error.
* ``function_timeout`` (``count``): the next ``count`` invocations run past the function's Timeout.
* ``stream_records_aged`` (``seconds``): event source mapping pollers judge ``MaximumRecordAgeInSeconds`` as if
  every stream record were that much older (AWS's minimum age limit is 60 s; this lets a test see the rule
  without waiting a minute).

A switch may be scoped to a resource-name prefix (``scope``, a drill passes its stack's prefix
``drdrill-<run id>-<stack no>``): it then applies only to requests about a resource whose name or ARN contains
the scope as a whole token (not preceded or followed by a letter or digit, so ``drdrill-r-1`` does not match
``drdrill-r-10-orders``). An unscoped switch applies to every request. Scoped and unscoped switches coexist,
keyed by ``(name, scope)``; a request matching both uses the scoped one. A request whose resource cannot be
determined (``resource=None``, e.g. ListTables) matches only unscoped switches. So parallel drills sharing one
endpoint each steer their own stack, and the framework resets only a scenario's own scope after it
(:meth:`FaultSwitches.reset`). Switches live in the process because the moto backends they steer do: the
process's one set is :attr:`process_state.Switches.faults`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

KNOWN_FAULTS = frozenset(
    {
        "restore_job_fails",
        "restore_job_duration",
        "start_restore_denied",
        "throttle",
        "function_error",
        "function_timeout",
        "stream_records_aged",
    }
)


class UnknownFault(ValueError):
    """A fault name that the embedded target does not offer."""


Resource = str | Iterable[str | None] | None
"""What a request is about: a name or ARN, several of them (any may match), or ``None`` when unknown."""


def check_scope(scope: Any) -> str | None:
    """``None`` (unscoped) or a non-blank scope string without surrounding spaces."""
    if scope is None:
        return None
    if not isinstance(scope, str) or not scope.strip() or scope != scope.strip():
        raise ValueError(f"fault scope must be a non-blank resource-name prefix or null, got {scope!r}")
    return scope


def in_scope(scope: str, resource: Resource) -> bool:
    """Whether ``resource`` (a name or ARN, or several) contains ``scope`` as a whole token."""
    names = [resource] if isinstance(resource, str) else [r for r in (resource or ()) if isinstance(r, str)]
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(scope)}(?![A-Za-z0-9])")
    return any(pattern.search(name) for name in names)


@dataclass
class _Switch:
    params: dict[str, Any]
    remaining: int | None  # None: stays on until reset


@dataclass
class FaultSwitches:
    """Thread-safe registry of active fault switches, keyed by ``(name, scope)``."""

    _switches: dict[tuple[str, str | None], _Switch] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, name: str, count: int | None = None, scope: str | None = None, **params: Any) -> None:
        """Turn on fault ``name`` for ``count`` activations (``None``: until reset), for ``scope`` or everything.

        Replaces a switch of the same name and scope; switches of other scopes are left as they are."""
        if name not in KNOWN_FAULTS:
            raise UnknownFault(f"unknown fault {name!r}; known faults: {', '.join(sorted(KNOWN_FAULTS))}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"fault {name!r}: count must be at least 1, got {count}")
        scope = check_scope(scope)
        with self._lock:
            self._switches[(name, scope)] = _Switch(dict(params), count)

    def any_on(self, name: str) -> bool:
        """Whether fault ``name`` is on for any scope (a cheap check before finding a request's resource)."""
        with self._lock:
            return any(key[0] == name for key in self._switches)

    def peek(self, name: str, scope: str | None = None) -> dict[str, Any] | None:
        """Parameters of fault ``name`` of exactly ``scope`` if it is on, without using up an activation."""
        with self._lock:
            switch = self._switches.get((name, scope))
            return dict(switch.params) if switch else None

    def take_scoped(
        self, name: str, resource: Resource = None, **match: Any
    ) -> tuple[str | None, dict[str, Any]] | None:
        """Like :meth:`take`, also saying which scope's switch was used (``None``: the unscoped one)."""
        with self._lock:
            candidates = [
                key
                for key in self._switches
                if key[0] == name and key[1] is not None and resource is not None and in_scope(key[1], resource)
            ]
            candidates.sort(key=lambda key: -len(key[1] or ""))  # the most specific scope first
            candidates.append((name, None))
            for key in candidates:
                switch = self._switches.get(key)
                if switch is None or any(switch.params.get(k) != v for k, v in match.items()):
                    continue
                if switch.remaining is not None:
                    switch.remaining -= 1
                    if switch.remaining <= 0:
                        del self._switches[key]
                return key[1], dict(switch.params)
            return None

    def take(self, name: str, resource: Resource = None, **match: Any) -> dict[str, Any] | None:
        """Use one activation of fault ``name`` if it applies to ``resource`` (and its params match ``match``).

        ``resource`` is the name or ARN (or several) the request is about: a switch scoped to a prefix that
        ``resource`` contains is used first, else the unscoped switch. ``resource=None`` (unknown) matches only
        the unscoped switch."""
        taken = self.take_scoped(name, resource, **match)
        return taken[1] if taken is not None else None

    def active(self, scope: str | None = None, every_scope: bool = True) -> dict[str, dict[str, Any]]:
        """Snapshot of the switches that are on: keyed ``name`` (unscoped) or ``name@scope``.

        ``every_scope=False`` keeps only the switches of ``scope`` (``None``: the unscoped ones)."""
        with self._lock:
            return {
                (k if s is None else f"{k}@{s}"): {**v.params, "remaining": v.remaining, "scope": s}
                for (k, s), v in self._switches.items()
                if every_scope or s == scope
            }

    def reset(self, scope: str | None = None) -> None:
        """Turn every switch off, or with ``scope`` only that scope's switches (unscoped ones stay on)."""
        with self._lock:
            if scope is None:
                self._switches.clear()
            else:
                for key in [key for key in self._switches if key[1] == scope]:
                    del self._switches[key]

    def snapshot(self) -> FaultSwitches:
        """A copy of the switches that are on (their parameters and remaining activations), for :meth:`restore`."""
        with self._lock:
            return FaultSwitches({key: _Switch(dict(s.params), s.remaining) for key, s in self._switches.items()})

    def restore(self, snapshot: FaultSwitches) -> None:
        """Exactly the switches of ``snapshot`` are on again (each with the activations it had then)."""
        copied = snapshot.snapshot()
        with self._lock:
            self._switches.clear()
            self._switches.update(copied._switches)
