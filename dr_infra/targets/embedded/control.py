"""The embedded target's own HTTP control routes, beside moto's ``/moto-api/``.

These let any client - the framework in another process, ``drdrill serve`` users, the localstack target
pointed at a ``drdrill serve`` endpoint - discover that the endpoint is a drdrill embedded target, and set
or clear fault switches and latency settings. They are not AWS APIs, so they live under ``/_drdrill/``.

* ``GET /_drdrill/info[?scope=PREFIX]`` -> ``{"drdrill": true, "capabilities": [...], "faults": {...},
  "throttled": {op: n}, "throttled_by_scope": {scope: {op: n}}, "settings": {...}}`` (``faults``: every switch
  that is on, keyed ``name`` or ``name@scope``; ``throttled``: throttles served per operation by the switches of
  ``scope``, or by the unscoped switch without one, since they were last reset)
* ``POST /_drdrill/faults`` body ``{"name": ..., "count": N|null, "scope": PREFIX|null, "params": {...}}``
  (``scope``: the switch applies only to requests about resources whose name contains it, see :mod:`.faults`)
* ``DELETE /_drdrill/faults[?scope=PREFIX]`` every switch, or only that scope's (also zeroes the matching
  ``throttled`` counts)
* ``POST /_drdrill/settings`` body ``{"latency_profile": ..., "scale": ..., "pitr_lag_seconds": ...}``
* ``DELETE /_drdrill/settings``
* ``POST /_drdrill/plan-clock`` body ``{"advance_s": N, "scope": PREFIX|null}`` moves the clocks of the backup
  plans whose name contains ``scope`` (every plan without one) forward by N seconds of plan time, so their
  scheduled runs and lifecycle ends happen (:mod:`.backup_schedule`); ``GET /_drdrill/plan-clock[?scope=PREFIX]``
  -> ``{"plans": [...], "sweep_errors": [...]}``: each plan's time, rate, next runs, runs made, lifecycles ended
* ``GET /_drdrill/tables/<name>/items?region=..&account=..`` -> JSON lines (:mod:`.export`, ``fast_export``)
* ``POST /_drdrill/iam-enforcement`` -> ``{"enforced": true, ...}``: strict mode, keys the target did not issue
  are refused too (issued keys are always authorized); ``DELETE /_drdrill/iam-enforcement`` goes back to
  unknown keys acting as root (:mod:`.iam_enforcement`; shown as ``"iam_enforcement"`` by ``info``). These
  routes are never checked themselves, so strict mode can always be turned off. While it is on, the export
  route answers 403 (it is an unsigned read IAM cannot authorize), and readers fall back to Scan.

Every route answers 403 unless the request's ``Host`` is the loopback address and it carries the server's
control token (:func:`refusal`, :mod:`dr_infra.targets.control_token`).
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from dr_infra.targets import control_token
from dr_infra.targets.capabilities import EMBEDDED_CAPABILITIES as CAPABILITIES
from dr_infra.targets.embedded import backup_schedule, export, iam_enforcement
from dr_infra.targets.embedded.faults import UnknownFault, check_scope
from dr_infra.targets.embedded.process_state import SWITCHES

PREFIX = "/_drdrill/"
EXPORT_DENIED = control_token.EXPORT_DENIED
EMBEDDED_CAPABILITIES = tuple(sorted(CAPABILITIES))

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _respond(start_response: Callable[..., Any], status: str, body: Any) -> list[bytes]:
    payload = json.dumps(body, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b"{}"
    data = json.loads(raw or b"{}")
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _query_scope(environ: dict[str, Any]) -> str | None:
    """The ``scope`` query parameter (``None`` when absent)."""
    values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get("scope")
    return check_scope(values[-1]) if values else None


def _info(environ: dict[str, Any]) -> dict[str, Any]:
    return {
        "drdrill": True,
        "capabilities": list(EMBEDDED_CAPABILITIES),
        "faults": SWITCHES.faults.active(),
        "throttled": SWITCHES.served(_query_scope(environ)),
        "throttled_by_scope": SWITCHES.served_by_scope(),
        "settings": dataclasses.asdict(SWITCHES.settings),
        "iam_enforcement": iam_enforcement.state(),
    }


def _set_fault(environ: dict[str, Any]) -> dict[str, Any]:
    body = _read_json(environ)
    params = body.get("params") or {}
    if not isinstance(params, dict) or "scope" in params:
        raise ValueError("params must be a JSON object (the scope goes beside it, not inside)")
    SWITCHES.faults.set(str(body.get("name")), body.get("count"), scope=body.get("scope"), **params)
    return {"faults": SWITCHES.faults.active()}


def _reset_faults(environ: dict[str, Any]) -> dict[str, Any]:
    scope = _query_scope(environ)
    SWITCHES.reset_faults(scope)
    return {"faults": SWITCHES.faults.active()}


def _update_settings(environ: dict[str, Any]) -> dict[str, Any]:
    return dataclasses.asdict(SWITCHES.update_settings(**_read_json(environ)))


def _reset_settings(environ: dict[str, Any]) -> dict[str, Any]:
    return dataclasses.asdict(SWITCHES.reset_settings())


def _enable_iam(environ: dict[str, Any]) -> dict[str, Any]:
    scoped = _read_json(environ).get("resource_scoped", True)
    if not isinstance(scoped, bool):
        raise ValueError("resource_scoped must be true or false")
    return iam_enforcement.enable(resource_scoped=scoped)


def _disable_iam(environ: dict[str, Any]) -> dict[str, Any]:
    return iam_enforcement.disable()


def _advance_plan_clock(environ: dict[str, Any]) -> dict[str, Any]:
    body = _read_json(environ)
    scope = check_scope(body["scope"]) if body.get("scope") is not None else None
    return {"plans": backup_schedule.advance(body.get("advance_s"), scope)}  # type: ignore[arg-type]


def _plan_clock(environ: dict[str, Any]) -> dict[str, Any]:
    return {
        "plans": backup_schedule.describe(_query_scope(environ)),
        "sweep_errors": list(environ.get(backup_schedule.SWEEP_ERRORS_KEY, ())),
    }


ROUTES: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("info", "GET"): _info,
    ("faults", "POST"): _set_fault,
    ("faults", "DELETE"): _reset_faults,
    ("settings", "POST"): _update_settings,
    ("settings", "DELETE"): _reset_settings,
    ("iam-enforcement", "POST"): _enable_iam,
    ("iam-enforcement", "DELETE"): _disable_iam,
    ("plan-clock", "POST"): _advance_plan_clock,
    ("plan-clock", "GET"): _plan_clock,
}
"""The control routes: (path under :data:`PREFIX`, method) -> the handler answering 200 with its JSON body."""


def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Serve one control request: 200 with the route's body, 400 for a bad request, 404 for no such route."""
    path = environ.get("PATH_INFO", "")[len(PREFIX) :].strip("/")
    method = environ.get("REQUEST_METHOD", "GET")
    route = ROUTES.get((path, method))
    if route is None:
        return _respond(start_response, "404 Not Found", {"error": f"no control route {method} {PREFIX}{path}"})
    try:
        body = route(environ)
    except (UnknownFault, ValueError, TypeError) as exc:
        return _respond(start_response, "400 Bad Request", {"error": str(exc)})
    return _respond(start_response, "200 OK", body)


