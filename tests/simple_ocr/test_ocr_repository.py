"""The Repository's Redis layout, on a real redis-server."""

import pytest
from ocr_testkit import free_port
from simple_ocr.records import TextRecord
from simple_ocr.repository import Repository, RepositoryError, tokens_of

NOW = 1_800_000_000.0


def record(camera: str, offset: float, text: str, frame: int = 1) -> TextRecord:
    return TextRecord(camera, NOW + offset, frame, text, 90.0)


def texts(records) -> list[str]:
    return [r.text for r in records]


def test_tokens_are_upper_cased_words_once_each():
    assert tokens_of("cam1 0042 Seoul, SEOUL!") == ["CAM1", "0042", "SEOUL"]
    assert tokens_of("<script>alert(1)</script>") == ["SCRIPT", "ALERT", "1"]


def test_appended_records_read_back_by_camera_time_and_newest_first(repository):
    ids = repository.append_many([
        record("cam1", 0, "CAM1 0001 POVO", 1),
        record("cam1", 1, "CAM1 0002 POVO", 2),
        record("camkor1", 0.5, "CAMKOR1 0001 SEOUL", 3),
    ])
    assert ids[0].startswith(str(int(NOW * 1000)))  # entry id = capture time in ms
    stored = repository.query()
    assert texts(stored) == ["CAM1 0002 POVO", "CAMKOR1 0001 SEOUL", "CAM1 0001 POVO"]
    assert stored[0] == TextRecord("cam1", NOW + 1, 2, "CAM1 0002 POVO", 90.0, ids[1])
    assert texts(repository.query(camera="camkor1")) == ["CAMKOR1 0001 SEOUL"]
    assert texts(repository.query(since=NOW + 0.5)) == ["CAM1 0002 POVO", "CAMKOR1 0001 SEOUL"]
    assert texts(repository.query(limit=1)) == ["CAM1 0002 POVO"]
    assert repository.cameras() == ["cam1", "camkor1"]
    assert texts(repository.latest()) == ["CAM1 0002 POVO", "CAMKOR1 0001 SEOUL"]


def test_search_matches_all_words_case_insensitively(repository):
    repository.append_many([
        record("cam1", 0, "KX 1234 POVO"),
        record("cam1", 1, "KX 9999 TRENTO"),
        record("camkor1", 2, "KX 1234 SEOUL"),
    ])
    assert texts(repository.query(q="kx")) == ["KX 1234 SEOUL", "KX 9999 TRENTO", "KX 1234 POVO"]
    assert texts(repository.query(q="1234 kx")) == ["KX 1234 SEOUL", "KX 1234 POVO"]
    assert texts(repository.query(q="1234", camera="cam1")) == ["KX 1234 POVO"]
    assert texts(repository.query(q="KX", since=NOW + 1)) == ["KX 1234 SEOUL", "KX 9999 TRENTO"]
    assert repository.query(q="KX MILANO") == []
    assert repository.query(q="KX", limit=2) == repository.query(q="KX")[:2]


def test_an_earlier_capture_time_still_lands_after_the_stream_end(repository):
    repository.append_many([record("cam1", 10, "LATER")])
    repository.append_many([record("cam1", 0, "CLOCK STEPPED BACK")])
    assert texts(repository.query(camera="cam1")) == ["CLOCK STEPPED BACK", "LATER"]
    assert texts(repository.query(q="stepped")) == ["CLOCK STEPPED BACK"]


def test_retention_removes_old_entries_and_their_index(repository):
    repository.append_many([record("cam1", -100, "OLD POVO"), record("cam1", 0, "NEW POVO")])
    trimmed = repository.apply_retention(retention_s=50, now=NOW)
    assert trimmed == {"entries": 1, "index_entries": 2}  # OLD and POVO of the old entry
    assert texts(repository.query()) == ["NEW POVO"]
    assert texts(repository.query(q="povo")) == ["NEW POVO"]
    assert repository.query(q="old") == []
    assert not repository.client.exists("ocr:token:OLD")


def test_follow_yields_new_records_of_known_and_new_cameras(repository):
    repository.append_many([record("cam1", 0, "BEFORE")])
    cursors = repository.cursors_at_end()
    assert repository.follow(cursors, block_ms=50) == []
    repository.append_many([record("cam1", 1, "AFTER"), record("cam9", 1, "NEW CAMERA")])
    assert sorted(texts(repository.follow(cursors, block_ms=50))) == ["AFTER", "NEW CAMERA"]
    assert repository.follow(cursors, block_ms=50) == []


def test_an_unreachable_redis_raises_a_repository_error():
    repository = Repository.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout_s=1)
    with pytest.raises(RepositoryError):
        repository.append_many([record("cam1", 0, "LOST?")])
    with pytest.raises(RepositoryError):
        repository.query()
    assert not repository.ping()
