#!/usr/bin/env python3
"""How the Processor's OCR holds up under other fonts, sizes, blur, tilt and a real camera's light.

Each line is drawn by the camera simulator's renderer (640x480, noise σ 8 redrawn per frame) under
one condition, JPEG-encoded, decoded and read the way the Processor reads it (its recognizer with
its default settings: preprocess, CheckedViews(Tesseract) held to OCR_CHARSET's default). "Read exactly"
counts the first read of each line. "Stored" follows the Processor's own decision: frames of the line
are read until two reads agree (nothing if three differ; the second frame is read from the crop's other
view, a third from both, as the Processor does), and the kept read is stored only when it
reaches the confidence floor and neither agreeing read was ambiguous (its two views read different text,
or a character of it led its runner-up by less than OCR_MIN_CHAR_MARGIN); a line refused for the margin
alone is read on from its next frames, up to the Processor's LINE_READS, and stored once two agree
clearly on what the refused pair read.
Lines come from the `random` source (the camera bench's: codes without I, O, Q) and the `letters`
source (codes of every letter); the bench's seed is one the tests do not use.

    .venv/bin/python bench/ocr_robustness_bench.py [--lines 100] [--seed 8191] [--write bench/ocr_robustness.md]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "apps" / "simple_ocr"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer, Look  # noqa: E402
from simple_ocr.camera.text_source import make_text_source  # noqa: E402
from simple_ocr.common.config import Env  # noqa: E402
from simple_ocr.processor.__main__ import ProcessorConfig, recognizer  # noqa: E402
from simple_ocr.processor.ocr import DEFAULT_CHARSET  # noqa: E402
from simple_ocr.processor.pipeline import LINE_READS, confirm  # noqa: E402

from made_by import publish  # noqa: E402  (bench/, the script's own folder)

DEJAVU = "/usr/share/fonts/truetype/dejavu/"
# Debian fonts-dejavu-core (Sans, Serif and their bold) and fonts-dejavu-extra (the italics).
OTHER_FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif-Italic.ttf")
FONT_SIZE, NOISE, QUALITY = 40, 8.0, 80  # the camera's defaults at 640x480
SOURCES = ("random", "letters")
# (key, what the frames show, goal: share of lines read exactly, or None)
CONDITIONS = (
    ("camera", "the camera simulator's own frames (DejaVu Sans Mono 40 px, JPEG 80)", 0.99),
    ("fonts", "other fonts: DejaVu Sans, Serif, Sans Bold, Serif Italic", 0.97),
    ("sizes", "text at 60% and 150% size", 0.97),
    ("blur", "blur σ 1–1.5 and JPEG quality 30", 0.97),
    ("tilt", "tilted 1–3° either way, slight keystone", 0.97),
    ("tilt3", "tilted exactly 3° either way", 0.97),
    ("contrast", "grey on grey, 35–45 levels apart, background 80–200", 0.90),
    ("light", "light falling to 50% across the frame, any direction", 0.90),
    ("inverted", "light text on a dark scene", 0.90),
    ("tilt6", "tilted 6° either way (beyond the goals)", None),
    ("light30", "light falling to 30% (beyond the goals)", None),
)
NO_TEXT = (
    ("blank", "no text: an empty scene, light falling to 50%"),
    ("shapes", "no text: boxes, circles and strokes in a band as tall as a line"),
)


def line_frames(condition: str, text: str, key: str, count: int) -> list[np.ndarray]:
    """`count` frames of one line under `condition`, as the Processor receives them (decoded JPEGs)."""
    rng = random.Random(key)
    font, size, look, blur, quality, keystone = DEFAULT_FONT, FONT_SIZE, Look(), 0.0, QUALITY, 0.0
    side = rng.choice((-1, 1))
    if condition == "fonts":
        font = DEJAVU + rng.choice(OTHER_FONTS)
    elif condition == "sizes":
        size = round(FONT_SIZE * rng.choice((0.6, 1.5)))
    elif condition == "blur":
        blur, quality = rng.uniform(1.0, 1.5), 30
    elif condition == "tilt":
        look, keystone = Look(tilt_degrees=side * rng.uniform(1, 3)), rng.uniform(0.0, 0.03)
    elif condition in ("tilt3", "tilt6"):
        look = Look(tilt_degrees=side * int(condition[4:]))
    elif condition == "contrast":
        background = rng.randint(80, 200)
        look = Look(background=background, ink=background - rng.randint(35, 45))
    elif condition in ("light", "light30", "blank"):
        look = Look(light_low=0.3 if condition == "light30" else 0.5, light_direction_degrees=rng.uniform(0, 360))
    elif condition == "inverted":
        look = Look(background=rng.randint(20, 60), ink=rng.randint(180, 230))
    renderer = FrameRenderer(640, 480, font, size, NOISE, rng.randrange(2**32), look)
    frames = []
    for _ in range(count):
        image = renderer.render(" " if condition in ("blank", "shapes") else text)
        if condition == "shapes":
            image = shapes(image.copy(), rng)
        if blur:
            image = cv2.GaussianBlur(image, (0, 0), blur)
        if keystone:  # the top edge seen narrower than the bottom one
            h, w = image.shape[:2]
            corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
            seen = np.float32([[keystone * w, 0], [w - keystone * w, 0], [w, h], [0, h]])
            image = cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, seen), (w, h),
                                        borderMode=cv2.BORDER_REFLECT_101)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        frames.append(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
    return frames


def shapes(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """Things that are not text, in a band as tall as a line: boxes, circles, strokes in dark grey."""
    band = rng.randrange(60, 380)
    for _ in range(rng.randint(3, 10)):
        x, y = rng.randrange(40, 600), band + rng.randrange(0, 40)
        ink = (rng.randint(20, 120),) * 3
        kind = rng.choice(("box", "circle", "line"))
        if kind == "box":
            cv2.rectangle(image, (x, y), (x + rng.randint(8, 80), y + rng.randint(8, 40)), ink, rng.choice((2, 4, -1)))
        elif kind == "circle":
            cv2.circle(image, (x, y + 10), rng.randint(5, 20), ink, rng.choice((2, 5, -1)))
        else:
            cv2.line(image, (x, y), (x + rng.randint(-120, 120), y + rng.randint(0, 40)), ink, rng.randint(2, 6))
    return image


def run(job: tuple[str, str, list[int], int]) -> list[dict]:
    """Read lines `indexes` of `source` under `condition` as the Processor does; one row per line."""
    condition, source_name, indexes, seed = job
    config = ProcessorConfig.from_env(Env({}))
    read, floor, min_margin = recognizer(config), config.min_confidence, config.min_char_margin
    source = make_text_source(source_name, "camkor1", "SEOUL", seed)  # the lab camera's `counter` lines
    rows = []
    for index in indexes:
        text = source(index)
        frames = line_frames(condition, text, f"{seed}:{condition}:{source_name}:{index}", LINE_READS)
        reads, pending, kept, walls, cpus, refused, doubtful, refused_text = [], [], None, [], [], 0, False, None
        for frame in frames:
            wall, cpu = time.perf_counter(), time.process_time()
            result = read(frame, len(pending))  # a line's later frames: the crop's other view
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            reads.append(result)
            kept, pending = confirm(pending, result)
            if kept is None and not pending:  # CONFIRM_READS reads, no two alike
                break
            doubtful = kept is not None and bool(kept.text) and (kept.ambiguous or kept.margin < min_margin
                                                                 or refused_text not in (None, kept.text))
            if kept is not None and not doubtful:
                break
            if doubtful:  # read on from the line's next frames, as the Processor does
                refused += 1
                if refused_text is None and kept.ambiguous:  # but not after its views read different text
                    break
                refused_text = refused_text or kept.text
        stored = kept.text if kept is not None and kept.text and kept.confidence >= floor and not doubtful else None
        rows.append({"condition": condition, "source": source_name, "line": text, "first": reads[0].text,
                     "confidence": reads[0].confidence, "stored": stored, "walls": walls, "cpus": cpus,
                     "floored": kept is not None and bool(kept.text) and kept.confidence < floor,
                     "ambiguous": stored is None and refused > 0, "refused": refused, "frames": len(reads)})
    return rows


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "–"


def table(rows: list[dict], args: argparse.Namespace) -> str:
    lab = [r for r in rows if r["source"] == "counter"]
    rows = [r for r in rows if r["source"] != "counter"]
    lines = [
        f"{args.lines} lines per condition and source (seed {args.seed}), 640x480, noise σ {NOISE:g} redrawn per "
        "frame, each frame JPEG-encoded and decoded, read by the Processor's recognizer with its default settings. "
        "Read exactly: the first read of the line. Stored: the Processor's decision (two agreeing reads, the "
        "second frame read from the crop's other view and a third from both; none if three differ), its "
        "confidence floor, and its refusal of ambiguous reads (the crop's two views read different text, or a "
        "character barely beat its runner-up in either; refused for that alone, it reads on, up to "
        f"{LINE_READS} frames of the line, until two agree clearly on what the refused pair read); a stored record "
        "that is not the line shown is a wrong record.",
        "",
        "| condition | goal | `random` lines read exactly | `letters` lines (I, O, Q too) read exactly | "
        "stored right / wrong / nothing | median ms per read (wall / CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for key, what, goal in CONDITIONS:
        mine = [r for r in rows if r["condition"] == key]
        cells = []
        for source in SOURCES:
            of_source = [r for r in mine if r["source"] == source]
            cells.append(share(sum(r["first"] == r["line"] for r in of_source), len(of_source)))
        right = sum(r["stored"] == r["line"] for r in mine)
        wrong = sum(r["stored"] is not None and r["stored"] != r["line"] for r in mine)
        none = sum(r["stored"] is None for r in mine)
        walls = [w for r in mine for w in r["walls"]]
        cpus = [c for r in mine for c in r["cpus"]]
        lines.append(f"| {what} | {'≥ %d%%' % round(goal * 100) if goal else '–'} | {cells[0]} | {cells[1]} | "
                     f"{right} / {wrong} / {none} | {statistics.median(walls) * 1000:.1f} / "
                     f"{statistics.median(cpus) * 1000:.1f} |")
    for key, what in NO_TEXT:
        mine = [r for r in rows if r["condition"] == key]
        stored = sum(r["stored"] is not None for r in mine)
        floored = sum(r["floored"] for r in mine)
        not_found = sum(r["first"] == "" for r in mine)
        walls = [w for r in mine for w in r["walls"]]
        cpus = [c for r in mine for c in r["cpus"]]
        lines.append(f"| {what} | nothing stored | first read empty: {share(not_found, len(mine))} | "
                     f"kept read under the floor: {floored} | 0 / {stored} / {len(mine) - stored} | "
                     f"{statistics.median(walls) * 1000:.1f} / {statistics.median(cpus) * 1000:.1f} |")
    texted = [r for r in rows if r["condition"] not in dict(NO_TEXT)]
    wrong = [r for r in rows if r["stored"] is not None and r["stored"] != r["line"]]
    lines += [
        "",
        f"Records stored that are not a shown line: **{len(wrong)}** of "
        f"{sum(r['stored'] is not None for r in rows)} stored ({len(texted)} lines and "
        f"{len(rows) - len(texted)} frames without text shown). "
        f"Confidence floor: {ProcessorConfig.from_env(Env({})).min_confidence:g}; least lead of a character "
        f"over its runner-up: {ProcessorConfig.from_env(Env({})).min_char_margin:g}; character set: "
        f"`{DEFAULT_CHARSET}` (OCR_CHARSET's default). Lines refused as ambiguous at least once: "
        f"{sum(r['refused'] > 0 for r in texted)} of {len(texted)}, of them stored right "
        f"{sum(r['refused'] > 0 and r['stored'] == r['line'] for r in texted)}, wrong "
        f"{sum(r['refused'] > 0 and r['stored'] not in (None, r['line']) for r in texted)}; not stored because "
        f"no kept read was clear: {sum(r['ambiguous'] for r in texted)}. Frames read per line: "
        f"{statistics.mean(r['frames'] for r in texted):.2f} on average.",
        "",
        f"The lab camera's own lines (`counter`: `{lab[0]['line']}` to `{lab[-1]['line']}`, camera frames): stored "
        f"right {sum(r['stored'] == r['line'] for r in lab)}, wrong "
        f"{sum(r['stored'] not in (None, r['line']) for r in lab)}, nothing {sum(r['stored'] is None for r in lab)} "
        f"of {len(lab)}; refused as ambiguous at least once: {sum(r['refused'] > 0 for r in lab)}, of "
        f"them stored right {sum(r['refused'] > 0 and r['stored'] == r['line'] for r in lab)}.",
        "",
        "Wrong records stored (line shown → text stored): "
        + (", ".join(f"`{r['line']}` → `{r['stored'][:60]}`" for r in wrong) or "none"),
        "",
        "Misread on the first read (condition, line → read): "
        + (", ".join(f"{r['condition']}: `{r['line']}` → `{r['first'][:40]}`" for r in texted if r["first"] != r["line"])
           or "none"),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100, help="lines per condition and source")
    parser.add_argument("--seed", type=int, default=8191, help="text and frame seed (the tests use others)")
    parser.add_argument("--write", type=Path, help="also write the table (markdown) to this file")
    args = parser.parse_args()
    jobs = [(key, source, list(range(half, args.lines, 2)), args.seed)
            for key, _, _ in CONDITIONS for source in SOURCES for half in (0, 1)]
    jobs += [(key, "random", list(range(half, args.lines, 2)), args.seed) for key, _ in NO_TEXT for half in (0, 1)]
    jobs += [("camera", "counter", list(range(half, args.lines, 2)), args.seed) for half in (0, 1)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = [row for part in pool.map(run, jobs) for row in part]
    publish(table(rows, args), "## OCR robustness (simple_ocr Processor)", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
