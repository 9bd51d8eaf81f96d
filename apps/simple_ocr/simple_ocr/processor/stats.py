"""Counters the Processor's threads update and its health endpoint reports."""

from __future__ import annotations

import threading
from typing import Any


class ProcessorStats:
    COUNTERS = (
        "frames_received",  # read from the stream
        "frames_corrupt",  # JPEGs that did not decode, skipped
        "frames_dropped_busy",  # replaced by a newer frame while OCR was busy
        "frames_unchanged",  # skipped by change detection: OCR calls avoided
        "ocr_calls",
        "frames_without_text",  # no plausible line found: tesseract not asked, nothing stored
        "texts_below_floor",  # read less sure than OCR_MIN_CONFIDENCE: not stored
        "texts_ambiguous",  # two views of a crop read different text: not stored
        "texts_unconfirmed",  # a change whose reads never agreed: nothing stored
        "texts_read",  # OCR results that differ from the previous text: records written
        "records_stored",  # confirmed by the Repository
        "records_dropped",  # pushed out of the full disk buffer
        "stream_connects",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = dict.fromkeys(self.COUNTERS, 0)
        self._values.update(stream_connected=False, repository_reachable=None, buffered=0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def set(self, **values: Any) -> None:
        with self._lock:
            self._values.update(values)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)
