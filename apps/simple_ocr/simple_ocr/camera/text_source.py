"""What the camera writes on its frames: the n-th line of a text source.

Sources are pure functions of the line index, so a test or the bench can know every line a
camera showed from its configuration alone.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path

TextSource = Callable[[int], str]

# Places of the reference story (Italy, Korea, Slovenia): real words the way signs carry them.
PLACES = (
    "POVO", "TRENTO", "ROVERETO", "MILANO", "TORINO", "ROMA", "NAPOLI", "BOLOGNA", "VERONA",
    "PADOVA", "GENOVA", "FIRENZE", "BARI", "PALERMO", "SEOUL", "BUSAN", "INCHEON", "DAEGU",
    "GWANGJU", "DAEJEON", "ULSAN", "SUWON", "LJUBLJANA", "MARIBOR", "KRANJ", "KOPER",
)


def counter_source(camera_id: str, location: str) -> TextSource:
    """`CAMKOR1 0042 SEOUL`: camera id, a 4-digit counter, the camera's location."""
    prefix = camera_id.upper()

    def line(index: int) -> str:
        return f"{prefix} {index % 10000:04d} {location}"

    return line


# Like number plates, codes leave out I, O and Q: next to digits they read as 1 and 0 to
# people and OCR alike.
PLATE_LETTERS = "".join(sorted(set(string.ascii_uppercase) - set("IOQ")))


def random_source(seed: int, letters: str = PLATE_LETTERS) -> TextSource:
    """`KX 7731 BUSAN`: a 2-3 letter code, a 4-digit number and a place, seeded per line."""

    def line(index: int) -> str:
        rng = random.Random(f"{seed}:{index}")
        code = "".join(rng.choice(letters) for _ in range(rng.randint(2, 3)))
        return f"{code} {rng.randint(0, 9999):04d} {rng.choice(PLACES)}"

    return line


def letters_source(seed: int) -> TextSource:
    """`QIO 7731 BUSAN`: as `random`, but codes draw on every letter, I, O and Q included.

    Those are the letters OCR confuses with digits and with each other (O/Q/0, I/1/T, J/I), so a
    bench that must see them uses this source.
    """
    return random_source(seed, string.ascii_uppercase)


def file_source(path: Path) -> TextSource:
    """The non-empty lines of a UTF-8 file, in order, cycling."""
    lines = [text.strip() for text in path.read_text(encoding="utf-8").splitlines() if text.strip()]
    if not lines:
        raise ValueError(f"text file {path} has no non-empty line")

    def line(index: int) -> str:
        return lines[index % len(lines)]

    return line


def make_text_source(spec: str, camera_id: str, location: str, seed: int) -> TextSource:
    """Build a source from its spec: `counter`, `random`, `letters` or `file:/path/to/lines.txt`."""
    if spec == "counter":
        return counter_source(camera_id, location)
    if spec == "random":
        return random_source(seed)
    if spec == "letters":
        return letters_source(seed)
    if spec.startswith("file:"):
        return file_source(Path(spec.removeprefix("file:")))
    raise ValueError(f"unknown text source {spec!r}: use counter, random, letters or file:/path")
