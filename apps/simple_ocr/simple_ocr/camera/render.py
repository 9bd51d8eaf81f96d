"""Drawing a line of text on a camera-sized frame, with optional sensor-like noise."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BACKGROUND = 200  # light grey scene
INK = 20  # near-black text
SMALLEST_FONT_SIZE = 10


class FrameRenderer:
    """Renders BGR uint8 frames: centred dark text on a light background, plus Gaussian noise.

    The noise-free frame of the current text is cached, so with `noise == 0` the same array is
    returned while the text stays the same (the camera then skips re-encoding).
    """

    def __init__(
        self, width: int, height: int, font_path: str, font_size: int, noise: float, seed: int
    ) -> None:
        self.width = width
        self.height = height
        self.font_path = font_path
        self.font_size = font_size
        self.noise = noise
        self._rng = np.random.default_rng(seed)
        self._clean_text: str | None = None
        self._clean: np.ndarray | None = None

    def render(self, text: str) -> np.ndarray:
        if text != self._clean_text:
            self._clean = self._draw(text)
            self._clean_text = text
        assert self._clean is not None
        if self.noise <= 0:
            return self._clean
        noise = self._rng.standard_normal(self._clean.shape[:2], dtype=np.float32) * self.noise
        noisy = np.clip(self._clean[:, :, 0] + noise, 0, 255).astype(np.uint8)
        return np.repeat(noisy[:, :, None], 3, axis=2)

    def _draw(self, text: str) -> np.ndarray:
        image = Image.new("L", (self.width, self.height), BACKGROUND)
        draw = ImageDraw.Draw(image)
        font, box = self._fitting_font(draw, text)
        x = (self.width - (box[2] - box[0])) // 2 - box[0]
        y = (self.height - (box[3] - box[1])) // 2 - box[1]
        draw.text((x, y), text, font=font, fill=INK)
        gray = np.asarray(image)
        return np.repeat(gray[:, :, None], 3, axis=2)

    def _fitting_font(self, draw: ImageDraw.ImageDraw, text: str):
        """The configured size, shrunk until the line fits in 90% of the frame width."""
        size = self.font_size
        while True:
            font = _font(self.font_path, size)
            box = draw.textbbox((0, 0), text, font=font)
            if box[2] - box[0] <= 0.9 * self.width or size <= SMALLEST_FONT_SIZE:
                return font, box
            size -= 2


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)
