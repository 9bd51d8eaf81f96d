"""Helpers of the simple_ocr tests: real redis-server, services as processes, bounded waits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "apps" / "simple_ocr"
sys.path.insert(0, str(APP_DIR))  # the tests import simple_ocr's modules too

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: each socket stays bound until all are chosen (two free_port() calls in a row
    can return the same port, which the kernel freed in between)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    """Poll until `predicate()` is truthy and return its value; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    """Status and JSON body of a GET; (0, {}) if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, OSError):
        return 0, {}


def get_text(url: str, timeout: float = 5.0) -> tuple[int, dict, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, dict(response.headers), response.read().decode()


class RedisServer:
    """A real redis-server on a loopback port; stop() and start() keep its data (append-only file)."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
             "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=(self.data_dir / "redis.log").open("a"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        wait_until(self._answers, 10, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Service:
    """One `python -m simple_ocr.<name>` process with its structured log in a file."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        env = {**os.environ, "PYTHONPATH": str(APP_DIR), **self.env}
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"simple_ocr.{self.name}"], env=env, cwd=self.log_path.parent,
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def events(self, event: str | None = None) -> list[dict]:
        """The JSON log lines of this service (all its runs), optionally only one event."""
        entries = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if event is None or entry.get("event") == event:
                    entries.append(entry)
        return entries

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def camera_url(env: dict[str, str], path: str = "/stream.mjpg") -> str:
    return f"http://127.0.0.1:{env['CAMERA_PORT']}{path}"


def processor_env(tmp_path: Path, camera: str, camera_stream: str, redis_url: str, **extra: str) -> dict:
    return {
        "OCR_CAMERA_ID": camera,
        "OCR_CAMERA_URL": camera_stream,
        "OCR_REDIS_URL": redis_url,
        "OCR_BUFFER_PATH": str(tmp_path / f"buffer-{camera}.sqlite3"),
        "OCR_HEALTH_PORT": str(free_port()),
        "OCR_RECONNECT_MIN_SECONDS": "0.2",
        "OCR_RECONNECT_MAX_SECONDS": "1",
        **extra,
    }


def health_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['OCR_HEALTH_PORT']}/healthz"
