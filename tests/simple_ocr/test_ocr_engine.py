"""The Processor's tesseract engine: what it reads, which view it keeps, and how it refuses bad settings."""

import numpy as np
import pytest
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer
from simple_ocr.processor.ocr import BestOfViews, OcrResult, Tesseract, find_tessdata, preprocess


@pytest.fixture(scope="module")
def engine():
    return Tesseract()


def test_a_drawn_line_is_read_with_its_confidence(engine):
    frame = FrameRenderer(640, 480, DEFAULT_FONT, 40, noise=0, seed=1).render("CAMKOR1 0042 SEOUL")
    result = engine(preprocess(frame))
    assert result.text == "CAMKOR1 0042 SEOUL"
    assert 50 < result.confidence <= 100


def test_a_colour_frame_is_read_as_it_comes_from_opencv(engine):
    frame = FrameRenderer(640, 480, DEFAULT_FONT, 40, noise=0, seed=1).render("SEOUL KETI 7")
    assert frame.ndim == 3
    assert engine(frame).text == "SEOUL KETI 7"


def test_an_empty_scene_reads_as_no_text_with_zero_confidence(engine):
    assert engine(np.full((120, 400), 200, np.uint8)) == OcrResult("", 0.0)


def test_the_more_confident_view_is_kept_and_both_are_read():
    seen = []

    def fake_read(image):
        seen.append(image.shape)
        return OcrResult("WIR", 80.0) if len(seen) == 1 else OcrResult("WJR", 91.0)

    image = np.zeros((64, 400), np.uint8)
    assert BestOfViews(fake_read)(image) == OcrResult("WJR", 91.0)
    assert seen == [(64, 400), (64, round(400 * BestOfViews.SQUEEZE))]


def test_a_sure_first_read_is_not_read_again():
    seen = []

    def fake_read(image):
        seen.append(image.shape)
        return OcrResult("WJR", BestOfViews.SURE)

    assert BestOfViews(fake_read)(np.zeros((64, 400), np.uint8)) == OcrResult("WJR", BestOfViews.SURE)
    assert seen == [(64, 400)]


def test_the_unsqueezed_read_wins_a_tie():
    reads = iter([OcrResult("AS IS", 80.0), OcrResult("SQUEEZED", 80.0)])
    assert BestOfViews(lambda image: next(reads))(np.zeros((10, 10), np.uint8)).text == "AS IS"


def test_a_missing_language_says_what_to_install(tmp_path):
    with pytest.raises(ValueError, match=r"no xyz\.traineddata in .*install tesseract-ocr-xyz or set OCR_TESSDATA_DIR"):
        Tesseract("xyz")
    with pytest.raises(ValueError, match=f"no eng.traineddata in {tmp_path}"):
        find_tessdata("eng", str(tmp_path))


def test_a_page_segmentation_mode_tesseract_lacks_is_refused():
    with pytest.raises(ValueError, match="no page segmentation mode 14: use 0-13"):
        Tesseract("eng", psm=14)


def test_the_processor_stops_at_start_when_tesseract_cannot_load(tmp_path, start_service):
    processor = start_service("processor", OCR_TESSERACT_LANG="xyz", OCR_HEALTH_PORT="0",
                              OCR_BUFFER_PATH=str(tmp_path / "buffer.sqlite3"))
    assert processor.process.wait(30) == 2
    reason = processor.events("bad_configuration")[0]["reason"]
    assert reason.startswith("OCR_TESSERACT_LANG='xyz', OCR_TESSERACT_PSM=6: no xyz.traineddata in ")
