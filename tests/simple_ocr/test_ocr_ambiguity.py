"""No garbage stored, part two: reads whose views disagree are not stored, and tesseract keeps to OCR_CHARSET."""

import itertools
import re

import numpy as np
import pytest
from ocr_testkit import APP_DIR  # noqa: F401  (puts simple_ocr on the path)
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer
from simple_ocr.common.config import ConfigError, Env
from simple_ocr.processor.__main__ import MIN_CHAR_MARGIN, ProcessorConfig, recognizer, rereader
from simple_ocr.processor.ocr import (
    DEFAULT_CHARSET, CheckedViews, LineReader, OcrResult, Tesseract, parse_charset, preprocess,
)
from simple_ocr.processor.pipeline import LINE_READS, confirm
from test_ocr_floor import noisy_copies, run_pipeline


def fake_reads(*results):
    """A read function returning `results` in turn; it records the shapes it was handed."""
    seen, pending = [], list(results)

    def read(image):
        seen.append(image.shape)
        return pending.pop(0)

    return read, seen


def test_a_sure_read_of_the_scaled_crop_is_the_only_read():
    read, seen = fake_reads(OcrResult("OJ 5901 KOPER", CheckedViews.SURE))
    assert CheckedViews(read)(np.zeros((60, 300), np.uint8)) == OcrResult("OJ 5901 KOPER", CheckedViews.SURE)
    assert seen == [(120, 600)]  # scaled up CheckedViews.SCALE = 2 times


def test_views_that_read_different_text_make_the_read_ambiguous():
    read, seen = fake_reads(OcrResult("0J 5901 KOPER", 88.0), OcrResult("OJ 5901 KOPER", 80.0))
    result = CheckedViews(read)(np.zeros((60, 300), np.uint8))
    assert result == OcrResult("0J 5901 KOPER", 88.0, ambiguous=True)  # the more confident, flagged
    assert seen == [(120, 600), (60, 300)]  # scaled, then as it is
    read, _ = fake_reads(OcrResult("OJ 5901 KOPER", 80.0), OcrResult("OJ 5901 KOPER", 90.0))
    assert CheckedViews(read)(np.zeros((60, 300), np.uint8)) == OcrResult("OJ 5901 KOPER", 90.0)


def test_an_ambiguous_read_taints_the_read_that_agrees_with_it():
    kept, pending = confirm([OcrResult("WIX 9498", 86.0, ambiguous=True)], OcrResult("WIX 9498", 90.0))
    assert kept == OcrResult("WIX 9498", 90.0, ambiguous=True) and pending == []
    kept, _ = confirm([OcrResult("WTX 9498", 86.0)], OcrResult("WTX 9498", 90.0))
    assert not kept.ambiguous
    kept, _ = confirm([OcrResult("WTX 9498", 86.0, margin=12.0)], OcrResult("WTX 9498", 90.0, margin=70.0))
    assert kept.margin == 12.0  # the less certain of the two stands


def same_scene(count):
    """`count` frames the change detector sees as one scene (each differs from the first in one pixel)."""
    image = np.full((480, 640, 3), 200, np.uint8)
    frames = [image] + [image.copy() for _ in range(count - 1)]
    for number, frame in enumerate(frames[1:]):
        frame[0, number] = 0
    return frames


def test_agreeing_but_ambiguous_reads_are_not_stored_and_are_counted():
    reads = itertools.cycle([OcrResult("0J 5901 KOPER", 92.0, ambiguous=True), OcrResult("0J 5901 KOPER", 92.0)])
    stored, stats = run_pipeline(same_scene(3), lambda image: next(reads))
    assert stored == []
    assert stats["texts_ambiguous"] == 1 and stats["texts_read"] == 0 and stats["texts_below_floor"] == 0


