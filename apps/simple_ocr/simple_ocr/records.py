"""The record the Processor writes and the Webserver shows: what one camera's text read was."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TextRecord:
    camera: str
    time: float  # unix seconds when the frame was captured by the Processor
    frame: int  # frame number in the Processor's count of frames received
    text: str
    confidence: float  # tesseract's mean word confidence, 0..100
    id: str | None = None  # Redis stream entry id, set once stored

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextRecord:
        return cls(
            camera=str(data["camera"]),
            time=float(data["time"]),
            frame=int(data["frame"]),
            text=str(data["text"]),
            confidence=float(data["confidence"]),
            id=data.get("id"),
        )
