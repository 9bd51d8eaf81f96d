"""The OCR loop: newest frame -> change detection -> OCR -> a record when the text changed.

With change detection a line would be read once, so one misread would stand for the whole line.
After a change the loop therefore reads frames until two reads agree, at most CONFIRM_READS of
them: about two OCR calls per line instead of one per frame. Reads that never agree are not
stored: over 840 lines of bench/ocr_robustness_bench.py under seven conditions every line got two
agreeing reads within three, and over 150 scenes of shapes no two reads of noise ever agreed.
A read less sure than `min_confidence` is not stored either: tesseract reading shapes or noise is
mostly unsure (confidence 0-75), a line it reads right is not (80-96).
Nor is a read whose two views of the crop read different text (`OcrResult.ambiguous`, see
ocr.CheckedViews): tesseract misreads some letters the same way on every frame (`OJ` as `0J`), so
agreeing frames cannot catch them, but another view of the crop often reads them otherwise; nor one
where a character barely beat its runner-up (`OcrResult.margin` under `min_margin`: `T` 84 vs `I` 66).
With `reread` the frames after a change's first are read from another view of the crop, so two agreeing
reads are two views agreeing as well, at no extra read (see ocr.CheckedViews).
A line refused only for a character's margin is read on from its next frames, up to LINE_READS
frames in all, and stored when two of them agree clearly on what the refused pair read: each
frame's noise differs, and one line in ten of the lab camera's `CAMKOR1 0042 SEOUL` was refused on
its first pair (margins of 8-19) and so never stored. A line whose views read different text is not
read on: over bench/ocr_robustness_bench.py's 2,200 lines with each of two seeds (8191, 5003) reading
on after any refusal stored 96 more lines right but one more wrong (`OJ 5796` as `0J 5796`), and
without the rule that the later pair must say what the refused one said, another (`PW` as `Pw`);
after a margin only, 52 more right and none more wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..common.logs import EventLogger
from ..records import TextRecord
from .change import ChangeDetector
from .ocr import OcrResult
from .stats import ProcessorStats
from .stream import LatestFrame

CONFIRM_READS = 3
LINE_READS = 6  # frames of one line read at most, when a pair of its reads is refused for a weak character


class OcrPipeline:
    def __init__(
        self, camera: str, frames: LatestFrame, detector: ChangeDetector | None,
        recognize: Callable[[np.ndarray], OcrResult], submit: Callable[[TextRecord], None],
        stats: ProcessorStats, log: EventLogger, stop: threading.Event, min_confidence: float = 0.0,
        min_margin: float = 0.0, reread: Callable[[np.ndarray, int], OcrResult] | None = None,
    ) -> None:
        """`reread(image, reads_before)`: how a line's later frames are read (ocr.LineReader: with the
        crop's other view); None: like its first."""
        self.camera = camera
        self.frames = frames
        self.detector = detector
        self.recognize = recognize
        self.submit = submit
        self.stats = stats
        self.log = log
        self.stop = stop
        self.min_confidence = min_confidence
        self.min_margin = min_margin
        self.reread = reread
        self.thread = threading.Thread(target=self._run, name="ocr-pipeline", daemon=True)

    def _run(self) -> None:
        last_number = 0
        last_text = None
        reads: list[OcrResult] = []  # reads of the current change not yet confirmed
        line_left = 0  # frames of the current change that may still be read
        refused_text = None  # what the current change's first refused pair read
        while not self.stop.is_set():
            frame = self.frames.take_newer(last_number, timeout=0.5)
            if frame is None:
                continue
            if frame.number > last_number + 1:
                self.stats.add("frames_dropped_busy", frame.number - last_number - 1)
            last_number = frame.number
            try:
                if self.detector is not None:
                    if self.detector.is_new_shrunk(frame.shrunk_gray(self.detector.scale)):
                        reads, line_left, refused_text = [], LINE_READS, None
                    elif not line_left:
                        self.stats.add("frames_unchanged")
                        continue
                image = frame.image
            except ValueError as error:  # a corrupt JPEG: skip it, the next frame follows soon
                self._count_corrupt(frame.number, error)
                continue
            self.stats.add("ocr_calls")
            try:
                result = self.reread(image, len(reads)) if reads and self.reread else self.recognize(image)
            except Exception as error:  # tesseract missing or crashed: say so, keep the service up
                self.log.error("ocr_failed", frame=frame.number, reason=f"{type(error).__name__}: {error}")
                self.stop.wait(1.0)
                continue
            if not result.text_found:
                self.stats.add("frames_without_text")
            if self.detector is not None:
                result, reads = confirm(reads, result)
                line_left -= 1
                if result is None:
                    if not reads:  # CONFIRM_READS reads, no two alike
                        self.stats.add("texts_unconfirmed")
                        line_left = 0
                    continue
            # One record per change of text: a camera showing the same line sends it once.
            if not result.text or result.text == last_text:
                line_left = 0
                continue
            read_otherwise = refused_text not in (None, result.text)  # read on, the line now reads otherwise
            if result.ambiguous or result.margin < self.min_margin or read_otherwise:
                if refused_text is None and result.ambiguous:  # a misread one view makes, the next frames too
                    line_left = 0
                if line_left:  # remembered only while the line is read on (never without change detection)
                    refused_text = refused_text or result.text
                self.stats.add("texts_ambiguous")
                self.log.info("text_ambiguous", frame=frame.number, text=result.text[:80],
                              confidence=round(result.confidence, 1), views_differ=result.ambiguous,
                              margin=round(result.margin, 1), min_margin=self.min_margin,
                              read_otherwise_before=read_otherwise, frames_left=line_left)
                continue
            line_left = 0
            if result.confidence < self.min_confidence:
                self.stats.add("texts_below_floor")
                self.log.info("text_unsure", frame=frame.number, text=result.text[:80],
                              confidence=round(result.confidence, 1), min_confidence=self.min_confidence)
                continue
            last_text = result.text
            self.stats.add("texts_read")
            self.log.info("text_read", frame=frame.number, text=result.text,
                          confidence=round(result.confidence, 1), captured_at=frame.captured_at)
            self.submit(TextRecord(self.camera, frame.captured_at, frame.number, result.text,
                                   round(result.confidence, 1)))

    def _count_corrupt(self, number: int, error: ValueError) -> None:
        self.stats.add("frames_corrupt")
        corrupt = self.stats.snapshot()["frames_corrupt"]
        if corrupt == 1 or corrupt % 100 == 0:  # a broken camera must not flood the log
            self.log.warning("frame_corrupt", frame=number, frames_corrupt=corrupt, reason=str(error))


def confirm(reads: list[OcrResult], result: OcrResult) -> tuple[OcrResult | None, list[OcrResult]]:
    """The read to keep once two reads of a change agree, else None.

    Returns it with the reads still pending: [] once decided, which is also the case, with None,
    after CONFIRM_READS reads that all differ (a scene tesseract reads differently every time).
    The kept read is ambiguous when either of the two agreeing reads was, and has the smaller margin.
    """
    agreeing = [r for r in reads if r.text == result.text]
    if agreeing:
        other = agreeing[0]
        return replace(result, ambiguous=result.ambiguous or other.ambiguous,
                       margin=min(result.margin, other.margin)), []
    reads = reads + [result]
    if len(reads) >= CONFIRM_READS:
        return None, []
    return None, reads
