"""Change detection on frames as the camera draws them (noise, JPEG) and the Processor decodes them."""

import cv2
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer
from simple_ocr.camera.text_source import random_source
from simple_ocr.processor.change import ChangeDetector


def through_jpeg(frame):
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def renderer(noise: float, seed: int = 1) -> FrameRenderer:
    return FrameRenderer(640, 480, DEFAULT_FONT, 40, noise, seed)


def test_first_frame_is_new_and_a_noisy_repeat_is_not():
    draw = renderer(noise=12)
    detector = ChangeDetector()
    assert detector.is_new(through_jpeg(draw.render("CAM1 0042 POVO")))
    repeats = [detector.is_new(through_jpeg(draw.render("CAM1 0042 POVO"))) for _ in range(30)]
    assert not any(repeats)


def test_one_changed_digit_is_new():
    draw = renderer(noise=8)
    detector = ChangeDetector()
    detector.is_new(through_jpeg(draw.render("CAMKOR1 0042 SEOUL")))
    assert detector.is_new(through_jpeg(draw.render("CAMKOR1 0043 SEOUL")))
    assert not detector.is_new(through_jpeg(draw.render("CAMKOR1 0043 SEOUL")))


def quarter_of_jpeg(frame):
    """What the Processor compares when it reads MJPEG raw: the JPEG decoded at 1/4 size, grey."""
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_REDUCED_GRAYSCALE_4)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10_000), st.integers(0, 2**16))
def test_any_two_different_lines_are_told_apart(index, step, seed):
    """Both from decoded frames and from JPEGs decoded at a quarter, a repeat is not new."""
    source = random_source(seed)
    before, after = source(index), source(index + step)
    draw = renderer(noise=8, seed=seed)
    decoded, raw = ChangeDetector(), ChangeDetector()
    for text, new in ((before, True), (before, False), (after, before != after)):
        frame = draw.render(text)
        assert decoded.is_new(through_jpeg(frame)) == new
        assert raw.is_new_shrunk(quarter_of_jpeg(frame)) == new