def refusal(environ: dict[str, Any], token: str | None) -> str | None:
    """Why a control request is refused (403), or ``None``: its ``Host`` must be the loopback address (a
    DNS-rebinding page sends its own name) and it must carry this server's token (:mod:`..control_token`)."""
    host = str(environ.get("HTTP_HOST") or "")
    if not control_token.host_is_loopback(host):
        return f"Host {host!r} is not the loopback address: the control routes answer 127.0.0.1 only"
    if token is None:
        return None
    sent = str(environ.get("HTTP_" + control_token.HEADER.upper().replace("-", "_")) or "")
    if not hmac.compare_digest(sent.encode(), token.encode()):
        what = "wrong" if sent else "missing"
        return (
            f"{what} control token: send the {control_token.HEADER} header (drdrill serve prints the token; "
            f"clients of the same user read it from {control_token.token_dir()}/ or ${control_token.ENV})"
        )
    return None


def with_control_routes(app: WsgiApp, token: str | None = None) -> WsgiApp:
    """Wrap moto's WSGI app so ``/_drdrill/`` requests reach :func:`handle`, once :func:`refusal` lets them."""

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            refused = refusal(environ, token)
            if refused is not None:
                return _respond(start_response, "403 Forbidden", {"drdrill": True, "error": refused})
            path = environ["PATH_INFO"][len(PREFIX) :]
            if export.matches(path, environ.get("REQUEST_METHOD", "GET")):
                if iam_enforcement.state()["enforced"]:
                    # the export is an unsigned read of any table: with IAM enforced it would bypass it
                    message = "IAM enforcement is on: the export route is not authorized by IAM; read with Scan"
                    return _respond(start_response, "403 Forbidden", {"error": message, "code": EXPORT_DENIED})
                return export.handle(environ, start_response, path)
            return handle(environ, start_response)
        return app(environ, start_response)

    return dispatch
