"""The OCR loop: newest frame -> change detection -> OCR -> a record when the text changed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from ..common.logs import EventLogger
from ..records import TextRecord
from .change import ChangeDetector
from .ocr import OcrResult
from .stats import ProcessorStats
from .stream import LatestFrame


class OcrPipeline:
    def __init__(
        self, camera: str, frames: LatestFrame, detector: ChangeDetector | None,
        recognize: Callable[[np.ndarray], OcrResult], submit: Callable[[TextRecord], None],
        stats: ProcessorStats, log: EventLogger, stop: threading.Event,
    ) -> None:
        self.camera = camera
        self.frames = frames
        self.detector = detector
        self.recognize = recognize
        self.submit = submit
        self.stats = stats
        self.log = log
        self.stop = stop
        self.thread = threading.Thread(target=self._run, name="ocr-pipeline", daemon=True)

    def _run(self) -> None:
        last_number = 0
        last_text = None
        while not self.stop.is_set():
            frame = self.frames.take_newer(last_number, timeout=0.5)
            if frame is None:
                continue
            if frame.number > last_number + 1:
                self.stats.add("frames_dropped_busy", frame.number - last_number - 1)
            last_number = frame.number
            if self.detector is not None and not self.detector.is_new(frame.image):
                self.stats.add("frames_unchanged")
                continue
            self.stats.add("ocr_calls")
            try:
                result = self.recognize(frame.image)
            except Exception as error:  # tesseract missing or crashed: say so, keep the service up
                self.log.error("ocr_failed", frame=frame.number, reason=f"{type(error).__name__}: {error}")
                self.stop.wait(1.0)
                continue
            # One record per change of text: a camera showing the same line sends it once.
            if not result.text or result.text == last_text:
                continue
            last_text = result.text
            self.stats.add("texts_read")
            self.log.info("text_read", frame=frame.number, text=result.text,
                          confidence=round(result.confidence, 1), captured_at=frame.captured_at)
            self.submit(TextRecord(self.camera, frame.captured_at, frame.number, result.text,
                                   round(result.confidence, 1)))
