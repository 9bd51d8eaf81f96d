"""Frames as the stream reader hands them over: raw JPEGs decoded only as far as they are used."""

import threading

import cv2
import numpy as np
import pytest
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer
from simple_ocr.common.logs import get_logger
from simple_ocr.processor.change import ChangeDetector, shrink
from simple_ocr.processor.ocr import OcrResult
from simple_ocr.processor.pipeline import OcrPipeline
from simple_ocr.processor.stats import ProcessorStats
from simple_ocr.processor.stream import Frame, LatestFrame


def jpeg_of(text, noise=8.0):
    image = FrameRenderer(640, 480, DEFAULT_FONT, 40, noise, seed=3).render(text)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return data.reshape(1, -1)  # the shape OpenCV's raw mode hands over


def test_a_raw_jpeg_shrinks_without_a_full_decode_and_decodes_in_full_when_read():
    frame = Frame(1, 0.0, jpeg=jpeg_of("CAMKOR1 0042 SEOUL"))
    assert frame.shrunk_gray(4).shape == (120, 160)
    assert "image" not in frame.__dict__  # the full image was not decoded for that
    assert frame.image.shape == (480, 640, 3)


def test_the_jpeg_shrink_tells_lines_apart_as_the_decoded_one_does():
    detector = ChangeDetector()
    same = [Frame(n, 0.0, jpeg=jpeg_of("CAMKOR1 0042 SEOUL")) for n in range(10)]
    assert detector.is_new_shrunk(same[0].shrunk_gray(4))
    assert not any(detector.is_new_shrunk(f.shrunk_gray(4)) for f in same[1:])
    assert detector.is_new_shrunk(Frame(11, 0.0, jpeg=jpeg_of("CAMKOR1 0043 SEOUL")).shrunk_gray(4))


def test_a_decoded_frame_shrinks_by_area_averaging():
    image = cv2.imdecode(jpeg_of("POVO 1"), cv2.IMREAD_COLOR)
    assert np.array_equal(Frame(1, 0.0, image=image).shrunk_gray(4), shrink(image, 4))


def test_a_corrupt_jpeg_is_a_value_error_that_names_the_frame():
    frame = Frame(7, 0.0, jpeg=np.frombuffer(b"\xff\xd8 not really a jpeg", np.uint8).reshape(1, -1))
    with pytest.raises(ValueError, match="frame 7 is not a JPEG OpenCV can decode"):
        frame.shrunk_gray(4)


def test_the_pipeline_skips_corrupt_frames_and_reads_the_next_good_one():
    frames, stats, stop, stored = LatestFrame(), ProcessorStats(), threading.Event(), []
    pipeline = OcrPipeline("cam1", frames, ChangeDetector(), lambda image: OcrResult("POVO 1", 95.0),
                           stored.append, stats, get_logger("processor"), stop)

    def handled():
        counts = stats.snapshot()
        return counts["frames_corrupt"] + counts["ocr_calls"] + counts["frames_unchanged"]

    pipeline.thread.start()
    try:
        garbage = np.frombuffer(b"garbage", np.uint8).reshape(1, -1)
        good = jpeg_of("POVO 1", noise=0)
        for number, jpeg in enumerate([garbage, good, good], start=1):  # two reads confirm a text
            frames.put(float(number), jpeg=jpeg)
            for _ in range(500):  # one at a time, so none is replaced before it is handled
                if handled() == number:
                    break
                stop.wait(0.01)
    finally:
        stop.set()
        pipeline.thread.join(5)
    assert stats.snapshot()["frames_corrupt"] == 1
    assert [record.text for record in stored] == ["POVO 1"]
