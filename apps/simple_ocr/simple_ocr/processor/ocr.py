"""Preprocessing and text recognition with tesseract (libtesseract through tesserocr)."""

from __future__ import annotations

import math
import os
import string
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import tesserocr

CROP_MARGIN = 12  # pixels of background kept around the text: tesseract reads worse without
# Where Debian, Ubuntu and upstream's `make install` put the traineddata files.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata")
MIN_TEXT_CONTRAST = 16  # grey levels the ink (smoothed 5x5) must stand out of the evened-out scene to count
BACKGROUND_WIDTH = 160  # the light is estimated on a copy shrunk to about this width (fast, and blind to strokes)
BACKGROUND_WINDOW = 21  # median window on that copy: 1/8 of the frame's width, wider than a line's strokes
NOISE_SIGMAS = 6  # a smoothed pixel is ink when it differs from the background by more than this many σ of noise
MIN_INK_PIXELS = 40  # fewer ink pixels than this are specks, not a line
MIN_TEXT_HEIGHT = 6  # pixels
MAX_TEXT_HEIGHT_SHARE = 1 / 3  # ink taller than this share of the frame (once straightened) is a scene, not text
MAX_DESKEW_DEGREES = 20.0  # a line turned further is not straightened (more likely not a line)
# Ink closer than this is one block of text: letters, words (a space is 36 px at 150% size), lines of a sign.
LINE_JOIN_SHARE = (1 / 8, 1 / 32)  # of the frame's width, height
SMALL_TEXT_HEIGHT, READ_HEIGHT = 26, 34  # lines with fewer ink rows are scaled up towards READ_HEIGHT
PAPER, INK_TARGET = 235, 55  # grey levels of the evened-out crop handed to tesseract
NOISY_CONTRAST = 8  # ink/noise below this: the crop is smoothed before reading (96% exact at 35 levels, was 90%)
# What tesseract may read unless OCR_CHARSET says otherwise: letters, digits and a few marks of signs and
# plates. Without it tesseract read `J` as `}` or `)` and `S` as `$`, the same way on every frame.
DEFAULT_CHARSET = "A-Za-z0-9.,:/'&#-"
ANY_CHARACTER = "*"  # OCR_CHARSET=*: whatever the language model knows


@dataclass(frozen=True)
class OcrResult:
    text: str
    confidence: float  # mean word confidence, 0..100; 0 when nothing was read
    text_found: bool = True  # False: preprocessing found no plausible line and tesseract was not asked
    ambiguous: bool = False  # True: two views of the same crop read different text (see CheckedViews)
    # How far the least certain character stood above the next character tesseract weighed for its
    # place (0..100; 100 when nothing was read): `T` 84 against `I` 66 is a margin of 18.
    margin: float = 100.0


NO_TEXT_FOUND = OcrResult("", 0.0, text_found=False)


