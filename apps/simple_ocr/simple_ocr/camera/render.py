"""Drawing a line of text on a camera-sized frame: the scene's light and tilt, and sensor-like noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BACKGROUND = 200  # light grey scene
INK = 20  # near-black text
SMALLEST_FONT_SIZE = 10
# A frame's noise is a window of a larger field drawn once, at a random offset: drawing 300,000 Gaussian numbers per
# frame was four fifths of a camera's CPU (3.6 ms of a 4.8 ms frame at 640x480; a window, 0.4 ms).
NOISE_FIELDS = 2
NOISE_MARGIN = 64


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
    returned while the text stays the same (the camera then skips re-encoding). The noise of each
    pixel is Gaussian with standard deviation `noise` grey levels (rounded to whole levels); a frame
    takes it from one of NOISE_FIELDS fields drawn at start, at a random offset, so consecutive
    frames differ as a sensor's do.
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
        self._noise_fields: np.ndarray | None = None

    def render(self, text: str) -> np.ndarray:
        if text != self._clean_text:
            self._clean = self._draw(text)
            self._clean_text = text
        assert self._clean is not None
        if self.noise <= 0:
            return self._clean
        noisy = self._clean[:, :, 0].astype(np.int16)
        noisy += self._noise_window()
        np.clip(noisy, 0, 255, out=noisy)
        return cv2.cvtColor(noisy.astype(np.uint8), cv2.COLOR_GRAY2BGR)

    def _noise_window(self) -> np.ndarray:
        if self._noise_fields is None:
            shape = (NOISE_FIELDS, self.height + NOISE_MARGIN, self.width + NOISE_MARGIN)
            self._noise_fields = np.rint(self._rng.standard_normal(shape, dtype=np.float32) * self.noise).astype(np.int16)
        field = self._rng.integers(NOISE_FIELDS)
        dy, dx = self._rng.integers(0, NOISE_MARGIN + 1, size=2)
        return self._noise_fields[field, dy:dy + self.height, dx:dx + self.width]

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
