"""moto's request router, remembering which service answers which host: found once, not once per request.

What AWS does: nothing here is a behaviour of AWS; every request reaches its service's endpoint.

What moto 5.2.5 does: its server routes each request through ``DomainDispatcherApplication.get_application``,
which, under one lock shared by every request thread, asks ``get_backend_for_host`` for the service of the
request's inferred host. That lists moto's package folder (``backends.list_of_moto_modules``: an ``os.listdir``
and an ``isdir`` for each of about 200 entries) and, for a host such as ``dynamodb.us-east-1.amazonaws.com``,
tries the URL patterns of every service until one matches. Under ``drdrill run -n 8`` on one shared server that
was about a tenth of the server's CPU, serialized behind the lock.

What is done here: :class:`RememberingDispatcher` answers ``get_backend_for_host`` from a per-server dictionary
once a host has been resolved. The folder and the patterns do not change while a process runs, so the answer is
the one moto would compute; a host moto cannot route (``None``) is not remembered, so moto is asked again (and
prints its hint) as before.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

HOOKED_INTERNALS: tuple[str, ...] = ("moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host",)


class RememberingDispatcher(DomainDispatcherApplication):
    """moto's dispatcher with ``get_backend_for_host`` remembered per host (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backend_for_host: dict[str, Any] = {}
        self._backend_lock = threading.Lock()

    def get_backend_for_host(self, host: str | None) -> Any:
        if host is None:
            return None
        with self._backend_lock:
            found = self._backend_for_host.get(host)
        if found is None:
            found = super().get_backend_for_host(host)
            if found is not None:
                with self._backend_lock:
                    self._backend_for_host[host] = found
        return found