def test_a_line_refused_as_ambiguous_is_read_on_and_stored_once_two_later_frames_agree_clearly():
    reads = iter([OcrResult("CAMKOR1 0042 SEOUL", 91.0, margin=11.0), OcrResult("CAMKOR1 0042 SEOUL", 90.0),
                  OcrResult("CAMKOR1 0042 SEOUL", 92.0, margin=40.0), OcrResult("CAMKOR1 0042 SEOUL", 89.0)])
    stored, stats = run_pipeline(same_scene(6), lambda image: next(reads), min_margin=MIN_CHAR_MARGIN)
    assert [record.text for record in stored] == ["CAMKOR1 0042 SEOUL"]
    assert stats["texts_ambiguous"] == 1 and stats["texts_read"] == 1
    assert stats["ocr_calls"] == 4 and stats["frames_unchanged"] == 2  # once stored, the line is not read again


def test_a_line_that_stays_ambiguous_is_read_at_most_line_reads_frames_and_not_stored():
    doubtful = OcrResult("CAMKOR1 0015 SEOUL", 92.0, margin=18.7)
    stored, stats = run_pipeline(same_scene(LINE_READS + 4), lambda image: doubtful, min_margin=MIN_CHAR_MARGIN)
    assert stored == [] and stats["texts_read"] == 0
    assert stats["ocr_calls"] == LINE_READS and stats["frames_unchanged"] == 4
    assert stats["texts_ambiguous"] == LINE_READS // 2  # every pair of its frames agreed, and was refused


@pytest.fixture(scope="module")
def default_engine():
    return Tesseract(charset=parse_charset(DEFAULT_CHARSET))


def test_a_line_tesseract_cannot_read_right_is_not_stored_as_something_else(default_engine):
    # `}` is outside the default character set: its views read it as different letters.
    drawn = FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 3).render("ODV 2072 KRAN}")
    stored, stats = run_pipeline(noisy_copies(drawn, 3, 3), LineReader(default_engine))
    assert stored == []
    assert stats["texts_ambiguous"] + stats["texts_unconfirmed"] + stats["texts_below_floor"] == 1


def test_tesseract_reads_only_the_characters_of_its_set(default_engine):
    crop = preprocess(FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 1).render("SZ $15 {KRANJ}"))
    anything = Tesseract()(crop).text
    assert {"$", "{", "}"} & set(anything)  # without a set tesseract reads those marks
    held = default_engine(crop).text
    assert held and set(held) <= set(parse_charset(DEFAULT_CHARSET) + " ")
    digits = Tesseract(charset=parse_charset("0-9"))(crop).text
    assert digits and set(digits) <= set("0123456789 ")


def test_the_character_set_is_spelled_out_from_ranges_and_marks():
    assert parse_charset("A-Z") == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert parse_charset("0-3x-z-") == "0123xyz-"
    assert parse_charset("-A-C.") == "-ABC."
    assert parse_charset("AAB") == "AB"
    assert parse_charset("*") is None
    default = parse_charset(DEFAULT_CHARSET)
    assert set("OIQ0J1Sxz.,:/'&#-") <= set(default) and not set("$}){(]|") & set(default)


def test_the_character_set_is_a_setting_and_bad_values_name_it():
    assert ProcessorConfig.from_env(Env({})).charset == parse_charset(DEFAULT_CHARSET)
    assert ProcessorConfig.from_env(Env({"OCR_CHARSET": "*"})).charset is None
    assert ProcessorConfig.from_env(Env({"OCR_CHARSET": "A-Z0-9"})).charset == parse_charset("A-Z0-9")
    for value, reason in (("Z-A", "Z-A is backwards: write A-Z"), ("A-z", "A-z is not a range"),
                          ("0-Z", "0-Z is not a range"), ("A Z", "' ' cannot be in a character set"),
                          ("AB\x07", "'\\x07' cannot be in a character set")):
        with pytest.raises(ConfigError, match="^" + re.escape(f"OCR_CHARSET={value!r}: {reason}")):
            ProcessorConfig.from_env(Env({"OCR_CHARSET": value}))
    with pytest.raises(ValueError, match="the character set is empty"):
        parse_charset("")


