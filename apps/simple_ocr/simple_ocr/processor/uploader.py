"""Moves records from the disk buffer to the Repository, in order, waiting out outages."""

from __future__ import annotations

import json
import threading

from ..common.lifecycle import Backoff
from ..common.logs import EventLogger
from ..records import TextRecord
from ..repository import Repository, RepositoryError
from .buffer import DiskBuffer
from .stats import ProcessorStats


class Uploader:
    def __init__(
        self, buffer: DiskBuffer, repository: Repository, backoff: Backoff, stats: ProcessorStats,
        log: EventLogger, stop: threading.Event, batch_size: int = 100,
    ) -> None:
        self.buffer = buffer
        self.repository = repository
        self.backoff = backoff
        self.stats = stats
        self.log = log
        self.stop = stop
        self.batch_size = batch_size
        self._wake = threading.Event()
        self._outage = False
        self.thread = threading.Thread(target=self._run, name="uploader", daemon=True)

    def submit(self, record: TextRecord) -> None:
        """Queue a record on disk and wake the upload loop."""
        dropped = self.buffer.push(json.dumps(record.to_dict()))
        if dropped:
            self.stats.add("records_dropped", dropped)
            self.log.warning(
                "buffer_overflow", dropped=dropped, dropped_total=self.buffer.dropped,
                max_records=self.buffer.max_records,
            )
        self.stats.set(buffered=len(self.buffer))
        self._wake.set()

    def wake(self) -> None:
        """End the upload loop's wait now (after a stop: it stores what is queued and exits at once)."""
        self._wake.set()

    def _run(self) -> None:
        self._wake.set()  # records left from a previous run go first
        while not self.stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if not self.flush():
                self.stop.wait(self.backoff.next_delay())
                self._wake.set()

    def flush(self) -> bool:
        """Store every buffered record, oldest first; False if the Repository failed."""
        while True:
            batch = self.buffer.oldest(self.batch_size)
            if not batch:
                return True
            records = [TextRecord.from_dict(json.loads(row)) for _, row in batch]
            try:
                self.repository.append_many(records)
            except RepositoryError as error:
                self.stats.set(repository_reachable=False)
                if not self._outage:
                    self._outage = True
                    self.log.warning("repository_unavailable", reason=str(error), buffered=len(self.buffer))
                return False
            self.buffer.remove_through(batch[-1][0])
            self.stats.add("records_stored", len(records))
            self.stats.set(repository_reachable=True, buffered=len(self.buffer))
            if self._outage:
                self._outage = False
                self.backoff.reset()
                self.log.info("repository_recovered", buffered=len(self.buffer))