def preprocess(image: np.ndarray, min_contrast: float = MIN_TEXT_CONTRAST) -> np.ndarray | None:
    """The line of text in `image`, evenly lit, straightened and cropped, dark on light; None if none.

    A camera's light is rarely even, and one global threshold then splits the light instead of
    finding the text (a frame whose light falls to 60% cropped to the whole frame, and tesseract
    read noise for 0.5 s). So the light is estimated first, as a median over windows much wider
    than a stroke on a shrunk copy, and subtracted: what remains is ink (dark or light) on zero.
    Ink is what a smoothed copy of that shows beyond both `min_contrast` / 2 and NOISE_SIGMAS of
    the frame's own noise, in the largest block of it; without enough of it, or with ink over a
    third of the frame's height, there is no line to read (and no slow read of noise).
    The line's slant (the main axis of its ink) is turned back before cropping: tesseract misread
    22% of lines at 3°. Tesseract gets the evened, unsmoothed crop (it binarises by itself, and
    blurred strokes read worse) unless the ink barely stands out of the noise; small text is
    scaled up.
    """
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    signed = gray.astype(np.float32) - _light(gray)  # ink far from 0, background near 0
    smooth = cv2.blur(signed, (5, 5))
    noise = _sigma(smooth)
    threshold = max(min_contrast / 2, NOISE_SIGMAS * noise)
    dark, light = smooth < -threshold, smooth > threshold
    if np.count_nonzero(light) > np.count_nonzero(dark):  # light text on a dark scene
        signed, smooth, ink = -signed, -smooth, light
    else:
        ink = dark
    ink = _main_block(cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
    points = cv2.findNonZero(ink)
    if points is None or len(points) < MIN_INK_PIXELS:
        return None
    points = points.reshape(-1, 2)
    contrast = -float(np.percentile(smooth[points[:, 1], points[:, 0]], 10))  # how far the ink stands out
    left, top, width, height = cv2.boundingRect(points)
    if contrast < min_contrast or height < MIN_TEXT_HEIGHT:
        return None
    pad = CROP_MARGIN + width // 6  # room for the corners a turn brings in
    top, left = max(0, top - pad), max(0, left - pad)
    region = np.s_[top:top + height + 2 * pad, left:left + width + 2 * pad]
    # Evened out: background at PAPER, ink at about INK_TARGET, whatever the light was.
    evened = np.clip(PAPER + signed[region] * ((PAPER - INK_TARGET) / contrast), 0, 255).astype(np.uint8)
    crop, ink = _straight(evened, ink[region], points - (left, top))
    left, top, width, height = cv2.boundingRect(ink)
    if height == 0 or height > MAX_TEXT_HEIGHT_SHARE * gray.shape[0]:
        return None  # boxes, circles and lines all over a scene: tesseract would read them as noise
    crop = crop[max(0, top - CROP_MARGIN):top + height + CROP_MARGIN,
                max(0, left - CROP_MARGIN):left + width + CROP_MARGIN]
    if contrast < NOISY_CONTRAST * _sigma(signed):
        crop = cv2.GaussianBlur(crop, (0, 0), 1.2)
    if height < SMALL_TEXT_HEIGHT:  # tesseract misreads small capitals (I as T: 7 of 200 lines at 24 px)
        scale = min(2.0, READ_HEIGHT / height)
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return crop


def _sigma(signed: np.ndarray) -> float:
    """σ of the noise around 0 (median absolute deviation of every 4th pixel; the text is too few to count)."""
    return 1.4826 * float(np.median(np.abs(signed[::4, ::4])))


def _main_block(ink: np.ndarray) -> np.ndarray:
    """The ink of the largest block of text (ink joined across letter, word and line gaps).

    Specks, an edge of the scene or a smudge far from the text then do not stretch the crop.
    Blocks are found on a copy shrunk like the light's (a tenth of the work).
    """
    height, width = ink.shape
    factor = max(1, width // BACKGROUND_WIDTH)
    small_size = (max(1, width // factor), max(1, height // factor))
    amount = cv2.resize(ink.astype(np.float32), small_size, interpolation=cv2.INTER_AREA)  # ink share per cell
    join = (max(1, round(small_size[0] * LINE_JOIN_SHARE[0])), max(1, round(small_size[1] * LINE_JOIN_SHARE[1])))
    joined = cv2.dilate((amount > 0).astype(np.uint8), np.ones((join[1], join[0]), np.uint8))
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    if count <= 2:  # background and at most one block
        return ink
    ink_per_block = np.bincount(labels.ravel(), weights=amount.ravel(), minlength=count)
    ink_per_block[0] = 0
    block = (labels == int(np.argmax(ink_per_block))).astype(np.uint8)
    block = cv2.dilate(block, np.ones((3, 3), np.uint8))  # cells the shrinking split at the block's edge
    return ink & cv2.resize(block, (width, height), interpolation=cv2.INTER_NEAREST)


def _light(gray: np.ndarray) -> np.ndarray:
    """The scene's brightness without the text: a wide median of a shrunk copy, grown back."""
    height, width = gray.shape
    factor = max(1, width // BACKGROUND_WIDTH)
    small = cv2.resize(gray, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    window = min(BACKGROUND_WINDOW, (min(small.shape) - 1) | 1)
    if window >= 3:
        small = cv2.medianBlur(small, window)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def _straight(image: np.ndarray, ink: np.ndarray, points: np.ndarray):
    """`image` and its ink mask turned so that the line of ink `points` (x, y) is level."""
    points = points.astype(np.float32)
    centre = points.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov((points - centre).T))
    x, y = eigenvectors[:, 1]  # the main axis of the ink
    degrees = math.degrees(math.atan2(y, x))
    degrees = (degrees + 90) % 180 - 90  # the axis has no direction: -90..90
    if not 0.3 <= abs(degrees) <= MAX_DESKEW_DEGREES or eigenvalues[1] < 4 * eigenvalues[0]:
        return image, ink  # level already, or not a line (a blob has no main axis)
    turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), degrees, 1.0)
    size = (image.shape[1], image.shape[0])
    return (cv2.warpAffine(image, turn, size, flags=cv2.INTER_LINEAR, borderValue=PAPER),
            cv2.warpAffine(ink, turn, size, flags=cv2.INTER_NEAREST, borderValue=0))


class Tesseract:
    """One tesseract engine, loaded once and reused for every read.

    pytesseract starts a `tesseract` process per read, and loading the model is most of it:
    0.11 s of a 0.12 s read of a cropped line, against 0.01 s here. Not thread-safe: the
    Processor reads from one thread.
    """

    def __init__(self, lang: str = "eng", psm: int = 6, tessdata_dir: str | None = None,
                 charset: str | None = None) -> None:
        """`charset`: the only characters tesseract may read (see `parse_charset`); None: any it knows."""
        if not tesserocr.PSM.OSD_ONLY <= psm < tesserocr.PSM.COUNT:
            raise ValueError(f"tesseract has no page segmentation mode {psm}: use 0-{tesserocr.PSM.COUNT - 1}")
        self.tessdata_dir = find_tessdata(lang, tessdata_dir)
        try:
            self._api = tesserocr.PyTessBaseAPI(path=self.tessdata_dir + "/", lang=lang, psm=psm)
        except RuntimeError as error:
            raise ValueError(f"tesseract could not load {lang!r} from {self.tessdata_dir}: {error}") from None
        self.charset = charset
        # The space goes in too: without it tesseract reads a line as one word, with confidence 0.
        if charset is not None and not self._api.SetVariable("tessedit_char_whitelist", charset + " "):
            raise ValueError("this tesseract has no tessedit_char_whitelist: it cannot be held to a character set")
        self._api.SetVariable("lstm_choice_mode", "2")  # each character's alternatives, for `margin` (~1 ms a read)

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
        return OcrResult(text, float(mean), margin=self._margin() if text else 100.0)

    def _margin(self) -> float:
        """The smallest lead of a character read over the runner-up for its place (in the set, if any)."""
        margin = 100.0
        for symbol in tesserocr.iterate_level(self._api.GetIterator(), tesserocr.RIL.SYMBOL):
            choices = [(choice.GetUTF8Text(), choice.Confidence()) for choice in symbol.GetChoiceIterator()]
            if not choices:
                continue
            best, confidence = choices[0]
            others = [c for char, c in choices[1:] if char != best and (self.charset is None or char in self.charset)]
            margin = min(margin, confidence - max(others, default=0.0))
        return float(max(0.0, margin))


def parse_charset(spec: str) -> str | None:
    """The characters of an OCR_CHARSET value, ranges spelled out; None for ANY_CHARACTER.

    Characters stand for themselves; `A-Z`, `a-z`, `0-9` (or parts of them, such as `A-F`) are
    ranges; a `-` first or last is a hyphen. Spaces between words are always read. Raises
    ValueError saying what is wrong: an empty set, a backwards or mixed range, a space or an
    unprintable character.
    """
    if spec == ANY_CHARACTER:
        return None
    chars: list[str] = []
    index = 0
    while index < len(spec):
        char = spec[index]
        if char.isspace() or not char.isprintable():
            raise ValueError(f"{char!r} cannot be in a character set (spaces between words are always read)")
        if char != "-" and index + 2 < len(spec) and spec[index + 1] == "-":
            last = spec[index + 2]
            if not any(char in group and last in group for group in _RANGE_GROUPS):
                raise ValueError(f"{char}-{last} is not a range: use A-Z, a-z or 0-9, or parts of them")
            if last < char:
                raise ValueError(f"{char}-{last} is backwards: write {last}-{char}")
            chars += [chr(code) for code in range(ord(char), ord(last) + 1)]
            index += 3
            continue
        chars.append(char)
        index += 1
    if not chars:
        raise ValueError(f"the character set is empty (use {ANY_CHARACTER} for any character)")
    return "".join(dict.fromkeys(chars))  # in order, each once


_RANGE_GROUPS = (string.ascii_uppercase, string.ascii_lowercase, string.digits)


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


class CheckedViews:
    """A read of the crop scaled up SCALE times; when less sure than SURE, also of the crop as it is.

    The more confident read is kept, and marked `ambiguous` when the two read different text:
    the Processor does not store an ambiguous read. Tesseract binarises the crop itself, and at the
    camera's 29-pixel capitals it lost the dot of DejaVu Sans Mono's zero and the bar of a `J` the
    same way on every frame (`OJ` as `0J`, `KJR` as `KIR`), so agreeing frames stored them; scaled
    up first, far fewer lines are misread, and most of those left are read otherwise by the other
    view. Over the 2,200 lines of bench/ocr_robustness_bench.py with seed 5003 (not the bench's),
    wrong records stored: 52 with BestOfViews, 10 with this and OCR_CHARSET's default (8 with
    OCR_MIN_CHAR_MARGIN 20 as well); `letters` lines read exactly from the camera's frames 96 -> 99
    of 100; tesseract's median CPU per read of those frames 8.7 -> 14.5 ms. Checking every read
    (`sure` above 100) caught all 5 wrong records left with the bench's own seed, but took the
    median CPU per camera frame read from 20 to 31 ms. Those 5 were sure misreads of the scaled
    view (`PJ` as `P`, 94; `WQ` as `WO`, 96) that the crop as it is read right: so a line's second
    frame is read from that view instead (`reads_before`), and the Processor's two agreeing reads are
    then the two views agreeing, for one read of the cheaper view (0 wrong of 2,077 stored; median
    CPU per camera frame read 21.8 -> 17.5 ms, both measured at once). And a checked read keeps the
    weaker margin of its two views: `WTX` read `WIX` by both, one of them with `I` and `T` level.
    With seed 5003 wrong records went 8 -> 3 of about 2,100: left are misreads both views make
    (`OJ` as `0J`, `KJR` as `KIR`).
    """

    SCALE = 2.0
    SURE = 93.0

    def __init__(self, read: Callable[[np.ndarray], OcrResult], sure: float = SURE) -> None:
        """`sure`: reads at least this confident are not checked (above 100: every read is)."""
        self.read = read
        self.sure = sure

    def __call__(self, image: np.ndarray, reads_before: int = 0) -> OcrResult:
        """The read of a crop; `reads_before`: how many frames of the same line were read before this one.

        A line's first frame: the scaled view, checked below `sure`. Its second frame: the crop as it
        is, the other view, alone: the Processor stores a line once two frames read the same, so
        those two agree only when both views read it so. A third frame: both views, always.
        """
        if reads_before == 1:
            return self.read(image)
        first = self.read(self.scaled(image))
        if first.confidence >= self.sure and reads_before == 0:
            return first
        second = self.read(image)
        kept = first if first.confidence >= second.confidence else second
        # A character one view barely told from its runner-up is doubtful, however sure the other view was.
        return replace(kept, ambiguous=first.text != second.text, margin=min(first.margin, second.margin))

    @classmethod
    def scaled(cls, image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, None, fx=cls.SCALE, fy=cls.SCALE, interpolation=cv2.INTER_CUBIC)


class LineReader:
    """Frame to text, the Processor's way: `preprocess`, then CheckedViews of the crop.

    A frame without a plausible line gives NO_TEXT_FOUND without asking tesseract.
    """

    def __init__(self, read: Callable[[np.ndarray], OcrResult], min_contrast: float = MIN_TEXT_CONTRAST,
                 check_below: float = CheckedViews.SURE) -> None:
        self.read_crop = CheckedViews(read, check_below)
        self.min_contrast = min_contrast

    def __call__(self, image: np.ndarray, reads_before: int = 0) -> OcrResult:
        """`reads_before`: frames of the same line read before this one (see CheckedViews)."""
        crop = preprocess(image, self.min_contrast)
        return NO_TEXT_FOUND if crop is None else self.read_crop(crop, reads_before)
