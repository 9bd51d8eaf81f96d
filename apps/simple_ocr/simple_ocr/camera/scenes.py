"""What the camera looks at: drawn lines of text that change on a schedule, or a looping video."""

from __future__ import annotations

import cv2
import numpy as np

from .render import FrameRenderer
from .text_source import TextSource


class TextScene:
    """Line `n` of the text source is shown from `n * interval` to `(n + 1) * interval` seconds."""

    def __init__(self, source: TextSource, renderer: FrameRenderer, interval_s: float) -> None:
        self.source = source
        self.renderer = renderer
        self.interval_s = interval_s

    def frame_at(self, elapsed_s: float) -> tuple[np.ndarray, str | None]:
        text = self.source(int(elapsed_s // self.interval_s))
        return self.renderer.render(text), text

    def close(self) -> None:
        pass


class VideoLoop:
    """Frames of a video file in order, restarting at the end; resized to the camera resolution."""

    def __init__(self, path: str, width: int, height: int) -> None:
        self.path = path
        self.size = (width, height)
        self._capture = self._open()

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.path)
        if not capture.isOpened():
            raise ValueError(f"cannot open video file {self.path}")
        return capture

    def frame_at(self, elapsed_s: float) -> tuple[np.ndarray, str | None]:
        ok, frame = self._capture.read()
        if not ok:  # end of file: start over
            self._capture.release()
            self._capture = self._open()
            ok, frame = self._capture.read()
            if not ok:
                raise ValueError(f"video file {self.path} has no readable frame")
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        return frame, None

    def close(self) -> None:
        self._capture.release()
