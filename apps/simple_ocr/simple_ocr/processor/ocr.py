"""Preprocessing and text recognition with tesseract (through pytesseract)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract

CROP_MARGIN = 12  # pixels of background kept around the text: tesseract reads worse without


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


def read_text(image: np.ndarray, psm: int, lang: str) -> OcrResult:
    """Text lines joined by newlines, words by single spaces, with tesseract's mean confidence."""
    if image.ndim == 3:  # pytesseract expects RGB; OpenCV frames are BGR
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    data = pytesseract.image_to_data(
        image, lang=lang, config=f"--psm {psm}", output_type=pytesseract.Output.DICT
    )
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences = []
    for i, word in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        if confidence < 0 or not word.strip():
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(word.strip())
        confidences.append(confidence)
    text = "\n".join(" ".join(words) for words in lines.values())
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrResult(text, mean)
