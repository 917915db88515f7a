"""A real JWKS endpoint for tests: an ``http.server`` on 127.0.0.1 in a thread.

Tests publish keys, rotate them, make the endpoint answer errors, or stop it (connections are then
refused) and start it again on the same port; the server counts the requests it answered.
"""

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from unit.events_api.auth.signing import SigningKey, jwks_of

PATH = "/.well-known/jwks.json"


class JwksServer:
    """One JWKS endpoint; thread-safe counters and content."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._document: dict[str, Any] = {"keys": []}
        self._status = HTTPStatus.OK
        self._requests = 0
        self._port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The JWKS URL (stable across stop and start)."""
        return f"http://127.0.0.1:{self._port}{PATH}"

    @property
    def requests(self) -> int:
        """How many JWKS requests the server answered so far."""
        with self._lock:
            return self._requests

    def publish(self, *keys: SigningKey) -> None:
        """Serve exactly these keys from now on."""
        with self._lock:
            self._document = jwks_of(*keys)

    def answer_with(self, status: HTTPStatus) -> None:
        """Answer every request with ``status`` (OK serves the keys)."""
        with self._lock:
            self._status = status

    def start(self) -> None:
        """Listen on 127.0.0.1 (a free port the first time, the same port afterwards)."""
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="jwks-server"
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def _answer(self, path: str) -> tuple[int, bytes]:
        with self._lock:
            self._requests += 1
            if path != PATH:
                return HTTPStatus.NOT_FOUND, b"{}"
            return self._status, json.dumps(self._document).encode()


def _handler_for(jwks: JwksServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = jwks._answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is not the place for access logs."""

    return Handler
