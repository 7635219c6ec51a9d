"""Client for a drdrill embedded endpoint's ``/_drdrill/`` control routes (faults, latency, plan clock, IAM, discovery).

Used by the embedded target and by the localstack target when it finds that its endpoint is a
``drdrill serve`` process, so both reach fault switches the same way, over HTTP, with no in-process
shortcut.

Fault switches may be scoped to a resource-name prefix (a drill passes its stack's prefix), so drills sharing
one endpoint do not steer each other's restores. A client remembers the scopes it set switches for until they
are reset (:meth:`ControlClient.fault_scopes`), and :meth:`ControlClient.info` reports the throttle counts of
the last scope it set (a process runs one scenario at a time), so a scenario reads its own counts.
:meth:`ControlClient.switches_scope` opens a :class:`SwitchesScope`: what a block (a test, a drill) sets through
the client is undone when it ends, instead of a reset by hand.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from dr_infra.targets import control_token


class ControlError(RuntimeError):
    """The control route refused the request; the message is the server's one-line reason."""


class ControlRefused(ControlError):
    """A drdrill endpoint refused this client (no or wrong control token, or a Host that is not loopback)."""


class ControlClient:
    """Thin JSON-over-HTTP client for ``<endpoint>/_drdrill/``."""

    def __init__(self, endpoint_url: str, timeout: float = 5.0, token: str | None = None) -> None:
        self.base = endpoint_url.rstrip("/") + "/_drdrill/"
        self.timeout = timeout
        self.token = token or control_token.read_token(endpoint_url)
        self._scopes: list[str | None] = []  # scopes switches were set for through this client, oldest first
        self._open: list[SwitchesScope] = []  # the switches scopes open on this client, each noting what it sets

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        if not self.base.startswith(("http://", "https://")):
            raise ControlError(f"control endpoint must be http(s), got {self.base}")
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310 - checked above
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header(control_token.HEADER, self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - loopback/known endpoint
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read())
                message = body.get("error", str(exc))
            except (ValueError, AttributeError):
                body, message = {}, str(exc)
            if exc.code == 403 and isinstance(body, dict) and body.get("drdrill"):
                raise ControlRefused(f"{self.base}: {message}") from None
            raise ControlError(message) from None

    def info(self, scope: str | None = None) -> dict[str, Any] | None:
        """The endpoint's self-description, or ``None`` if it is not a drdrill endpoint.

        Its ``throttled`` counts are those of ``scope``; without one, of the last scope this client set a
        switch for (:attr:`scope`), else of the unscoped switch."""
        chosen = scope if scope is not None else self.scope
        try:
            result = self._call("GET", "info" + (f"?{urlencode({'scope': chosen})}" if chosen else ""))
        except ControlRefused:
            raise
        except (ControlError, urllib.error.URLError, OSError, ValueError):
            return None
        return result if isinstance(result, dict) and result.get("drdrill") else None

    @property
    def scope(self) -> str | None:
        """The scope of the last scoped switch set through this client and not reset since (else ``None``)."""
        return next((s for s in reversed(self._scopes) if s is not None), None)

    def fault_scopes(self) -> tuple[str | None, ...]:
        """Scopes switches were set for through this client since they were reset (``None``: unscoped)."""
        return tuple(dict.fromkeys(self._scopes))

    def set_fault(self, name: str, count: int | None = None, scope: str | None = None, **params: Any) -> None:
        """Turn on a fault switch (see ``dr_infra.targets.embedded.faults``), for ``scope`` or everything."""
        body: dict[str, Any] = {"name": name, "count": count, "params": params}
        if scope is not None:
            body["scope"] = scope
        self._call("POST", "faults", body)
        self._scopes.append(scope)
        for open_scope in self._open:
            open_scope.note(scope)

    def reset_faults(self, scope: str | None = None) -> None:
        """Turn every fault switch off, or with ``scope`` only that scope's (other scopes' stay on)."""
        self._call("DELETE", "faults" + (f"?{urlencode({'scope': scope})}" if scope is not None else ""))
        self._scopes = [s for s in self._scopes if scope is not None and s != scope]

    def update_settings(self, **settings: Any) -> dict[str, Any]:
        """Change latency profile / PITR lag."""
        return dict(self._call("POST", "settings", settings))

    def reset_settings(self) -> None:
        """Back to the default latency profile and lag."""
        self._call("DELETE", "settings")

    def advance_plan_clock(self, seconds: float, scope: str | None = None) -> list[dict[str, Any]]:
        """Move the clocks of the backup plans named by ``scope`` (all without one) forward by ``seconds``.

        Their scheduled runs and lifecycle ends in that time happen (``dr_infra.targets.embedded.backup_schedule``);
        returns each moved plan's clock (``plan_time``, ``rate``, ``next_runs_in_s``, ``runs``, ``lifecycle_ended``)."""
        body: dict[str, Any] = {"advance_s": seconds}
        if scope is not None:
            body["scope"] = scope
        return list(self._call("POST", "plan-clock", body)["plans"])

    def plan_clocks(self, scope: str | None = None) -> list[dict[str, Any]]:
        """The clocks of the backup plans named by ``scope`` (all without one), as :meth:`advance_plan_clock`."""
        return list(self._call("GET", "plan-clock" + (f"?{urlencode({'scope': scope})}" if scope else ""))["plans"])

    def enforce_iam(self, resource_scoped: bool = True) -> dict[str, Any]:
        """Strict mode (``dr_infra.targets.embedded.iam_enforcement``): keys the target did not issue are refused.

        Keys the target issued are authorized against their principal's policies in either mode;
        ``resource_scoped`` is accepted for compatibility and always true."""
        return dict(self._call("POST", "iam-enforcement", {"resource_scoped": resource_scoped}))

    def stop_enforcing_iam(self) -> dict[str, Any]:
        """Leave strict mode: unknown keys act as the account's root again (idempotent)."""
        return dict(self._call("DELETE", "iam-enforcement"))

    def switches_scope(
        self,
        *scopes: str,
        settings: Mapping[str, Any] | None = None,
        noted: Iterable[str | None] = (),
        every_switch: bool = False,
    ) -> SwitchesScope:
        """A :class:`SwitchesScope` opened now: what is set through this client until it closes is undone then.

        ``scopes``: resource scopes whose switches are turned off at the end too (a drill's stack prefix);
        ``settings``: the settings to go back to (``{}``: the defaults; ``None``: those in force now);
        ``noted``: switch scopes set before that it is to undo as well (``None``: an unscoped switch);
        ``every_switch``: turn every switch off at the end, whoever set it (a test suite owning the endpoint)."""
        opened = SwitchesScope(self, scopes, settings, [*noted, None] if every_switch else noted)
        self._open.append(opened)
        return opened

    @contextmanager
    def iam_enforced(self, resource_scoped: bool = True) -> Iterator[dict[str, Any]]:
        """:meth:`enforce_iam` for the block, :meth:`stop_enforcing_iam` after it, whatever happens inside."""
        try:
            yield self.enforce_iam(resource_scoped)
        finally:
            self.stop_enforcing_iam()


