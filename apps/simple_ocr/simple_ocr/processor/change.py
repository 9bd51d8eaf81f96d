"""Change detection: is a frame different enough from the last one read to be worth OCR?"""

from __future__ import annotations

import cv2
import numpy as np


class ChangeDetector:
    """Compares frames shrunk by `scale` (area averaging evens out sensor and JPEG noise).

    A frame is new when at least `min_changed_pixels` of the shrunk pixels differ by more than
    `pixel_delta` grey levels from the reference: the last frame that was new.
    """

    def __init__(self, pixel_delta: int = 24, min_changed_pixels: int = 6, scale: int = 4) -> None:
        self.pixel_delta = pixel_delta
        self.min_changed_pixels = min_changed_pixels
        self.scale = scale
        self._reference: np.ndarray | None = None

    def is_new(self, image: np.ndarray) -> bool:
        signature = self._signature(image)
        reference = self._reference
        if reference is not None and reference.shape == signature.shape:
            changed = np.count_nonzero(cv2.absdiff(signature, reference) > self.pixel_delta)
            if changed < self.min_changed_pixels:
                return False
        self._reference = signature
        return True

    def _signature(self, image: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        size = (max(1, gray.shape[1] // self.scale), max(1, gray.shape[0] // self.scale))
        return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
