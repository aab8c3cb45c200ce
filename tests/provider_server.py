"""A loopback HTTP server that serves any ProviderSimulator, so adapters are tested over real
HTTP at the network boundary (sockets, headers, status lines) rather than with mocks.

    with ProviderServer(SIMULATOR) as server:
        ctx = AdapterContext(..., api_base_url=server.url, ...)

A simulated timeout holds the connection open (until the client gives up or the server stops).
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from backend.connectors.simulator import ProviderSimulator


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    simulator: ProviderSimulator
    stopping: threading.Event
    hold_seconds: float


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        simulator = self.server.simulator
        request = simulator.request_from(self.command, self.path, dict(self.headers), body)
        response = simulator.handle(request)
        if response.timeout:
            self.server.stopping.wait(self.server.hold_seconds)
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass


class ProviderServer:
    """Serve one simulator on 127.0.0.1 from a background thread."""

    def __init__(self, simulator: ProviderSimulator, *, hold_seconds: float = 10.0) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.simulator = simulator
        self._server.stopping = threading.Event()
        self._server.hold_seconds = hold_seconds
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting to it fails at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
