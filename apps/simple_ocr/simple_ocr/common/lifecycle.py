"""Graceful shutdown: SIGTERM and SIGINT set one event that every loop of a service watches."""

from __future__ import annotations

import signal
import threading


def stop_event_on_signals() -> threading.Event:
    """Return an event set by SIGTERM/SIGINT. Call from the main thread."""
    stop = threading.Event()

    def _handle(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    return stop


class Backoff:
    """Exponential retry delay between `initial` and `maximum` seconds; reset after a success."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial
