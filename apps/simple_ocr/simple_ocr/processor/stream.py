"""Reading the camera's MJPEG stream with OpenCV in a thread that keeps only the newest frame.

OCR is slower than the camera's frame rate; handing over only the newest frame keeps latency
bounded instead of letting frames queue up in the socket.

An MJPEG stream is read raw (OpenCV hands over each JPEG undecoded): most frames are only
compared with the last one, and for that a JPEG decodes at 1/4 size for a fraction of the
work. Other codecs (a video file, RTSP) are decoded by OpenCV as they come.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from functools import cached_property

import cv2
import numpy as np

from ..common.lifecycle import Backoff
from ..common.logs import EventLogger
from .change import shrink
from .stats import ProcessorStats

MJPEG_CONTENT_TYPE = "multipart/x-mixed-replace"


MJPG = int.from_bytes(b"MJPG", "little")  # CAP_PROP_FOURCC of Motion JPEG
JPEG_SCALES = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
               8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


class Frame:
    """One received frame: an image OpenCV decoded, or a JPEG decoded only as far as it is used."""

    def __init__(self, number: int, captured_at: float, image: np.ndarray | None = None,
                 jpeg: np.ndarray | None = None) -> None:
        self.number = number  # count of frames received by this Processor, across reconnects
        self.captured_at = captured_at  # unix seconds
        self._image = image
        self._jpeg = jpeg

    @cached_property
    def image(self) -> np.ndarray:
        """The full BGR image; ValueError if the JPEG does not decode."""
        return self._image if self._image is not None else self._decode(cv2.IMREAD_COLOR)

    def shrunk_gray(self, scale: int) -> np.ndarray:
        """Greyscale at 1/scale of the size, what change detection compares."""
        if self._jpeg is not None and scale in JPEG_SCALES:
            return self._decode(JPEG_SCALES[scale])
        return shrink(self.image, scale)

    def _decode(self, flags: int) -> np.ndarray:
        image = cv2.imdecode(self._jpeg, flags)
        if image is None:
            raise ValueError(f"frame {self.number} is not a JPEG OpenCV can decode")
        return image


class LatestFrame:
    """A one-slot mailbox: the reader overwrites, the OCR loop takes the newest."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._count = 0
        self._closed = False
        self._changed = threading.Condition()

    def put(self, captured_at: float, image: np.ndarray | None = None, jpeg: np.ndarray | None = None) -> None:
        with self._changed:
            self._count += 1
            self._frame = Frame(self._count, captured_at, image, jpeg)
            self._changed.notify_all()

    def take_newer(self, number: int, timeout: float) -> Frame | None:
        with self._changed:
            self._changed.wait_for(lambda: self._count > number or self._closed, timeout)
            frame = self._frame
        return frame if frame is not None and frame.number > number else None

    def close(self) -> None:
        """Wakes a take_newer that waits (it returns at once from now on): the service is stopping."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


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
        if int(capture.get(cv2.CAP_PROP_FOURCC)) == MJPG:
            capture.set(cv2.CAP_PROP_FORMAT, -1)  # raw: read() returns each JPEG undecoded
        return capture, None

    def _read_all(self, capture: cv2.VideoCapture) -> int:
        frames = 0
        raw = capture.get(cv2.CAP_PROP_FORMAT) == -1
        while not self.stop.is_set():
            ok, data = capture.read()
            if not ok:
                break
            if frames == 0:
                # Reset only once frames flow: an endpoint that accepts and closes keeps backing off.
                self.backoff.reset()
            frames += 1
            self.stats.add("frames_received")
            if raw:
                self.latest.put(time.time(), jpeg=data)
            else:
                self.latest.put(time.time(), image=data)
        return frames

    def _wait_before_retry(self, event: str, **fields) -> None:
        delay = self.backoff.next_delay()
        self.log.warning(event, url=self.url, retry_in_s=delay, **fields)
        self.stop.wait(delay)
