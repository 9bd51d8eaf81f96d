"""Fixtures of the simple_ocr tests: a real redis-server on loopback and services run as processes.

Every process a test starts is stopped at teardown (SIGTERM, then SIGKILL after a bound).
"""

from __future__ import annotations

import pytest
from ocr_testkit import RedisServer, Service, free_port


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def repository(redis_server):
    from simple_ocr.repository import Repository

    return Repository.from_url(redis_server.url)


@pytest.fixture
def start_service(tmp_path):
    """start_service(name, **env) -> a started Service; all are stopped at teardown."""
    started: list[Service] = []

    def start(name: str, log_name: str | None = None, **env: str) -> Service:
        service = Service(name, env, tmp_path / f"{log_name or name}.log").start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.stop()


@pytest.fixture
def camera_env():
    """Environment of a fast test camera on a free port (a dict the test may amend)."""
    port = free_port()
    return {"CAMERA_PORT": str(port), "CAMERA_FPS": "10", "CAMERA_TEXT_INTERVAL": "1.0"}


