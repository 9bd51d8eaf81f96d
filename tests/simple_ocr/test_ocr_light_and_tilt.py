"""The Processor's text finding under a real camera's light: uneven light, low contrast, inverted, tilted.

Frames are drawn by the camera's renderer with a Look, JPEG-encoded at the camera's quality and
decoded, as they travel in the app. Seeds here are not the robustness bench's (8191).
"""

import cv2
import numpy as np
import pytest
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer, Look
from simple_ocr.camera.text_source import letters_source
from simple_ocr.processor.ocr import (
    INK_TARGET, MAX_DESKEW_DEGREES, NO_TEXT_FOUND, PAPER, LineReader, OcrResult, Tesseract, preprocess,
)

SEED = 404


@pytest.fixture(scope="module")
def reader():
    return LineReader(Tesseract())


def frame(text, look=Look(), noise=8.0, seed=SEED):
    image = FrameRenderer(640, 480, DEFAULT_FONT, 40, noise, seed, look).render(text)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def ink_rows(crop):
    """Rows of the crop holding ink (darker than halfway between paper and ink)."""
    return np.nonzero((crop < (PAPER + INK_TARGET) / 2).any(axis=1))[0]


@pytest.mark.parametrize("direction", [0, 90, 180, 225])
def test_light_falling_to_half_is_evened_out_before_the_crop(direction):
    look = Look(light_low=0.5, light_direction_degrees=direction)
    image = frame("CAMKOR1 0042 SEOUL", look)
    gray = image[:, :, 0].astype(float)
    assert abs(np.median(gray[:, :100]) - np.median(gray[:, -100:])) > 30 or direction == 90  # really uneven
    crop = preprocess(image)
    # The crop is the line (not the frame a global threshold of that light gives), evenly lit.
    assert crop.shape[0] < 100 and crop.shape[1] < 600
    left, right = crop[:, :40], crop[:, -40:]
    assert abs(np.median(left) - np.median(right)) < 10
    assert abs(np.median(crop) - PAPER) < 15


@pytest.mark.parametrize("look", [
    Look(light_low=0.5, light_direction_degrees=30),
    Look(light_low=0.3, light_direction_degrees=160),
    Look(background=120, ink=85),  # grey on grey, 35 levels
    Look(background=200, ink=165, light_low=0.7),
    Look(background=40, ink=210),  # light text on a dark scene
], ids=["light-50%", "light-30%", "contrast-35", "contrast-35-and-light-70%", "inverted"])
def test_lines_under_uneven_light_and_low_contrast_are_read_exactly(reader, look):
    source = letters_source(SEED)
    lines = [source(i) for i in range(12)]
    misread = [(line, read.text) for line in lines if (read := reader(frame(line, look))).text != line]
    assert len(misread) <= 1, misread  # tesseract's own O/0, J/I confusions remain possible on one


@pytest.mark.parametrize("degrees", [-6, -3, 3, 6])
def test_a_tilted_line_is_straightened_before_reading(reader, degrees):
    level = preprocess(frame("RV 2494 BUSAN"))
    tilted = preprocess(frame("RV 2494 BUSAN", Look(tilt_degrees=degrees)))
    # Turned back: the ink spans as few rows as the level line's (a 6° slant adds ~60 rows).
    assert len(ink_rows(tilted)) <= len(ink_rows(level)) + 4
    source = letters_source(SEED + degrees)
    lines = [source(i) for i in range(10)]
    misread = [(line, read.text) for line in lines
               if (read := reader(frame(line, Look(tilt_degrees=degrees)))).text != line]
    assert len(misread) <= 1, misread


def test_a_slant_past_the_deskew_limit_is_not_turned_and_then_is_no_line():
    assert preprocess(frame("POVO 1234 ROMA", Look(tilt_degrees=MAX_DESKEW_DEGREES - 2))) is not None
    # Not turned, the 576-pixel line spans more than a third of the frame's height: a scene, not a line.
    assert preprocess(frame("POVO 1234 ROMA", Look(tilt_degrees=MAX_DESKEW_DEGREES + 5))) is None


@pytest.mark.parametrize("scene", [
    np.full((480, 640, 3), 200, np.uint8),
    frame(" ", Look(light_low=0.4, light_direction_degrees=45)),  # empty scene, uneven light, noise
    frame("CAM1 0001 POVO", Look(background=120, ink=110)),  # text 10 levels off: under the contrast floor
], ids=["flat", "light-gradient-and-noise", "contrast-10"])
def test_a_frame_without_a_plausible_line_is_not_handed_to_tesseract(scene):
    assert preprocess(scene) is None

    def must_not_read(image):
        raise AssertionError("tesseract was asked to read a frame without a line")

    assert LineReader(must_not_read)(scene) == NO_TEXT_FOUND
    assert not NO_TEXT_FOUND.text_found


def test_the_contrast_floor_is_a_setting():
    faint = frame("CAM1 0001 POVO", Look(background=120, ink=90), noise=2)
    assert preprocess(faint) is not None  # 30 levels (about 24 once smoothed): over the default 16
    assert preprocess(faint, min_contrast=40) is None
    assert LineReader(lambda image: OcrResult("X", 99.0), min_contrast=40)(faint) == NO_TEXT_FOUND


def test_ink_taller_than_a_third_of_the_frame_is_a_scene_not_a_line():
    scene = np.full((480, 640, 3), 200, np.uint8)
    cv2.rectangle(scene, (150, 60), (450, 400), (30, 30, 30), 4)  # a door, a window frame
    assert preprocess(scene) is None


def test_the_crop_is_the_text_block_not_everything_dark_in_the_frame():
    scene = frame("CAM1 0042 POVO", noise=4)
    alone = preprocess(scene)
    for corner in ((10, 10), (560, 400), (20, 420)):  # things in the scene far from the text
        cv2.rectangle(scene, corner, (corner[0] + 50, corner[1] + 40), (40, 40, 40), -1)
    assert preprocess(scene).shape == alone.shape
