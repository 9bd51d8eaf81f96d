"""Drawing a line of text on a camera-sized frame: the scene's light and tilt, and sensor-like noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BACKGROUND = 200  # light grey scene
INK = 20  # near-black text
SMALLEST_FONT_SIZE = 10


@dataclass(frozen=True)
class Look:
    """How the scene looks under the camera's light.

    `background` and `ink` are grey levels under full light (ink lighter than the background: a
    lit sign). The text is turned by `tilt_degrees` (counter-clockwise). The light falls linearly
    across the frame towards `light_direction_degrees` (0: left to right, 90: top to bottom),
    down to `light_low` of full light at the far edge (1: even light).
    """

    background: int = BACKGROUND
    ink: int = INK
    tilt_degrees: float = 0.0
    light_low: float = 1.0
    light_direction_degrees: float = 0.0

    def __post_init__(self) -> None:
        for name in ("background", "ink"):
            if not 0 <= getattr(self, name) <= 255:
                raise ValueError(f"{name} grey level {getattr(self, name)} is outside 0-255")
        if self.background == self.ink:
            raise ValueError(f"ink and background are both grey {self.ink}: the text would be invisible")
        if not 0.0 < self.light_low <= 1.0:
            raise ValueError(f"light_low {self.light_low} must be above 0 and at most 1 (1: even light)")
        if abs(self.tilt_degrees) > 45:
            raise ValueError(f"tilt {self.tilt_degrees} degrees is more than 45")

    def light(self, width: int, height: int) -> np.ndarray | None:
        """The fraction of full light at each pixel, or None for even light."""
        if self.light_low >= 1.0:
            return None
        angle = math.radians(self.light_direction_degrees)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        along = xs * math.cos(angle) + ys * math.sin(angle)
        along = (along - along.min()) / max(1e-6, float(along.max() - along.min()))
        return 1.0 - (1.0 - self.light_low) * along


class FrameRenderer:
    """Renders BGR uint8 frames: centred text of the `look` on its background, plus Gaussian noise.

    The noise-free frame of the current text is cached, so with `noise == 0` the same array is
    returned while the text stays the same (the camera then skips re-encoding).
    """

    def __init__(
        self, width: int, height: int, font_path: str, font_size: int, noise: float, seed: int,
        look: Look | None = None,
    ) -> None:
        self.width = width
        self.height = height
        self.font_path = font_path
        self.font_size = font_size
        self.noise = noise
        self.look = look or Look()
        self._light = self.look.light(width, height)
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
        look = self.look
        image = Image.new("L", (self.width, self.height), look.background)
        draw = ImageDraw.Draw(image)
        font, box = self._fitting_font(draw, text)
        x = (self.width - (box[2] - box[0])) // 2 - box[0]
        y = (self.height - (box[3] - box[1])) // 2 - box[1]
        draw.text((x, y), text, font=font, fill=look.ink)
        if look.tilt_degrees:
            image = image.rotate(look.tilt_degrees, resample=Image.Resampling.BICUBIC, fillcolor=look.background)
        gray = np.asarray(image)
        if self._light is not None:
            gray = np.clip(gray * self._light + 0.5, 0, 255).astype(np.uint8)
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
