"""Graceful shutdown: SIGTERM and SIGINT set one event that every loop of a service watches."""

from __future__ import annotations

import os
import signal
import threading


def stop_event_on_signals() -> threading.Event:
    """Return an event set once SIGTERM or SIGINT comes. Call from the main thread.

    The handlers do nothing but let Python write the signal's number to a wake-up pipe (signal.set_wakeup_fd); a
    thread reads the pipe and sets the event. A handler runs in the main thread between any two bytecodes, also in
    the middle of an earlier handler: one that set the event itself took the event's lock, a second signal right
    after the first (a supervisor sends SIGTERM twice) ran the handler again while the first held that lock, and the
    main thread deadlocked - the service never stopped and was killed 10 s later."""
    stop = threading.Event()
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    wanted = {int(signal.SIGTERM), int(signal.SIGINT)}

    def relay() -> None:
        while not stop.is_set():
            if wanted & set(os.read(read_end, 64)):
                stop.set()

    for signum in wanted:
        signal.signal(signum, lambda _signum, _frame: None)
    threading.Thread(target=relay, name="stop-signals", daemon=True).start()
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
