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
        return self.is_new_shrunk(shrink(image, self.scale))

    def is_new_shrunk(self, signature: np.ndarray) -> bool:
        """is_new for a frame already shrunk by `scale` to greyscale (a JPEG decoded at 1/scale)."""
        reference = self._reference
        if reference is not None and reference.shape == signature.shape:
            changed = np.count_nonzero(cv2.absdiff(signature, reference) > self.pixel_delta)
            if changed < self.min_changed_pixels:
                return False
        self._reference = signature
        return True


def shrink(image: np.ndarray, scale: int) -> np.ndarray:
    """Greyscale at 1/scale of the size, by area averaging."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    size = (max(1, gray.shape[1] // scale), max(1, gray.shape[0] // scale))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