def test_the_processor_reads_with_its_character_set():
    crop_frame = FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 1).render("SZ 3902 ROVERETO")
    only_digits = recognizer(ProcessorConfig.from_env(Env({"OCR_CHARSET": "0-9"})))(crop_frame).text
    assert set(only_digits) <= set("0123456789 ") and "3902" in only_digits


def test_the_processor_stops_at_start_on_a_bad_character_set(tmp_path, start_service):
    processor = start_service("processor", OCR_CHARSET="z-a", OCR_HEALTH_PORT="0",
                              OCR_BUFFER_PATH=str(tmp_path / "buffer.sqlite3"))
    assert processor.process.wait(30) == 2
    assert processor.events("bad_configuration")[0]["reason"] == "OCR_CHARSET='z-a': z-a is backwards: write a-z"


def test_a_read_whose_weakest_character_barely_won_is_not_stored():
    image = np.full((480, 640, 3), 200, np.uint8)
    frames = [image, image.copy()]
    frames[1][0, 0] = 0  # a second frame the detector sees as the same scene

    def pipeline_with(first_margin, second_margin):
        reads = iter([OcrResult("TQ 4390", 92.0, margin=first_margin),
                      OcrResult("TQ 4390", 92.0, margin=second_margin)])
        return run_pipeline(frames, lambda image: next(reads), min_margin=MIN_CHAR_MARGIN)

    stored, stats = pipeline_with(18.0, 60.0)  # the earlier of the agreeing reads: T 84 against I 66
    assert stored == [] and stats["texts_ambiguous"] == 1 and stats["texts_read"] == 0
    stored, stats = pipeline_with(60.0, MIN_CHAR_MARGIN)
    assert [record.text for record in stored] == ["TQ 4390"] and stats["texts_ambiguous"] == 0


def test_tesseract_says_how_far_the_weakest_character_led(default_engine):
    clean = default_engine(preprocess(FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 1).render("CAMKOR1 0042 SEOUL")))
    assert clean.text == "CAMKOR1 0042 SEOUL" and clean.margin > MIN_CHAR_MARGIN
    # `}` is not in the set: what tesseract reads in its place barely beats the other candidates.
    unsure = default_engine(preprocess(FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 3).render("ODV 2072 KRAN}")))
    assert unsure.margin < MIN_CHAR_MARGIN, unsure
    assert default_engine(np.full((120, 400), 200, np.uint8)).margin == 100.0  # nothing read, nothing doubted


def test_the_character_margin_is_a_setting():
    assert ProcessorConfig.from_env(Env({})).min_char_margin == MIN_CHAR_MARGIN == 20.0
    assert ProcessorConfig.from_env(Env({"OCR_MIN_CHAR_MARGIN": "0"})).min_char_margin == 0.0
    with pytest.raises(ConfigError, match=r"^OCR_MIN_CHAR_MARGIN='wide' is not a number$"):
        ProcessorConfig.from_env(Env({"OCR_MIN_CHAR_MARGIN": "wide"}))
    with pytest.raises(ConfigError, match=r"^OCR_MIN_CHAR_MARGIN=-1.0 is below the minimum 0.0$"):
        ProcessorConfig.from_env(Env({"OCR_MIN_CHAR_MARGIN": "-1"}))


def test_which_reads_are_checked_is_a_setting():
    config = ProcessorConfig.from_env(Env({}))
    assert config.check_below == CheckedViews.SURE == 93.0
    config = ProcessorConfig.from_env(Env({"OCR_CHECK_BELOW_CONFIDENCE": "101"}))
    assert config.check_below == 101.0
    read, seen = fake_reads(OcrResult("OJ 5901 KOPER", 99.0), OcrResult("0J 5901 KOPER", 97.0))
    result = LineReader(read, check_below=config.check_below).read_crop(np.zeros((60, 300), np.uint8))
    assert result == OcrResult("OJ 5901 KOPER", 99.0, ambiguous=True) and len(seen) == 2  # a sure read checked too
    with pytest.raises(ConfigError, match=r"^OCR_CHECK_BELOW_CONFIDENCE='always' is not a number$"):
        ProcessorConfig.from_env(Env({"OCR_CHECK_BELOW_CONFIDENCE": "always"}))


