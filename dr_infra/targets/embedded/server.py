"""moto's ThreadedMotoServer, patched to tell the truth, with drdrill's control routes.

Bound to 127.0.0.1 only (never 0.0.0.0) on a port the OS chooses unless one is asked for. The
gap-fillers are installed before the first request, because moto builds and caches one Flask app per
service on its first request (``DomainDispatcherApplication.app_instances``).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from threading import Thread

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from dr_infra.targets import control_token
from dr_infra.targets.embedded import backup_schedule, gc_tuning, patches
from dr_infra.targets.embedded.backend_lookup import RememberingDispatcher
from dr_infra.targets.embedded.control import with_control_routes

LOOPBACK = "127.0.0.1"


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: one the OS chooses); :class:`OSError` if it is taken."""
    if not 0 <= port <= 65535:
        raise OSError(f"port {port} is out of range 0-65535")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does; never shares a live port
        listener.bind((host, port))
        listener.listen(128)
    except BaseException:
        listener.close()
        raise
    return listener


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without one log line per request (the drill's own output stays readable)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class EmbeddedServer(ThreadedMotoServer):
    """A patched moto server on loopback, started in a daemon thread of this process."""

    def __init__(
        self, port: int = 0, on_started: Callable[[str], None] | None = None, log_requests: bool = False
    ) -> None:
        super().__init__(ip_address=LOOPBACK, port=port, verbose=False)
        self._on_started = on_started
        self._handler = MotoRequestHandler if log_requests else _QuietRequestHandler
        self._endpoint: str | None = None
        self.control_token = secrets.token_urlsafe(32)
        """Every ``/_drdrill/`` request must carry it (:mod:`dr_infra.targets.control_token`)."""
        self.token_file: Path | None = None

    def start(self) -> None:
        """Listen, then serve in a daemon thread.

        The socket is bound here, in the caller's thread, so a busy port is an :class:`OSError` from ``start()``
        (werkzeug would print "Address already in use" and end only its own thread, leaving ``start()`` waiting).
        """
        listener = _listen(self._ip_address, self._port)
        gc_tuning.tune()  # moto's heap is large and long-lived: fewer full collections over it
        try:
            patches.install_all()
            app = backup_schedule.ticking(
                with_control_routes(RememberingDispatcher(create_backend_app), token=self.control_token)
            )
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=self._handler, fd=listener.fileno()
            )
        finally:
            listener.close()  # werkzeug serves on its own duplicate of the descriptor
        self._thread = Thread(target=self._server.serve_forever, name="drdrill-embedded-server", daemon=True)
        self._thread.start()
        self._server_ready_event.set()
        self._endpoint = self.endpoint_url
        self.token_file = control_token.write_token(self.get_host_and_port()[1], self.control_token)
        patches.server_started(self._endpoint)
        if self._on_started is not None:
            self._on_started(self.endpoint_url)

    def stop(self) -> None:
        """Stop serving, then let the gap-fillers end their background work (pollers, worker processes)."""
        if self._endpoint is not None:
            control_token.remove_token(self.get_host_and_port()[1], self.control_token)
        super().stop()
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            patches.server_stopped(endpoint)

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"
