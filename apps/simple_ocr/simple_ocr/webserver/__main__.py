"""`python -m simple_ocr.webserver`: serve the page, the JSON API and live updates (see README)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..common.config import ConfigError, Env
from ..common.httpd import start_http_server, stop_http_server
from ..common.lifecycle import stop_event_on_signals
from ..common.logs import get_logger
from ..repository import Repository
from .app import WebApp, WebHandler

log = get_logger("webserver")


@dataclass(frozen=True)
class WebConfig:
    host: str
    port: int
    redis_url: str
    redis_timeout_s: float
    max_limit: int
    max_event_clients: int
    keepalive_s: float

    @classmethod
    def from_env(cls, env: Env | None = None) -> WebConfig:
        env = env or Env()
        return cls(
            host=env.str("WEB_HOST", "127.0.0.1"),
            port=env.int("WEB_PORT", 8080, minimum=0),
            redis_url=env.str("WEB_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_timeout_s=env.float("WEB_REDIS_TIMEOUT_SECONDS", 2.0, minimum=0.1),
            max_limit=env.int("WEB_MAX_LIMIT", 1000, minimum=1),
            max_event_clients=env.int("WEB_MAX_EVENT_CLIENTS", 50, minimum=1),
            keepalive_s=env.float("WEB_KEEPALIVE_SECONDS", 15.0, minimum=1.0),
        )


def main() -> int:
    stop = stop_event_on_signals()
    try:
        config = WebConfig.from_env()
    except ConfigError as error:
        log.error("bad_configuration", reason=str(error))
        return 2
    # The socket timeout must outlast the 1 s blocking reads of live updates.
    repository = Repository.from_url(config.redis_url, config.redis_timeout_s + 1.0)
    app = WebApp(repository, stop, config.max_limit, config.max_event_clients, config.keepalive_s)
    server = start_http_server(config.host, config.port, WebHandler, app, log)
    if server is None:
        return 2
    redis_at = urlsplit(config.redis_url)  # host and port only: a URL may carry a password
    log.info("started", host=config.host, port=server.server_address[1],
             redis=f"{redis_at.hostname}:{redis_at.port or 6379}")
    stop.wait()
    stop_http_server(server)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
