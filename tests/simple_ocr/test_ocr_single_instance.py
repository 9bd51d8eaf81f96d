"""One Processor per buffer, and a Processor that lost a worker thread exits (its supervisor restarts it)
instead of stalling with a 503 /healthz."""

import sqlite3
from pathlib import Path

import pytest
from ocr_testkit import camera_url, free_port, processor_env, wait_until
from simple_ocr.processor.buffer import BufferInUse, DiskBuffer


def test_a_buffer_has_one_owner_at_a_time(tmp_path):
    first = DiskBuffer(tmp_path / "b.sqlite3", max_records=10)
    with pytest.raises(BufferInUse, match="in use by another process"):
        DiskBuffer(tmp_path / "b.sqlite3", max_records=10)
    first.push("r0")
    first.close()
    again = DiskBuffer(tmp_path / "b.sqlite3", max_records=10)
    assert len(again) == 1


def test_the_count_is_what_the_buffer_holds(tmp_path):
    """The count after a removal is read back from the buffer, never derived (it once went negative)."""
    buffer = DiskBuffer(tmp_path / "b.sqlite3", max_records=10)
    for i in range(4):
        buffer.push(f"r{i}")
    last = buffer.oldest(10)[-1][0]
    buffer.remove_through(last)
    buffer.remove_through(last)
    assert len(buffer) == 0
    buffer.push("r4")
    assert len(buffer) == 1 and [r for _, r in buffer.oldest(10)] == ["r4"]


def test_a_second_processor_on_the_same_buffer_refuses_to_start(
    tmp_path, redis_server, repository, start_service, camera_env
):
    start_service("camera", **camera_env)
    env = processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url)
    first = start_service("processor", **env)
    wait_until(lambda: first.events("started"), 60, "the first Processor")
    second = start_service("processor", log_name="processor-2", **dict(env, OCR_HEALTH_PORT=str(free_port())))
    wait_until(lambda: not second.running(), 60, "the second Processor to give up")
    assert second.process.returncode == 3
    assert "in use by another process" in second.events("buffer_in_use")[0]["reason"]
    assert first.running()
    texts = wait_until(lambda: repository.query(camera="cam1", limit=1000), 60, "texts of the first Processor")
    assert len({(t.time, t.text) for t in texts}) == len(texts), "a text stored twice"


def test_a_processor_whose_uploader_dies_exits_nonzero(tmp_path, redis_server, start_service, camera_env):
    start_service("camera", **camera_env)
    env = processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url)
    # A record that is not JSON: the upload thread fails on it.
    DiskBuffer(Path(env["OCR_BUFFER_PATH"]), 10).close()
    with sqlite3.connect(env["OCR_BUFFER_PATH"]) as db:
        db.execute("INSERT INTO pending (record) VALUES ('not json')")
    processor = start_service("processor", **env)
    wait_until(lambda: not processor.running(), 60, "the Processor to exit")
    assert processor.process.returncode == 1
    assert processor.events("worker_thread_crashed")[0]["thread"] == "uploader"
    assert processor.events("worker_thread_stopped")[0]["threads"] == ["uploader"]
    assert processor.events("stopped")[0]["exit_code"] == 1

