"""Accuracy of the Processor's default OCR on 200 frames of the camera's default look.

The frames go the way they travel in the app: drawn by the camera (640x480, default font and
noise), JPEG-encoded at the camera's quality, decoded, preprocessed and read by tesseract.
Lines come from the camera's `random` source, which varies letters, digits and places.
"""

from concurrent.futures import ProcessPoolExecutor

import cv2
from simple_ocr.camera.__main__ import CameraConfig, build_scene
from simple_ocr.common.config import Env
from simple_ocr.processor.__main__ import ProcessorConfig, recognizer

FRAMES = 200
CAMERA = CameraConfig.from_env(Env({"CAMERA_TEXT_SOURCE": "random", "CAMERA_SEED": "2026"}))


def read_frames(indexes: list[int]) -> list[tuple[str, str]]:
    scene = build_scene(CAMERA)
    read = recognizer(ProcessorConfig.from_env(Env({})))
    pairs = []
    for index in indexes:
        line = scene.source(index)
        ok, jpeg = cv2.imencode(".jpg", scene.renderer.render(line),
                                [cv2.IMWRITE_JPEG_QUALITY, CAMERA.jpeg_quality])
        assert ok
        pairs.append((line, read(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)).text))
    return pairs


def test_at_least_95_percent_of_lines_are_read_exactly():
    assert (CAMERA.width, CAMERA.height) == (640, 480)
    halves = [list(range(0, FRAMES, 2)), list(range(1, FRAMES, 2))]
    with ProcessPoolExecutor(max_workers=2) as pool:
        pairs = [pair for part in pool.map(read_frames, halves) for pair in part]
    assert len(pairs) == FRAMES
    wrong = [(drawn, read) for drawn, read in pairs if drawn != read]
    exact = 1 - len(wrong) / FRAMES
    assert exact >= 0.95, f"{exact:.1%} read exactly; misread: {wrong}"
