"""Preprocessing and text recognition with tesseract (libtesseract through tesserocr)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tesserocr

CROP_MARGIN = 12  # pixels of background kept around the text: tesseract reads worse without
# Where Debian, Ubuntu and upstream's `make install` put the traineddata files.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata")


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float  # mean word confidence, 0..100; 0 when nothing was read


def preprocess(image: np.ndarray) -> np.ndarray:
    """Grayscale, cropped to the text that an Otsu threshold of a smoothed copy finds; dark on light.

    Cropping leaves tesseract a small image: on a whole noisy frame it is slow and reads noise as
    text. Smoothing only helps find the crop: tesseract gets the unsmoothed grey crop (blurred
    strokes read worse: 146/150 noisy lines exact against 149/150 unsmoothed), and not the
    thresholded one either: it binarises again by itself, and a hard threshold thins strokes.
    """
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    _, binary = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(binary) < binary.size / 2:  # light text on dark: make the ink dark
        gray = cv2.bitwise_not(gray)
        binary = cv2.bitwise_not(binary)
    # Opening removes specks of noise that passed the threshold, so they do not widen the crop.
    ink = cv2.morphologyEx(cv2.bitwise_not(binary), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return gray
    top, bottom = max(0, ys.min() - CROP_MARGIN), ys.max() + CROP_MARGIN + 1
    left, right = max(0, xs.min() - CROP_MARGIN), xs.max() + CROP_MARGIN + 1
    return gray[top:bottom, left:right]


class Tesseract:
    """One tesseract engine, loaded once and reused for every read.

    pytesseract starts a `tesseract` process per read, and loading the model is most of it:
    0.11 s of a 0.12 s read of a cropped line, against 0.01 s here. Not thread-safe: the
    Processor reads from one thread.
    """

    def __init__(self, lang: str = "eng", psm: int = 6, tessdata_dir: str | None = None) -> None:
        if not tesserocr.PSM.OSD_ONLY <= psm < tesserocr.PSM.COUNT:
            raise ValueError(f"tesseract has no page segmentation mode {psm}: use 0-{tesserocr.PSM.COUNT - 1}")
        self.tessdata_dir = find_tessdata(lang, tessdata_dir)
        try:
            self._api = tesserocr.PyTessBaseAPI(path=self.tessdata_dir + "/", lang=lang, psm=psm)
        except RuntimeError as error:
            raise ValueError(f"tesseract could not load {lang!r} from {self.tessdata_dir}: {error}") from None

    def __call__(self, image: np.ndarray) -> OcrResult:
        """Text lines joined by newlines, words by single spaces, with tesseract's mean word confidence."""
        if image.ndim == 3:  # OpenCV frames are BGR; tesseract takes RGB
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        channels = 1 if image.ndim == 2 else image.shape[2]
        self._api.SetImageBytes(image.tobytes(), width, height, channels, width * channels)
        lines = (" ".join(line.split()) for line in self._api.GetUTF8Text().splitlines())
        text = "\n".join(line for line in lines if line)
        confidences = self._api.AllWordConfidences() if text else []
        mean = sum(confidences) / len(confidences) if confidences else 0.0
        return OcrResult(text, float(mean))


def find_tessdata(lang: str, tessdata_dir: str | None = None) -> str:
    """The tessdata directory holding `<lang>.traineddata`, or a ValueError that says what to do."""
    candidates = [tessdata_dir] if tessdata_dir else [os.environ.get("TESSDATA_PREFIX"), *TESSDATA_DIRS]
    for directory in filter(None, candidates):
        if (Path(directory) / f"{lang}.traineddata").is_file():
            return str(directory).rstrip("/")
    where = tessdata_dir or ", ".join(filter(None, candidates))
    raise ValueError(f"no {lang}.traineddata in {where}: install tesseract-ocr-{lang} "
                     "or set OCR_TESSDATA_DIR to the directory that has it")


class BestOfViews:
    """A read of the crop; when it is less sure than SURE, also of the crop squeezed to SQUEEZE of
    its width, and the more confident of the two is kept.

    With the camera's monospaced font tesseract misreads some letters the same way on every
    frame (`J` after a capital as `I`, `W` as `w`), so reading more frames cannot fix them.
    The squeezed view misreads other lines, and then mostly with less confidence. Exact single
    reads of 2,000 noisy `random` lines (bench/ocr_views_bench.py; seed 4242 was held out when
    the factor was chosen): 1,985 with the crop alone, 1,993 with this, the same as always
    reading both views. The second view runs on about 1 read in 5, the ones below SURE.
    """

    SQUEEZE = 0.75
    SURE = 93.0

    def __init__(self, read: Callable[[np.ndarray], OcrResult]) -> None:
        self.read = read

    def __call__(self, image: np.ndarray) -> OcrResult:
        first = self.read(image)
        if first.confidence >= self.SURE:
            return first
        return max(first, self.read(self.squeezed(image)), key=lambda r: r.confidence)

    @classmethod
    def squeezed(cls, image: np.ndarray) -> np.ndarray:
        """The second view: the same height, SQUEEZE of the width."""
        height, width = image.shape[:2]
        return cv2.resize(image, (max(1, round(width * cls.SQUEEZE)), height), interpolation=cv2.INTER_AREA)
