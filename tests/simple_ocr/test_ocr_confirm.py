"""Confirmation reads: after a change, a line is kept once two reads agree (a single misread is not, nor noise)."""

from simple_ocr.processor.ocr import OcrResult
from simple_ocr.processor.pipeline import CONFIRM_READS, confirm


def read(text, confidence=90.0):
    return OcrResult(text, confidence)


def test_a_first_read_waits_for_a_second_that_agrees():
    kept, pending = confirm([], read("CAMKOR1 0042 SEOUL"))
    assert kept is None and len(pending) == 1
    kept, pending = confirm(pending, read("CAMKOR1 0042 SEOUL", 88.0))
    assert kept == read("CAMKOR1 0042 SEOUL", 88.0) and pending == []


def test_a_misread_is_outvoted_by_two_agreeing_reads():
    kept, pending = confirm([], read("CAMKOR1 O042 SEOUL", 95.0))  # the letter O for a zero
    kept, pending = confirm(pending, read("CAMKOR1 0042 SEOUL", 80.0))
    assert kept is None and len(pending) == 2
    kept, pending = confirm(pending, read("CAMKOR1 0042 SEOUL", 81.0))
    assert kept.text == "CAMKOR1 0042 SEOUL" and pending == []


def test_reads_that_never_agree_keep_nothing_however_sure():
    pending = []
    for i, confidence in enumerate([70.0, 99.0, 60.0][:CONFIRM_READS]):
        kept, pending = confirm(pending, read("TEXT %d" % i, confidence))
        assert kept is None
    assert pending == []  # decided: the change is done with, nothing to store
