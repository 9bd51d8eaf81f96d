"""The camera's clock: produces one JPEG frame per tick and hands the newest to every client."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import cv2

from ..common.logs import EventLogger


@dataclass(frozen=True)
class EncodedFrame:
    number: int
    jpeg: bytes


class FrameProducer:
    def __init__(self, scene, fps: float, jpeg_quality: int, log: EventLogger, stop: threading.Event) -> None:
        self.scene = scene
        self.fps = fps
        self.jpeg_quality = jpeg_quality
        self.log = log
        self.stop = stop
        self._latest: EncodedFrame | None = None
        self._new_frame = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="frame-producer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def latest(self) -> EncodedFrame | None:
        with self._new_frame:
            return self._latest

    def wait_newer(self, number: int, timeout: float) -> EncodedFrame | None:
        """The newest frame if its number is above `number`, waiting at most `timeout` seconds."""
        with self._new_frame:
            self._new_frame.wait_for(
                lambda: self._latest is not None and self._latest.number > number, timeout
            )
            latest = self._latest
        return latest if latest is not None and latest.number > number else None

    def _run(self) -> None:
        started = time.monotonic()
        number = 0
        last_frame = None
        last_text = None
        jpeg = b""
        try:
            while not self.stop.is_set():
                number += 1
                frame, text = self.scene.frame_at(time.monotonic() - started)
                if frame is not last_frame:  # an unchanged noise-free frame keeps its JPEG
                    jpeg = self._encode(frame)
                    last_frame = frame
                if text is not None and text != last_text:
                    # `at` is when the first frame with this text is handed to clients.
                    self.log.info("text_shown", frame=number, text=text, at=time.time())
                    last_text = text
                with self._new_frame:
                    self._latest = EncodedFrame(number, jpeg)
                    self._new_frame.notify_all()
                next_tick = started + number / self.fps
                self.stop.wait(max(0.0, next_tick - time.monotonic()))
        except Exception:
            self.log.error("producer_failed", exc_info=True)
            self.stop.set()  # a camera that cannot draw should exit, not serve a frozen frame
        finally:
            self.scene.close()

    def _encode(self, frame) -> bytes:
        ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return buffer.tobytes()
