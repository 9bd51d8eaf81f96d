"""Running redis-server as a child process with the Repository's settings."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

from .store import connect


class RedisProcess:
    def __init__(self, binary: str, host: str, port: int, data_dir: Path, password: str = "",
                 acl_file: Path | None = None) -> None:
        self.binary = binary
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.password = password
        # Users (ACL) from a file its owner rewrites and reloads (ACL LOAD): e.g. one user per rental,
        # allowed to add to its camera's stream only. The file's `default` user holds the password.
        self.acl_file = acl_file
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        # "-": the rest of the configuration (the password) comes on stdin, never on the command line.
        # Append-only file, fsync every second: a restart keeps what was stored before it.
        users = ["--aclfile", str(self.acl_file)] if self.acl_file else []
        return [
            self.binary, "-", "--bind", self.host, "--port", str(self.port),
            "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--daemonize", "no", "--loglevel", "warning", *users,
        ]

    def start(self, ready_timeout_s: float) -> None:
        """Start redis-server and wait until it answers PING; raise if it does not in time."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(self.command(), stdin=subprocess.PIPE)
        # Without a password Redis keeps protected mode and answers only loopback clients.
        secret = f"requirepass {self.password}\n" if self.password and not self.acl_file else ""
        self._process.stdin.write(secret.encode())
        self._process.stdin.close()
        client = connect(self.url, timeout_s=0.5)
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self._process.returncode}")
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        self.stop(timeout_s=2)
        raise RuntimeError(
            f"redis-server did not answer on {self.host}:{self.port} within {ready_timeout_s}s"
        )

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self, timeout_s: float) -> None:
        """SIGTERM makes redis-server flush the append-only file and exit; kill if it hangs."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
