"""The one place that installs drdrill's gap-fillers into moto, and checks they still fit.

The embedded target hooks into moto internals (see each gap-filler's docstring for what AWS does and
what it models). Those internals are undocumented, so moto is pinned to one exact version and
:func:`check_internals` verifies, before anything is patched, that every hooked attribute still exists.
A moto upgrade that moves one of them fails loudly here instead of silently running unpatched.
Each gap-filler's ``install()`` applies its patches through :mod:`dr_infra.targets.embedded.moto_patch`
(once per process, each recorded: :func:`dr_infra.targets.embedded.moto_patch.applied`).
"""

from __future__ import annotations

import importlib
import operator
import threading
from types import ModuleType

import moto

from dr_infra.targets.embedded.moto_patch import MotoInternalsChanged as MotoInternalsChanged

PINNED_MOTO_VERSION = "5.2.5"

GAP_FILLERS: tuple[str, ...] = (
    "dr_infra.targets.embedded.table_registry",
    "dr_infra.targets.embedded.attribute_values_json",
    "dr_infra.targets.embedded.action_lookup",
    "dr_infra.targets.embedded.dynamodb_item_size",
    "dr_infra.targets.embedded.model_tracking",
    "dr_infra.targets.embedded.stream_store",
    "dr_infra.targets.embedded.item_store",
    "dr_infra.targets.embedded.changefeed",
    "dr_infra.targets.embedded.lambda_runtime",
    "dr_infra.targets.embedded.function_state",
    "dr_infra.targets.embedded.esm_poller",
    "dr_infra.targets.embedded.esm_api",
    "dr_infra.targets.embedded.restored",
    "dr_infra.targets.embedded.history",
    "dr_infra.targets.embedded.pitr",
    "dr_infra.targets.embedded.backup",
    "dr_infra.targets.embedded.backup_routes",
    "dr_infra.targets.embedded.backup_protected",
    "dr_infra.targets.embedded.backup_tags",
    "dr_infra.targets.embedded.backup_plans",
    "dr_infra.targets.embedded.backup_pages",
    "dr_infra.targets.embedded.backup_schedule",
    "dr_infra.targets.embedded.dynamodb_guards",
    "dr_infra.targets.embedded.dynamodb_backup_list",
    "dr_infra.targets.embedded.dynamodb_serialization",
    "dr_infra.targets.embedded.deleted_table_backup",
    "dr_infra.targets.embedded.table_lifecycle",
    "dr_infra.targets.embedded.throttle",
    "dr_infra.targets.embedded.export",
    "dr_infra.targets.embedded.aws_managed_policies",
    "dr_infra.targets.embedded.iam_partitions",
    "dr_infra.targets.embedded.iam_enforcement",
    "dr_infra.targets.embedded.ttl_status",
    "dr_infra.targets.embedded.ttl_sweeper",
    "dr_infra.targets.embedded.unrouted",
    "dr_infra.targets.embedded.error_net",
)
"""Modules with an ``install()`` function and a ``HOOKED_INTERNALS`` tuple, installed in this order.

A module may also define ``server_started(endpoint)`` / ``server_stopped(endpoint)``; the embedded server
calls them (see :func:`server_started`, :func:`server_stopped`) so background work (stream pollers,
function worker processes) follows the server's life."""

HELPER_MODULES: tuple[str, ...] = (
    "dr_infra.targets.embedded.esm_state",
    "dr_infra.targets.embedded.esm_batch",
    "dr_infra.targets.embedded.esm_events",
    "dr_infra.targets.embedded.esm_destinations",
    "dr_infra.targets.embedded.esm_validation",
    "dr_infra.targets.embedded.stream_records",
    "dr_infra.targets.embedded.backend_lookup",
)
"""Modules the gap-fillers use that read moto internals (a ``HOOKED_INTERNALS`` tuple) but patch nothing."""

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.table.StreamShard.add",
    "moto.dynamodb.models.table.StreamRecord",
    "moto.moto_server.threaded_moto_server.ThreadedMotoServer._server_entry",
    "moto.moto_server.werkzeug_app.DomainDispatcherApplication",
    "moto.moto_server.werkzeug_app.MotoRequestHandler",
)
"""moto attributes that :mod:`changefeed` and :mod:`server` rely on (dotted paths)."""

_lock = threading.Lock()
_installed = False


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            module: ModuleType = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        rest = parts[split:]
        if not rest:
            return module
        return operator.attrgetter(".".join(rest))(module)
    raise ImportError(dotted)


def all_hooked_internals() -> tuple[str, ...]:
    """Every moto internal any gap-filler relies on."""
    hooked = list(HOOKED_INTERNALS)
    for name in (*GAP_FILLERS, *HELPER_MODULES):
        hooked.extend(getattr(importlib.import_module(name), "HOOKED_INTERNALS", ()))
    return tuple(hooked)


def check_internals() -> list[str]:
    """Problems with the installed moto, as readable lines (empty when everything fits)."""
    problems = []
    if moto.__version__ != PINNED_MOTO_VERSION:
        problems.append(
            f"moto {moto.__version__} is installed but the embedded target is written against "
            f"moto {PINNED_MOTO_VERSION}; install moto[server]=={PINNED_MOTO_VERSION}"
        )
    for dotted in all_hooked_internals():
        try:
            _resolve(dotted)
        except (AttributeError, ImportError):
            problems.append(f"moto internal {dotted} no longer exists; the embedded target needs updating")
    return problems


def install_all() -> None:
    """Install every gap-filler once per process; raises :class:`MotoInternalsChanged` on a mismatch."""
    global _installed
    with _lock:
        if _installed:
            return
        problems = check_internals()
        if problems:
            raise MotoInternalsChanged("; ".join(problems))
        for name in GAP_FILLERS:
            importlib.import_module(name).install()
        _installed = True


def server_started(endpoint: str) -> None:
    """Tell every gap-filler that a server now listens on ``endpoint`` (in install order)."""
    for name in GAP_FILLERS:
        hook = getattr(importlib.import_module(name), "server_started", None)
        if hook is not None:
            hook(endpoint)


def server_stopped(endpoint: str) -> None:
    """Tell every gap-filler that the server on ``endpoint`` stopped (in reverse install order)."""
    for name in reversed(GAP_FILLERS):
        hook = getattr(importlib.import_module(name), "server_stopped", None)
        if hook is not None:
            hook(endpoint)