def views_of(scaled_text, normal_text):
    """A read function for crops of one line: a sure `scaled_text` for the scaled view, `normal_text` for
    the crop as it is (told apart by width: the
    tests' crops are 300-420 pixels wide). It records which view each read was of."""
    seen = []

    def read(image):
        scaled = image.shape[1] > 500
        seen.append("scaled" if scaled else "as it is")
        return OcrResult(scaled_text, 95.0) if scaled else OcrResult(normal_text, 94.0)

    return read, seen


def test_a_lines_later_frames_are_read_from_the_other_view():
    crop = np.zeros((60, 300), np.uint8)
    read, seen = views_of("PJ 9937 ULSAN", "PJ 9937 ULSAN")
    views = CheckedViews(read)
    assert views(crop) == OcrResult("PJ 9937 ULSAN", 95.0) and seen == ["scaled"]  # sure: not checked
    assert views(crop, reads_before=1) == OcrResult("PJ 9937 ULSAN", 94.0) and seen[1:] == ["as it is"]
    # A third frame: both views, however sure the first is; different text makes it ambiguous.
    read, seen = views_of("P 9937 ULSAN", "PJ 9937 ULSAN")
    assert CheckedViews(read)(crop, reads_before=2) == OcrResult("P 9937 ULSAN", 95.0, ambiguous=True)
    assert seen == ["scaled", "as it is"]


def test_a_sure_misread_of_one_view_is_not_stored_when_the_other_view_reads_otherwise():
    # Tesseract read the scaled crop of a sans-serif `PJ 9937 ULSAN` as `P 9937 ULSAN` on every frame,
    # 94 sure (bench/ocr_robustness_bench.py); the crop as it is read `PJ 9937 ULSAN`.
    drawn = FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 3).render("PJ 9937 ULSAN")
    frames = noisy_copies(drawn, 3, 3)
    read, seen = views_of("P 9937 ULSAN", "PJ 9937 ULSAN")
    reader = LineReader(read)
    stored, stats = run_pipeline(frames, reader, reread=reader)
    assert stored == [] and stats["texts_read"] == 0
    assert stats["texts_ambiguous"] + stats["texts_unconfirmed"] == 1
    assert seen == ["scaled", "as it is", "scaled", "as it is"]  # the third frame was read both ways
    # Without the other view for later frames the same misread was confirmed and stored.
    read, seen = views_of("P 9937 ULSAN", "PJ 9937 ULSAN")
    stored, _ = run_pipeline(frames, LineReader(read))
    assert [record.text for record in stored] == ["P 9937 ULSAN"] and seen == ["scaled", "scaled"]


def test_a_line_both_views_read_alike_is_stored_after_two_reads():
    drawn = FrameRenderer(640, 480, DEFAULT_FONT, 40, 0.0, 3).render("PJ 9937 ULSAN")
    read, seen = views_of("PJ 9937 ULSAN", "PJ 9937 ULSAN")
    reader = LineReader(read)
    stored, stats = run_pipeline(noisy_copies(drawn, 3, 3), reader, reread=reader)
    assert [record.text for record in stored] == ["PJ 9937 ULSAN"] and seen == ["scaled", "as it is"]
    assert stats["ocr_calls"] == 2 and stats["frames_unchanged"] == 1


def test_the_processor_reads_a_lines_later_frames_from_the_other_view():
    reader = recognizer(ProcessorConfig.from_env(Env({})))
    assert isinstance(reader, LineReader) and rereader(reader) is reader
    naive = recognizer(ProcessorConfig.from_env(Env({"OCR_PREPROCESS": "false"})))
    assert rereader(naive) is None  # the baseline reads whole frames: it has no other view


