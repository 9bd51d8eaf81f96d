import pytest
import string

from simple_ocr.camera.text_source import PLACES, PLATE_LETTERS, make_text_source


def test_counter_lines_name_the_camera_count_and_place():
    source = make_text_source("counter", "camkor1", "SEOUL", seed=1)
    assert source(42) == "CAMKOR1 0042 SEOUL"
    assert source(10_042) == "CAMKOR1 0042 SEOUL"  # four digits wrap


def test_random_lines_are_a_function_of_seed_and_index():
    first = make_text_source("random", "cam1", "POVO", seed=5)
    again = make_text_source("random", "cam1", "POVO", seed=5)
    other = make_text_source("random", "cam1", "POVO", seed=6)
    lines = [first(i) for i in range(50)]
    assert lines == [again(i) for i in range(50)]
    assert lines != [other(i) for i in range(50)]
    for line in lines:
        code, number, place = line.split(" ")
        assert set(code) <= set(PLATE_LETTERS) and 2 <= len(code) <= 3
        assert number.isdigit() and len(number) == 4
        assert place in PLACES


def test_letters_lines_use_every_letter_i_o_and_q_included():
    source = make_text_source("letters", "cam1", "POVO", seed=5)
    codes = [source(i).split(" ")[0] for i in range(300)]
    assert set("".join(codes)) == set(string.ascii_uppercase)
    assert all(2 <= len(code) <= 3 for code in codes)
    assert source(7) == make_text_source("letters", "cam1", "POVO", seed=5)(7)
    assert not set("IOQ") & set("".join(make_text_source("random", "cam1", "POVO", 5)(i).split()[0] for i in range(300)))


def test_file_source_cycles_through_non_empty_lines(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("FIRST LINE\n\n  <b>second</b>  \n")
    source = make_text_source(f"file:{path}", "cam1", "POVO", seed=1)
    assert [source(i) for i in range(3)] == ["FIRST LINE", "<b>second</b>", "FIRST LINE"]


def test_unknown_or_empty_sources_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown text source"):
        make_text_source("lorem", "cam1", "POVO", seed=1)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(ValueError, match="no non-empty line"):
        make_text_source(f"file:{empty}", "cam1", "POVO", seed=1)
