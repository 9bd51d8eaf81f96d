from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_ocr.processor.buffer import DiskBuffer


def contents(buffer: DiskBuffer) -> list[str]:
    return [record for _, record in buffer.oldest(10_000)]


def test_records_come_out_in_order_and_leave_once_stored(tmp_path):
    buffer = DiskBuffer(tmp_path / "b.sqlite3", max_records=10)
    for i in range(5):
        assert buffer.push(f"r{i}") == 0
    batch = buffer.oldest(3)
    assert [record for _, record in batch] == ["r0", "r1", "r2"]
    buffer.remove_through(batch[-1][0])
    assert contents(buffer) == ["r3", "r4"]
    assert len(buffer) == 2


def test_overflow_drops_the_oldest_and_counts_them(tmp_path):
    buffer = DiskBuffer(tmp_path / "b.sqlite3", max_records=3)
    dropped = [buffer.push(f"r{i}") for i in range(5)]
    assert dropped == [0, 0, 0, 1, 1]
    assert buffer.dropped == 2
    assert contents(buffer) == ["r2", "r3", "r4"]


def test_records_survive_a_restart(tmp_path):
    path = tmp_path / "b.sqlite3"
    buffer = DiskBuffer(path, max_records=10)
    buffer.push("kept-1")
    buffer.push("kept-2")
    buffer.close()
    reopened = DiskBuffer(path, max_records=10)
    assert len(reopened) == 2
    reopened.push("after")
    assert contents(reopened) == ["kept-1", "kept-2", "after"]


def test_a_buffer_must_hold_something(tmp_path):
    with pytest.raises(ValueError):
        DiskBuffer(tmp_path / "b.sqlite3", max_records=0)


# An operation is a push (True) or storing the oldest n records (an int).
operations = st.lists(st.one_of(st.just(True), st.integers(1, 4)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(bound=st.integers(1, 8), ops=operations)
def test_behaves_like_a_bounded_queue(tmp_path_factory, bound, ops):
    buffer = DiskBuffer(tmp_path_factory.mktemp("buffer") / "b.sqlite3", max_records=bound)
    model: deque[str] = deque()
    dropped = 0
    for number, op in enumerate(ops):
        if op is True:
            record = f"r{number}"
            model.append(record)
            while len(model) > bound:
                model.popleft()
                dropped += 1
            buffer.push(record)
        else:
            batch = buffer.oldest(op)
            assert [record for _, record in batch] == list(model)[:op]
            if batch:
                buffer.remove_through(batch[-1][0])
            for _ in batch:
                model.popleft()
        assert contents(buffer) == list(model)
        assert len(buffer) == len(model)
    assert buffer.dropped == dropped
    buffer.close()