def test_a_checked_read_keeps_the_weaker_margin_of_its_two_views():
    # `WTX 9498 KOPER` in falling light: the scaled crop read `WIX` 90 sure (its `I` led `T` by 63), the crop
    # as it is read `WIX` too, but only 70 sure, its `I` and `T` level (margin 0): doubtful, not stored.
    read, _ = fake_reads(OcrResult("WIX 9498 KOPER", 90.0, margin=63.1), OcrResult("WIX 9498 KOPER", 69.7, margin=0.0))
    result = CheckedViews(read)(np.zeros((60, 300), np.uint8))
    assert result == OcrResult("WIX 9498 KOPER", 90.0, margin=0.0)
    assert result.margin < MIN_CHAR_MARGIN
    read, _ = fake_reads(OcrResult("WTX 9498 KOPER", 75.3, margin=9.0), OcrResult("WTX 9498 KOPER", 89.7, margin=60.8))
    assert CheckedViews(read)(np.zeros((60, 300), np.uint8)).margin == 9.0  # whichever view was the weaker
    read, _ = fake_reads(OcrResult("WTX 9498 KOPER", 95.0, margin=9.0))
    assert CheckedViews(read)(np.zeros((60, 300), np.uint8)).margin == 9.0  # a sure read alone keeps its own


def test_a_line_read_on_is_not_stored_when_its_later_frames_read_otherwise():
    # A grey-on-grey `PW 3902 ROVERETO` was refused on its first pair and then read `Pw` clearly by two frames
    # (bench/ocr_robustness_bench.py): a line that reads otherwise after a refusal is doubtful, not stored.
    reads = iter([OcrResult("PW 3902 ROVERETO", 90.0, margin=15.0), OcrResult("PW 3902 ROVERETO", 90.0),
                  OcrResult("Pw 3902 ROVERETO", 91.0), OcrResult("Pw 3902 ROVERETO", 92.0),
                  OcrResult("PW 3902 ROVERETO", 93.0), OcrResult("PW 3902 ROVERETO", 94.0)])
    stored, stats = run_pipeline(same_scene(LINE_READS), lambda image: next(reads), min_margin=MIN_CHAR_MARGIN)
    assert [record.text for record in stored] == ["PW 3902 ROVERETO"]  # the third pair says what the first did
    assert stats["texts_ambiguous"] == 2 and stats["ocr_calls"] == 6


def test_without_change_detection_a_refused_read_does_not_hold_back_the_next_lines():
    # Every frame is read on its own there: a refusal says nothing about the next frame's text.
    frames = [np.full((480, 640, 3), shade, np.uint8) for shade in (100, 150, 200)]
    reads = iter([OcrResult("AB 1234 ROMA", 90.0, margin=5.0), OcrResult("CD 5678 BARI", 90.0),
                  OcrResult("EF 9012 BARI", 90.0)])
    stored, stats = run_pipeline(frames, lambda image: next(reads), detector=False, min_margin=MIN_CHAR_MARGIN)
    assert [record.text for record in stored] == ["CD 5678 BARI", "EF 9012 BARI"]
    assert stats["texts_ambiguous"] == 1


def test_a_line_whose_views_read_different_text_is_not_read_on():
    # `OJ` read `0J` by both views of later frames stored a wrong record after such a refusal (the bench, seed 5003).
    reads = iter([OcrResult("0J 5796 MARIBOR", 90.0, ambiguous=True), OcrResult("0J 5796 MARIBOR", 90.0),
                  OcrResult("0J 5796 MARIBOR", 91.0), OcrResult("0J 5796 MARIBOR", 92.0)])
    stored, stats = run_pipeline(same_scene(4), lambda image: next(reads), min_margin=MIN_CHAR_MARGIN)
    assert stored == [] and stats["texts_ambiguous"] == 1
    assert stats["ocr_calls"] == 2 and stats["frames_unchanged"] == 2
