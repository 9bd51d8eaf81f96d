"""A bounded first-in-first-out queue of records on disk (SQLite), kept while the Repository is away.

Records survive a Processor restart. When the bound is reached the oldest records are dropped,
so what is kept is always the most recent contiguous run, still in order. One process at a time owns a
buffer (an exclusive lock on `<path>.lock`): two Processors uploading the same records would store each twice.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path


class BufferInUse(OSError):
    """Another process owns the buffer."""


class DiskBuffer:
    def __init__(self, path: Path, max_records: int) -> None:
        if max_records < 1:
            raise ValueError("the buffer must hold at least one record")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._owner = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._owner)
            raise BufferInUse(f"{path} is in use by another process (another Processor of the same camera): "
                              "stop it, or give this one its own OCR_BUFFER_PATH") from None
        self.path = path
        self.max_records = max_records
        self.dropped = 0  # since this process opened the buffer
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS pending"
                " (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL)"
            )
        self._count = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def push(self, record: str) -> int:
        """Append a record; return how many old records were dropped to stay within the bound."""
        with self._lock, self._db:
            self._db.execute("INSERT INTO pending (record) VALUES (?)", (record,))
            excess = self._count + 1 - self.max_records
            if excess > 0:
                self._db.execute(
                    "DELETE FROM pending WHERE seq IN (SELECT seq FROM pending ORDER BY seq LIMIT ?)",
                    (excess,),
                )
            dropped = max(0, excess)
            self._count += 1 - dropped
            self.dropped += dropped
            return dropped

    def oldest(self, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` (sequence number, record) pairs, oldest first."""
        with self._lock:
            return self._db.execute(
                "SELECT seq, record FROM pending ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()

    def remove_through(self, seq: int) -> None:
        """Forget every record up to and including sequence number `seq` (they are stored)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM pending WHERE seq <= ?", (seq,))
            self._count = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
            os.close(self._owner)
