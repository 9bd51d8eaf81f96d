#!/usr/bin/env python3
"""How many camera lines the Processor's OCR reads exactly: the crop alone, against its second view.

Each line is drawn the way the camera draws it (640x480, default font and noise), JPEG-encoded at
the camera's quality, decoded and cropped, then read by simple_ocr.processor.ocr.BestOfViews: the
crop, and when that read is less sure than SURE also the crop squeezed to SQUEEZE of its width.
The table counts exact reads of the crop alone, of BestOfViews, and of always reading both views.

    .venv/bin/python bench/ocr_views_bench.py [--seeds 2026 11 99 4242] [--lines 500] [--write bench/ocr_views.md]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "apps" / "simple_ocr"))

import cv2  # noqa: E402
from simple_ocr.camera.__main__ import CameraConfig, build_scene  # noqa: E402
from simple_ocr.common.config import Env  # noqa: E402
from simple_ocr.processor.ocr import BestOfViews, Tesseract, preprocess  # noqa: E402

from made_by import publish  # noqa: E402  (bench/, the script's own folder)


def read_lines(job: tuple[str, list[int]]) -> list[dict]:
    """For each line of the seed's `random` source: the line, and the reads each policy keeps."""
    seed, indexes = job
    camera = CameraConfig.from_env(Env({"CAMERA_TEXT_SOURCE": "random", "CAMERA_SEED": seed}))
    scene, engine = build_scene(camera), Tesseract()
    rows = []
    for index in indexes:
        line = scene.source(index)
        ok, jpeg = cv2.imencode(".jpg", scene.renderer.render(line), [cv2.IMWRITE_JPEG_QUALITY, camera.jpeg_quality])
        assert ok
        crop = preprocess(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
        reads = []
        kept = BestOfViews(lambda image: reads.append(engine(image)) or reads[-1])(crop)
        squeezed = reads[1] if len(reads) > 1 else engine(BestOfViews.squeezed(crop))
        rows.append({"line": line, "alone": reads[0].text, "kept": kept.text, "second_view": len(reads) > 1,
                     "both": max(reads[0], squeezed, key=lambda r: r.confidence).text})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", default=["2026", "11", "99", "4242"], help="camera seeds")
    parser.add_argument("--lines", type=int, default=500, help="lines per seed")
    parser.add_argument("--write", type=Path, help="also write the table (markdown) to this file")
    args = parser.parse_args()
    jobs = [(seed, list(range(half, args.lines, 2))) for seed in args.seeds for half in (0, 1)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = [row for part in pool.map(read_lines, jobs) for row in part]

    def exact(policy: str) -> str:
        return f"{sum(r[policy] == r['line'] for r in rows):,} ({sum(r[policy] == r['line'] for r in rows) / len(rows):.2%})"

    missed = [f"`{r['line']}` → `{r['kept']}`" for r in rows if r["kept"] != r["line"]]
    lines = [
        f"{len(rows):,} lines of the camera's `random` source (seeds {', '.join(args.seeds)}; {args.lines} each), "
        "640x480, default font, noise σ=8, JPEG at the camera's quality; one read per line.",
        "",
        "| read | lines read exactly |",
        "|---|---|",
        f"| the crop alone | {exact('alone')} |",
        f"| BestOfViews: squeezed to {BestOfViews.SQUEEZE:g} when less than {BestOfViews.SURE:g} sure "
        f"(on {sum(r['second_view'] for r in rows) / len(rows):.0%} of reads) | {exact('kept')} |",
        f"| both views always, the more confident kept | {exact('both')} |",
        "",
        "Misread by BestOfViews: " + (", ".join(missed) or "none"),
    ]
    publish("\n".join(lines), "## OCR views (simple_ocr Processor)", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
