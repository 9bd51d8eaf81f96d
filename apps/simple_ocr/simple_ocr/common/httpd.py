"""A threaded stdlib HTTP server run in the background, with JSON helpers for handlers."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .logs import EventLogger


class ServiceHandler(BaseHTTPRequestHandler):
    """Base handler: HTTP/1.1, structured access logs, JSON responses.

    `self.server.app` is the service object the handler serves (set by `start_http_server`).
    """

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, the body waits for the client's delayed ACK
    # (40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True
    server_version = "simple_ocr"
    sys_version = ""
    log: EventLogger

    @property
    def app(self) -> Any:
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        self.log.debug("http_request", client=self.client_address[0], line=format % args)

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_body(status, body, "application/json; charset=utf-8")

    def send_not_found(self) -> None:
        self.send_json(404, {"error": f"no such path: {self.path.split('?')[0]}"})


# How often the serving loop looks for a shutdown: stop_http_server waits up to this long (the stdlib's 0.5 s was
# most of a service's stop).
SHUTDOWN_POLL_S = 0.05


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_http_server(host: str, port: int, handler: type[ServiceHandler], app: Any,
                      log: EventLogger) -> ThreadingHTTPServer | None:
    """Bind and serve in a daemon thread; call `.shutdown()` then `.server_close()` to stop. An address it cannot
    bind (a port in use, an address not on this host), or a health file it cannot announce, is logged as
    cannot_listen and gives None: the service ends with a sentence, not a traceback."""
    try:
        server = _Server((host, port), handler)
        server.app = app  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S}, name=f"http-{port}",
                         daemon=True).start()
        announce_health(server)
    except OSError as error:
        log.error("cannot_listen", host=host, port=port, reason=str(error))
        return None
    return server


def announce_health(server: ThreadingHTTPServer) -> None:
    """Write the URL of the server's /healthz to $FOG_HEALTH_FILE, where the supervisor that runs the
    service (fog_supervise) reads it: the port may be any free one (port 0)."""
    path = os.environ.get("FOG_HEALTH_FILE")
    if not path:
        return
    host, port = server.server_address[:2]
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    with open(path + ".new", "w") as f:
        f.write(f"http://{host}:{port}/healthz\n")
    os.replace(path + ".new", path)


def stop_http_server(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()
