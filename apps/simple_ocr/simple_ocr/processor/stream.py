"""Reading the camera's MJPEG stream with OpenCV in a thread that keeps only the newest frame.

OCR is slower than the camera's frame rate; handing over only the newest frame keeps latency
bounded instead of letting frames queue up in the socket.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import cv2
import numpy as np

from ..common.lifecycle import Backoff
from ..common.logs import EventLogger
from .stats import ProcessorStats

MJPEG_CONTENT_TYPE = "multipart/x-mixed-replace"


@dataclass(frozen=True)
class Frame:
    number: int  # count of frames received by this Processor, across reconnects
    image: np.ndarray
    captured_at: float  # unix seconds


class LatestFrame:
    """A one-slot mailbox: the reader overwrites, the OCR loop takes the newest."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._count = 0
        self._changed = threading.Condition()

    def put(self, image: np.ndarray, captured_at: float) -> None:
        with self._changed:
            self._count += 1
            self._frame = Frame(self._count, image, captured_at)
            self._changed.notify_all()

    def take_newer(self, number: int, timeout: float) -> Frame | None:
        with self._changed:
            self._changed.wait_for(lambda: self._count > number, timeout)
            frame = self._frame
        return frame if frame is not None and frame.number > number else None


def probe_mjpeg(url: str, timeout_s: float) -> str | None:
    """Why `url` is not an MJPEG stream, or None if it looks like one (only http(s) is probed)."""
    if not url.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (http only)
            content_type = response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        return f"cannot connect: {getattr(error, 'reason', error)}"
    if content_type != MJPEG_CONTENT_TYPE:
        return f"Content-Type {content_type} is not {MJPEG_CONTENT_TYPE} (not an MJPEG stream)"
    return None


class StreamReader:
    """Connects, reads frames into `latest`, and reconnects with backoff until `stop` is set."""

    def __init__(
        self, url: str, timeout_s: float, backoff: Backoff, latest: LatestFrame,
        stats: ProcessorStats, log: EventLogger, stop: threading.Event,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.backoff = backoff
        self.latest = latest
        self.stats = stats
        self.log = log
        self.stop = stop
        self.thread = threading.Thread(target=self._run, name="stream-reader", daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            capture, problem = self._open()
            if capture is None:
                self._wait_before_retry("stream_unavailable", reason=problem)
                continue
            self.stats.add("stream_connects")
            self.stats.set(stream_connected=True)
            self.log.info("stream_connected", url=self.url)
            frames = self._read_all(capture)
            capture.release()
            self.stats.set(stream_connected=False)
            if not self.stop.is_set():
                self._wait_before_retry("stream_lost", frames=frames)

    def _open(self) -> tuple[cv2.VideoCapture | None, str | None]:
        problem = probe_mjpeg(self.url, self.timeout_s)
        if problem:
            return None, problem
        timeout_ms = int(self.timeout_s * 1000)
        capture = cv2.VideoCapture(
            self.url, cv2.CAP_FFMPEG,
            [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms],
        )
        if not capture.isOpened():
            capture.release()
            return None, "OpenCV could not open it as a video stream"
        return capture, None

    def _read_all(self, capture: cv2.VideoCapture) -> int:
        frames = 0
        while not self.stop.is_set():
            ok, image = capture.read()
            if not ok:
                break
            if frames == 0:
                # Reset only once frames flow: an endpoint that accepts and closes keeps backing off.
                self.backoff.reset()
            frames += 1
            self.stats.add("frames_received")
            self.latest.put(image, time.time())
        return frames

    def _wait_before_retry(self, event: str, **fields) -> None:
        delay = self.backoff.next_delay()
        self.log.warning(event, url=self.url, retry_in_s=delay, **fields)
        self.stop.wait(delay)