class SwitchesScope:
    """The fault switches and settings a block sets through one :class:`ControlClient`, undone when it ends.

    Opened by :meth:`ControlClient.switches_scope` (one made directly notes nothing set later). :meth:`close`,
    or leaving its ``with`` block (also by an exception), turns off the switches of every scope set through the
    client while it was open (every switch when one of them was unscoped: it steered every drill anyway) and of
    the scopes it was given, which also zeroes their throttle counts, and puts the settings back. It works over
    the control routes, so it scopes a shared server's switches from any process, and only its own: a parallel
    drill's scoped switches stay on."""

    def __init__(
        self,
        control: ControlClient,
        scopes: Iterable[str] = (),
        settings: Mapping[str, Any] | None = None,
        noted: Iterable[str | None] = (),
    ) -> None:
        self.control = control
        self._scopes: list[str | None] = [*noted, *scopes]
        if settings is None:
            settings = (control.info() or {}).get("settings") or {}
        self._settings = dict(settings)
        self._closed = False

    def note(self, scope: str | None) -> None:
        """A switch was set for ``scope`` (``None``: unscoped): turn it off at the end."""
        self._scopes.append(scope)

    def include(self, scope: str) -> SwitchesScope:
        """Turn ``scope``'s switches off at the end too, whoever set them."""
        self._scopes.append(scope)
        return self

    def close_switches(self) -> None:
        """Turn off the switches this scope covers (see the class docstring) and zero their throttle counts."""
        if None in self._scopes:
            self.control.reset_faults()
        else:
            for scope in sorted({s for s in self._scopes if s is not None}):
                self.control.reset_faults(scope=scope)
        self._scopes = []

    def restore_settings(self) -> None:
        """The settings this scope goes back to: the defaults, then those it was given or found on opening."""
        self.control.reset_settings()
        if self._settings:
            self.control.update_settings(**self._settings)

    def close(self) -> None:
        """Undo what the block set: its switches, then the settings (once; a second close does nothing)."""
        if self._closed:
            return
        self._closed = True
        if self in self.control._open:
            self.control._open.remove(self)
        try:
            self.close_switches()
        finally:
            self.restore_settings()

    def __enter__(self) -> SwitchesScope:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
