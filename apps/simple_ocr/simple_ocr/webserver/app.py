"""HTTP routes of the Webserver: page, JSON API, server-sent events, health."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..common.httpd import ServiceHandler
from ..common.logs import get_logger
from ..repository import Repository, RepositoryError
from .page import render_page

log = get_logger("webserver")
STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Defence in depth on top of escaping: no inline script, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class BadRequest(ValueError):
    pass


class WebApp:
    def __init__(self, repository: Repository, stop: threading.Event, max_limit: int,
                 max_event_clients: int, keepalive_s: float) -> None:
        self.repository = repository
        self.stop = stop
        self.max_limit = max_limit
        self.keepalive_s = keepalive_s
        self._event_slots = threading.BoundedSemaphore(max_event_clients)

    def event_slot(self) -> bool:
        return self._event_slots.acquire(blocking=False)

    def release_event_slot(self) -> None:
        self._event_slots.release()


def parse_since(raw: str) -> float | None:
    """Unix seconds (`1735689600.5`) or ISO 8601 (`2025-01-01T00:00:00Z`, UTC if no zone)."""
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"since={raw!r} is neither unix seconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_limit(raw: str, maximum: int) -> int:
    if not raw:
        return min(100, maximum)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit={raw!r} must be an integer from 1 to {maximum}")
    return int(raw)


class WebHandler(ServiceHandler):
    log = log

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        routes = {
            "/": self._page, "/api/texts": self._texts, "/api/latest": self._latest,
            "/events": self._events, "/healthz": self._healthz, "/readyz": self._readyz,
        }
        route = routes.get(url.path)
        if route is None and url.path.startswith("/static/"):
            route = self._static
        if route is None:
            self.send_not_found()
            return
        try:
            route(url.path, params)
        except BadRequest as error:
            self.send_json(400, {"error": str(error)})
        except RepositoryError as error:
            log.warning("repository_unavailable", path=url.path, reason=str(error))
            self.send_json(503, {"error": "the Repository (Redis) is not reachable; retry later"})

    def _page(self, _path: str, params: dict[str, str]) -> None:
        q = params.get("q", "").strip()
        latest = self.app.repository.latest()
        results = self.app.repository.query(q=q, limit=self.app.max_limit) if q else None
        body = render_page(latest, q, results).encode()
        self.send_body(200, body, "text/html; charset=utf-8", SECURITY_HEADERS)

    def _texts(self, _path: str, params: dict[str, str]) -> None:
        records = self.app.repository.query(
            camera=params.get("camera") or None,
            since=parse_since(params.get("since", "")),
            q=params.get("q", ""),
            limit=parse_limit(params.get("limit", ""), self.app.max_limit),
        )
        self.send_json(200, {"texts": [record.to_dict() for record in records]})

    def _latest(self, _path: str, _params: dict[str, str]) -> None:
        self.send_json(200, {"latest": [record.to_dict() for record in self.app.repository.latest()]})

    def _static(self, path: str, _params: dict[str, str]) -> None:
        name = path.removeprefix("/static/")
        file = STATIC_DIR / name
        if "/" in name or file.suffix not in STATIC_TYPES or not file.is_file():
            self.send_not_found()
            return
        self.send_body(200, file.read_bytes(), STATIC_TYPES[file.suffix], SECURITY_HEADERS)

    def _healthz(self, _path: str, _params: dict[str, str]) -> None:
        self.send_json(200, {"status": "ok"})

    def _readyz(self, _path: str, _params: dict[str, str]) -> None:
        if self.app.repository.ping():
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(503, {"status": "the Repository (Redis) is not reachable"})

    def _events(self, _path: str, _params: dict[str, str]) -> None:
        """Server-sent events: the latest record per camera, then every new record."""
        app = self.app
        if not app.event_slot():
            self.send_json(503, {"error": "too many live-update clients; retry later"})
            return
        try:
            latest = app.repository.latest()  # before the headers: a 503 is still possible
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self._stream_events(latest)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the client went away
        finally:
            app.release_event_slot()

    def _stream_events(self, latest) -> None:
        app = self.app
        cursors = {record.camera: record.id for record in latest}
        self._send_events(latest)
        last_write = time.monotonic()
        while not app.stop.is_set():
            try:
                records = app.repository.follow(cursors, block_ms=1000)
            except RepositoryError:
                records = []
                app.stop.wait(1.0)
            if records:
                self._send_events(records)
                last_write = time.monotonic()
            elif time.monotonic() - last_write > app.keepalive_s:
                self.wfile.write(b": keepalive\n\n")  # also how a gone client is noticed
                last_write = time.monotonic()

    def _send_events(self, records) -> None:
        chunk = "".join(f"event: text\ndata: {json.dumps(r.to_dict())}\n\n" for r in records)
        self.wfile.write(chunk.encode())
        self.wfile.flush()
