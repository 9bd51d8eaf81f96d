"""`python -m simple_ocr.repository`: run redis-server and enforce retention (see README)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.config import ConfigError, Env
from ..common.httpd import ServiceHandler, start_http_server, stop_http_server
from ..common.lifecycle import stop_event_on_signals
from ..common.logs import get_logger
from .redis_process import RedisProcess
from .store import Repository, RepositoryError

log = get_logger("repository")


@dataclass(frozen=True)
class RepositoryConfig:
    redis_binary: str
    host: str
    port: int
    data_dir: Path
    retention_s: float
    sweep_interval_s: float
    health_host: str
    health_port: int
    password: str
    acl_file: Path | None

    @classmethod
    def from_env(cls, env: Env | None = None) -> RepositoryConfig:
        env = env or Env()
        config = cls(
            redis_binary=env.str("REPO_REDIS_SERVER", "redis-server"),
            host=env.str("REPO_HOST", "127.0.0.1"),
            port=env.int("REPO_PORT", 6379, minimum=1),
            data_dir=Path(env.str("REPO_DATA_DIR", "/var/lib/simple_ocr/redis")),
            retention_s=env.float("REPO_RETENTION_SECONDS", 7 * 24 * 3600.0, minimum=1.0),
            sweep_interval_s=env.float("REPO_SWEEP_INTERVAL_SECONDS", 60.0, minimum=0.1),
            health_host=env.str("REPO_HEALTH_HOST", "127.0.0.1"),
            health_port=env.int("REPO_HEALTH_PORT", 8091, minimum=0),
            password=env.str("REPO_PASSWORD", ""),
            acl_file=Path(env.str("REPO_ACL_FILE", "")) if env.str("REPO_ACL_FILE", "") else None,
        )
        # The health endpoint would answer nothing, and every health check would reach redis-server instead.
        wildcard = ("", "0.0.0.0")
        if config.port == config.health_port and (
                config.host == config.health_host or config.host in wildcard or config.health_host in wildcard):
            raise ConfigError(f"REPO_PORT and REPO_HEALTH_PORT are both {config.port} on {config.host} and "
                              f"{config.health_host}: give the health endpoint another port (or 0 for any free one)")
        return config


class HealthHandler(ServiceHandler):
    log = log

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/healthz":
            self.send_not_found()
        elif self.app.ping():
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(503, {"status": "redis not answering"})


def sweep(repository: Repository, retention_s: float) -> None:
    try:
        trimmed = repository.apply_retention(retention_s, time.time())
    except RepositoryError as error:
        log.warning("retention_failed", reason=str(error))
        return
    if any(trimmed.values()):
        log.info("retention_applied", **trimmed)


def main() -> int:
    stop = stop_event_on_signals()
    try:
        config = RepositoryConfig.from_env()
    except ConfigError as error:
        log.error("bad_configuration", reason=str(error))
        return 2
    redis_process = RedisProcess(config.redis_binary, config.host, config.port, config.data_dir,
                                 config.password, config.acl_file)
    try:
        redis_process.start(ready_timeout_s=20)
    except (OSError, RuntimeError) as error:
        log.error("redis_start_failed", command=" ".join(redis_process.command()), reason=str(error))
        return 1
    repository = Repository.from_url(redis_process.url)
    server = start_http_server(config.health_host, config.health_port, HealthHandler, repository, log)
    if server is None:
        redis_process.stop(timeout_s=10)  # never leave redis-server running without its service
        return 2
    log.info("started", redis=f"{config.host}:{config.port}", data_dir=str(config.data_dir),
             retention_s=config.retention_s, health_port=server.server_address[1])
    exit_code = 0
    next_sweep = time.monotonic()
    while not stop.wait(min(1.0, config.sweep_interval_s)):
        if redis_process.exit_code() is not None:
            # No restart loop here: the supervisor (systemd, kubelet) restarts the whole service.
            log.error("redis_exited", code=redis_process.exit_code())
            exit_code = 1
            break
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + config.sweep_interval_s
            sweep(repository, config.retention_s)
    stop_http_server(server)
    redis_process.stop(timeout_s=10)
    log.info("stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
