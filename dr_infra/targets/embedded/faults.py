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

Switches are scoped to one scenario: the framework calls :meth:`FaultSwitches.reset` after each one.
They are process-global because the moto backends they steer are process-global.
"""

from __future__ import annotations

import threading
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
    }
)


class UnknownFault(ValueError):
    """A fault name that the embedded target does not offer."""


@dataclass
class _Switch:
    params: dict[str, Any]
    remaining: int | None  # None: stays on until reset


@dataclass
class FaultSwitches:
    """Thread-safe registry of active fault switches."""

    _switches: dict[str, _Switch] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, name: str, count: int | None = None, **params: Any) -> None:
        """Turn on fault ``name`` for ``count`` activations (``None``: until reset)."""
        if name not in KNOWN_FAULTS:
            raise UnknownFault(f"unknown fault {name!r}; known faults: {', '.join(sorted(KNOWN_FAULTS))}")
        if count is not None and count < 1:
            raise ValueError(f"fault {name!r}: count must be at least 1, got {count}")
        with self._lock:
            self._switches[name] = _Switch(dict(params), count)

    def peek(self, name: str) -> dict[str, Any] | None:
        """Parameters of fault ``name`` if it is on, without using up an activation."""
        with self._lock:
            switch = self._switches.get(name)
            return dict(switch.params) if switch else None

    def take(self, name: str, **match: Any) -> dict[str, Any] | None:
        """Use one activation of fault ``name`` if it is on (and its params match ``match``)."""
        with self._lock:
            switch = self._switches.get(name)
            if switch is None or any(switch.params.get(k) != v for k, v in match.items()):
                return None
            if switch.remaining is not None:
                switch.remaining -= 1
                if switch.remaining <= 0:
                    del self._switches[name]
            return dict(switch.params)

    def active(self) -> dict[str, dict[str, Any]]:
        """Snapshot of the switches that are on."""
        with self._lock:
            return {k: {**v.params, "remaining": v.remaining} for k, v in self._switches.items()}

    def reset(self) -> None:
        """Turn every switch off."""
        with self._lock:
            self._switches.clear()


FAULTS = FaultSwitches()
"""The embedded target's switches (one per process, like moto's backends)."""
