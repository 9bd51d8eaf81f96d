"""No garbage stored: frames without a line, reads that never agree and unsure reads leave no record."""

import threading

import cv2
import numpy as np
import pytest
from ocr_testkit import camera_url, get_json, health_url, processor_env, wait_until
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer, Look
from simple_ocr.camera.text_source import letters_source
from simple_ocr.common.config import ConfigError, Env
from simple_ocr.common.logs import get_logger
from simple_ocr.processor.__main__ import MIN_CONFIDENCE, ProcessorConfig
from simple_ocr.processor.change import ChangeDetector
from simple_ocr.processor.ocr import LineReader, OcrResult, Tesseract
from simple_ocr.processor.pipeline import OcrPipeline
from simple_ocr.processor.stats import ProcessorStats
from simple_ocr.processor.stream import LatestFrame


def run_pipeline(images, recognize, min_confidence=MIN_CONFIDENCE, detector=True, min_margin=0.0, reread=None):
    """Feeds `images` one at a time through a real OcrPipeline; returns (records stored, stats)."""
    frames, stats, stop, stored = LatestFrame(), ProcessorStats(), threading.Event(), []
    pipeline = OcrPipeline("cam1", frames, ChangeDetector() if detector else None, recognize, stored.append,
                           stats, get_logger("processor"), stop, min_confidence, min_margin, reread)

    def handled():
        counts = stats.snapshot()
        return counts["ocr_calls"] + counts["frames_unchanged"]

    pipeline.thread.start()
    try:
        for number, image in enumerate(images, start=1):
            frames.put(float(number), image=image)
            for _ in range(3000):  # one at a time, so none is replaced before it is handled
                if handled() == number:
                    break
                stop.wait(0.01)
    finally:
        stop.set()
        pipeline.thread.join(10)
    return stored, stats.snapshot()


def shapes_scene(seed):
    """Boxes, circles and strokes in a band as tall as a line, with the camera's noise: not text."""
    rng = np.random.default_rng(seed)
    image = FrameRenderer(640, 480, DEFAULT_FONT, 40, 8.0, seed).render(" ").copy()
    for _ in range(8):
        x, y = int(rng.integers(40, 560)), int(rng.integers(200, 240))
        cv2.rectangle(image, (x, y), (x + int(rng.integers(8, 60)), y + int(rng.integers(8, 30))), (40, 40, 40), 3)
        cv2.circle(image, (int(rng.integers(40, 600)), 220), int(rng.integers(5, 18)), (60, 60, 60), 2)
    return image


def noisy_copies(image, count, seed):
    """The same scene as `count` frames, each with its own sensor noise (as a camera sends it)."""
    rng = np.random.default_rng(seed)
    return [np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8) for _ in range(count)]


@pytest.fixture(scope="module")
def reader():
    return LineReader(Tesseract())


def test_a_garbage_scene_stores_nothing_and_says_why(reader):
    images = [frame for seed in (11, 12, 13) for frame in noisy_copies(shapes_scene(seed), 4, seed)]
    stored, stats = run_pipeline(images, reader)
    assert stored == []
    assert stats["ocr_calls"] >= 2 * 3  # each scene was read until the Processor decided on it
    assert stats["texts_unconfirmed"] + stats["texts_below_floor"] >= 1  # and the refusals are counted
    assert stats["texts_read"] == 0


def test_an_empty_scene_under_uneven_light_asks_tesseract_nothing():
    def must_not_read(image):
        raise AssertionError("tesseract was asked to read a frame without a line")

    empty = FrameRenderer(640, 480, DEFAULT_FONT, 40, 8.0, 5, Look(light_low=0.5)).render(" ")
    stored, stats = run_pipeline(noisy_copies(empty, 3, 5), LineReader(must_not_read))
    assert stored == []
    assert stats["frames_without_text"] == 2  # the change, and the read that confirms there is nothing
    assert stats["frames_unchanged"] == 1


def test_the_same_scene_next_to_real_lines_stores_only_the_lines(reader):
    source = letters_source(31)
    lines = [source(i) for i in range(3)]
    images = []
    for index, line in enumerate(lines):
        drawn = FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, index, Look(light_low=0.5, tilt_degrees=2)).render(line)
        images += noisy_copies(drawn, 3, index) + noisy_copies(shapes_scene(40 + index), 4, index)
    stored, _ = run_pipeline(images, reader)
    assert [record.text for record in stored] == lines


def test_agreeing_reads_under_the_floor_are_not_stored_and_are_counted():
    image = np.full((480, 640, 3), 200, np.uint8)
    frames = [image, image.copy()]
    frames[1][0, 0] = 0  # a second frame the detector sees as the same scene
    stored, stats = run_pipeline(frames, lambda image: OcrResult("ee Pia", 74.9), min_confidence=75.0)
    assert stored == [] and stats["texts_below_floor"] == 1 and stats["texts_read"] == 0
    stored, stats = run_pipeline(frames, lambda image: OcrResult("SEOUL 1", 75.0), min_confidence=75.0)
    assert [record.text for record in stored] == ["SEOUL 1"] and stats["texts_below_floor"] == 0


def test_without_change_detection_every_unsure_read_is_dropped():
    reads = iter([OcrResult("aS a Pia", 31.0), OcrResult("CAM1 0001 POVO", 91.0), OcrResult("eee", 12.0)])
    images = [np.full((48, 64, 3), value, np.uint8) for value in (10, 120, 240)]
    stored, stats = run_pipeline(images, lambda image: next(reads), detector=False)
    assert [record.text for record in stored] == ["CAM1 0001 POVO"]
    assert stats["texts_below_floor"] == 2


def test_the_floor_and_the_contrast_are_settings_with_plain_errors():
    config = ProcessorConfig.from_env(Env({}))
    assert (config.min_confidence, config.min_text_contrast) == (MIN_CONFIDENCE, 16)
    config = ProcessorConfig.from_env(Env({"OCR_MIN_CONFIDENCE": "0", "OCR_MIN_TEXT_CONTRAST": "40"}))
    assert (config.min_confidence, config.min_text_contrast) == (0.0, 40.0)
    with pytest.raises(ConfigError, match=r"OCR_MIN_CONFIDENCE='sure' is not a number"):
        ProcessorConfig.from_env(Env({"OCR_MIN_CONFIDENCE": "sure"}))
    with pytest.raises(ConfigError, match=r"OCR_MIN_TEXT_CONTRAST=0.0 is below the minimum 1.0"):
        ProcessorConfig.from_env(Env({"OCR_MIN_TEXT_CONTRAST": "0"}))


def test_a_camera_with_tilt_and_failing_light_feeds_the_processor_only_shown_lines(
    tmp_path, redis_server, repository, start_service, camera_env
):
    camera_env.update(CAMERA_TEXT_SOURCE="letters", CAMERA_SEED="61", CAMERA_TILT_DEGREES="-3",
                      CAMERA_LIGHT_LOW="0.5", CAMERA_LIGHT_DIRECTION_DEGREES="20", CAMERA_INK="60")
    camera = start_service("camera", **camera_env)
    env = processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url)
    start_service("processor", **env)
    wait_until(lambda: len(repository.query(camera="cam1")) >= 4, 60, "four lines stored")
    shown = {event["text"] for event in camera.events("text_shown")}
    stored = [record.text for record in repository.query(camera="cam1")]
    assert set(stored) <= shown, set(stored) - shown
    health = get_json(health_url(env))[1]
    assert health["texts_read"] >= 4 and "texts_below_floor" in health and "frames_without_text" in health
