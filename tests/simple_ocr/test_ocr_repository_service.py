"""`python -m simple_ocr.repository`: runs redis-server, enforces retention, stops cleanly."""

import socket
import time

from ocr_testkit import free_ports, get_json, wait_until
from simple_ocr.common.config import Env
from simple_ocr.records import TextRecord
from simple_ocr.repository import Repository
from simple_ocr.repository.__main__ import RepositoryConfig


def test_runs_redis_applies_retention_and_stops_it(tmp_path, start_service):
    redis_port, health_port = free_ports(2)
    service = start_service(
        "repository", REPO_PORT=str(redis_port), REPO_DATA_DIR=str(tmp_path / "data"),
        REPO_HEALTH_PORT=str(health_port), REPO_RETENTION_SECONDS="60", REPO_SWEEP_INTERVAL_SECONDS="0.5",
    )
    health = f"http://127.0.0.1:{health_port}/healthz"
    wait_until(lambda: get_json(health)[0] == 200, 30, "the Repository to be healthy")

    repository = Repository.from_url(f"redis://127.0.0.1:{redis_port}/0")
    now = time.time()
    repository.append_many([TextRecord("cam1", now - 600, 1, "STALE", 90.0),
                            TextRecord("cam1", now, 2, "FRESH", 90.0)])
    wait_until(lambda: [r.text for r in repository.query()] == ["FRESH"], 30, "the stale text to expire")
    # The sweep logs after it trims, so the log line may trail what the query already shows.
    wait_until(lambda: service.events("retention_applied"), 10, "the retention_applied log line")

    assert service.stop() == 0
    assert not repository.ping()  # redis-server went down with the service
    assert (tmp_path / "data" / "appendonlydir").is_dir()  # and kept its data on disk


def test_password_is_required_and_kept_off_the_command_line(tmp_path, start_service):
    import redis
    import subprocess

    redis_port, health_port = free_ports(2)
    service = start_service(
        "repository", REPO_PORT=str(redis_port), REPO_DATA_DIR=str(tmp_path / "data"),
        REPO_HEALTH_PORT=str(health_port), REPO_PASSWORD="s3cr:et/x",
    )
    wait_until(lambda: get_json(f"http://127.0.0.1:{health_port}/healthz")[0] == 200, 30, "the Repository")

    anonymous = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=2)
    try:
        anonymous.ping()
        raise AssertionError("Redis answered a client without the password")
    except redis.AuthenticationError:
        pass
    assert Repository.from_url(f"redis://:s3cr%3Aet%2Fx@127.0.0.1:{redis_port}/0").ping()
    commands = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "s3cr:et/x" not in commands
    assert service.stop() == 0


def test_one_port_for_redis_and_health_is_refused_before_redis_starts(tmp_path, start_service):
    """The health checks would reach redis-server (which drops them as an attack) and the health endpoint could
    not bind: said plainly, nothing started."""
    (port,) = free_ports(1)
    service = start_service("repository", REPO_PORT=str(port), REPO_HEALTH_PORT=str(port),
                            REPO_DATA_DIR=str(tmp_path / "data"))
    assert service.process.wait(30) == 2
    assert service.events("bad_configuration")[0]["reason"] == (
        f"REPO_PORT and REPO_HEALTH_PORT are both {port} on 127.0.0.1 and 127.0.0.1: give the health endpoint "
        "another port (or 0 for any free one)")
    assert not (tmp_path / "data").exists()  # redis-server never ran
    # Another host for each of the two is allowed.
    other = RepositoryConfig.from_env(Env({"REPO_PORT": str(port), "REPO_HEALTH_PORT": str(port),
                                           "REPO_HOST": "10.10.0.10", "REPO_HEALTH_HOST": "127.0.0.1"}))
    assert other.port == other.health_port == port


def test_a_health_port_in_use_ends_the_service_plainly_and_stops_its_redis(tmp_path, start_service):
    redis_port, health_port = free_ports(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", health_port))
        taken.listen()
        service = start_service("repository", REPO_PORT=str(redis_port), REPO_HEALTH_PORT=str(health_port),
                                REPO_DATA_DIR=str(tmp_path / "data"))
        assert service.process.wait(30) == 2
    [failed] = service.events("cannot_listen")
    assert (failed["port"], failed["host"]) == (health_port, "127.0.0.1") and "in use" in failed["reason"]
    assert "Traceback" not in service.log_path.read_text()
    assert not Repository.from_url(f"redis://127.0.0.1:{redis_port}/0", timeout_s=1).ping()  # redis stopped too
