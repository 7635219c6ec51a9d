"""The embedded target's per-process state in one holder: the switches and tuning, and the additions to moto.

moto's backends are process-global (one embedded server per process), so what drdrill keeps beside them is per
process too. It lives here, in two records, instead of in globals spread over the modules that use it:

* :data:`SWITCHES` (:class:`Switches`): what a drill or a test turns on and off - the fault switches
  (:mod:`.faults`), the throttles they served (:mod:`.throttle`), the latency/tuning settings (:mod:`.settings`)
  and strict-credentials mode (:mod:`.iam_enforcement`). One :meth:`Switches.reset` puts all of it back to the
  defaults; :func:`switches_scope` snapshots it and puts the snapshot back when its block ends, whatever happens
  inside. The HTTP control routes (``/_drdrill/faults``, ``/_drdrill/settings``, ``/_drdrill/iam-enforcement``,
  :mod:`.control`) read and write it, so a client in another process steers the same switches.
* :data:`MOTO_ADDITIONS` (:class:`MotoAdditions`, in :mod:`.moto_additions`): what the modules add to moto's
  resources (item histories beside its tables, mapping state machines beside its event source mappings,
  function timelines, ...), each under its module's typed key. It lives as long as the moto resources it is
  keyed by, that is as long as the process: it has no reset, as moto's backends have none that drdrill uses.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from dr_infra.targets.embedded import settings as tuning
from dr_infra.targets.embedded.faults import FaultSwitches
from dr_infra.targets.embedded.moto_additions import MotoAdditions
from dr_infra.targets.embedded.settings import EmbeddedSettings

Throttled = dict[str | None, Counter[str]]
"""Throttles served: by the scope of the switch that served them (``None``: the unscoped one), per operation."""


@dataclass(frozen=True)
class SwitchesSnapshot:
    """What :class:`Switches` held at one moment (copies: later changes to the switches leave it as it was)."""

    faults: FaultSwitches
    throttled: Throttled
    settings: EmbeddedSettings
    strict_credentials: bool


@dataclass
class Switches:
    """The embedded target's switches and tuning: fault switches, throttle counts, settings, strict mode.

    Thread-safe: request threads read them while a control route or a test changes them."""

    faults: FaultSwitches = field(default_factory=FaultSwitches)
    throttled: Throttled = field(default_factory=dict)
    settings: EmbeddedSettings = field(default_factory=EmbeddedSettings)
    strict_credentials: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- fault switches and the throttles they served -----------------------------------------------------------
    def reset_faults(self, scope: str | None = None) -> None:
        """Every fault switch off and every throttle count zeroed, or with ``scope`` only that scope's."""
        with self._lock:
            self.faults.reset(scope)
            if scope is None:
                self.throttled.clear()
            else:
                self.throttled.pop(scope, None)

    def count_throttle(self, scope: str | None, operation: str) -> None:
        """One throttle of ``operation`` served by the switch of ``scope``."""
        with self._lock:
            self.throttled.setdefault(scope, Counter())[operation] += 1

    def served(self, scope: str | None = None) -> dict[str, int]:
        """Throttles served per operation by the switches of ``scope`` (``None``: the unscoped switch), since that
        scope's last :meth:`reset_faults`."""
        with self._lock:
            return dict(self.throttled.get(scope) or {})

    def served_by_scope(self) -> dict[str, dict[str, int]]:
        """Throttles served per operation by each scoped switch (``{scope: {operation: n}}``)."""
        with self._lock:
            return {scope: dict(counts) for scope, counts in self.throttled.items() if scope is not None and counts}

    # -- settings ------------------------------------------------------------------------------------------------
    def update_settings(self, **changes: object) -> EmbeddedSettings:
        """Change some settings (validated by :func:`.settings.validate`: nothing changes if one is invalid)."""
        tuning.validate(changes)
        with self._lock:
            self.settings = replace(self.settings, **changes)  # type: ignore[arg-type]
            return self.settings

    def reset_settings(self) -> EmbeddedSettings:
        """The default settings again (the instant profile)."""
        with self._lock:
            self.settings = EmbeddedSettings()
            return self.settings

    # -- strict-credentials mode ---------------------------------------------------------------------------------
    def set_strict_credentials(self, on: bool) -> bool:
        """Strict mode on or off (:mod:`.iam_enforcement`); returns the mode now in force."""
        with self._lock:
            self.strict_credentials = on
            return self.strict_credentials

    # -- all of it -----------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Everything back to the defaults: no switch on, no throttle counted, default settings, strict mode off."""
        with self._lock:
            self.reset_faults()
            self.reset_settings()
            self.strict_credentials = False

    def snapshot(self) -> SwitchesSnapshot:
        """A copy of everything, for :meth:`restore`."""
        with self._lock:
            return SwitchesSnapshot(
                faults=self.faults.snapshot(),
                throttled={scope: Counter(counts) for scope, counts in self.throttled.items()},
                settings=self.settings,
                strict_credentials=self.strict_credentials,
            )

    def restore(self, snapshot: SwitchesSnapshot) -> None:
        """Exactly what ``snapshot`` held, again (the switches on then, with the activations they had left)."""
        with self._lock:
            self.faults.restore(snapshot.faults)
            self.throttled.clear()
            self.throttled.update({scope: Counter(counts) for scope, counts in snapshot.throttled.items()})
            self.settings = snapshot.settings
            self.strict_credentials = snapshot.strict_credentials


SWITCHES = Switches()
"""The process's switches and tuning (one embedded server per process)."""

MOTO_ADDITIONS = MotoAdditions()
"""The process's additions to moto's resources, one typed entry per module (:mod:`.moto_additions`)."""


def current_settings() -> EmbeddedSettings:
    """The settings in force."""
    return SWITCHES.settings


@contextmanager
def switches_scope() -> Iterator[Switches]:
    """:data:`SWITCHES` for the block; what they held before it is back after it, also when the block raises.

    For code that runs in the server's own process; a client elsewhere scopes what it sets over HTTP
    (:meth:`dr_infra.targets.control_client.ControlClient.switches_scope`)."""
    before = SWITCHES.snapshot()
    try:
        yield SWITCHES
    finally:
        SWITCHES.restore(before)
