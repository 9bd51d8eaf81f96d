"""The Processor under faults: camera restarts, Redis outages, bad camera endpoints."""

import time

from ocr_testkit import camera_url, free_port, get_json, health_url, processor_env, wait_until


def test_processor_resumes_after_the_camera_restarts(
    tmp_path, redis_server, repository, start_service, camera_env
):
    camera = start_service("camera", **camera_env)
    env = processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url)
    processor = start_service("processor", **env)
    wait_until(lambda: repository.query(camera="cam1"), 60, "a first text")

    camera.stop()
    wait_until(lambda: processor.events("stream_unavailable"), 30, "the Processor to notice")
    start_service("camera", log_name="camera-again", **camera_env, CAMERA_LOCATION="RESTARTED")

    after = wait_until(lambda: repository.query(q="RESTARTED"), 60, "a text of the restarted camera")
    assert after[0].text.startswith("CAM1 ") and after[0].text.endswith(" RESTARTED")
    assert processor.running()
    assert len(processor.events("started")) == 1  # the same Processor run throughout
    assert get_json(health_url(env))[1]["stream_connects"] >= 2


def test_texts_read_while_redis_is_down_are_stored_in_order(
    tmp_path, redis_server, repository, start_service, camera_env
):
    camera_env["CAMERA_TEXT_INTERVAL"] = "0.7"
    start_service("camera", **camera_env)
    env = processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url)
    processor = start_service("processor", **env)
    wait_until(lambda: len(repository.query(camera="cam1")) >= 2, 60, "texts before the outage")

    redis_server.stop()
    down_at = time.time()
    most_buffered = 0

    def read_since_down() -> int:
        return sum(e["captured_at"] >= down_at for e in processor.events("text_read"))

    # Redis stays down 10 s, longer (at most 40 s) if a busy machine slowed OCR below 5 texts.
    while time.time() - down_at < 10 or (read_since_down() < 5 and time.time() - down_at < 40):
        most_buffered = max(most_buffered, get_json(health_url(env))[1].get("buffered", 0))
        time.sleep(0.5)
    most_buffered = max(most_buffered, get_json(health_url(env))[1].get("buffered", 0))
    up_at = time.time()
    redis_server.start()

    wait_until(lambda: processor.events("repository_recovered"), 30, "the Processor to flush its buffer")
    wait_until(lambda: get_json(health_url(env))[1].get("buffered") == 0, 30, "an empty buffer")
    stored = [r.text for r in reversed(repository.query(camera="cam1", limit=1000))]  # oldest first
    read = [e["text"] for e in processor.events("text_read")]  # logged before being buffered
    read_while_down = [
        e["text"] for e in processor.events("text_read") if down_at <= e["captured_at"] <= up_at
    ]

    assert len(read_while_down) >= 5 and most_buffered >= 3  # the outage really was buffered
    assert stored == read[: len(stored)]  # everything, in the order it was read
    assert set(read_while_down) <= set(stored)
    assert processor.events("repository_unavailable")
    assert processor.running()


def test_an_unreachable_camera_is_logged_and_retried(tmp_path, redis_server, start_service):
    url = f"http://127.0.0.1:{free_port()}/stream.mjpg"
    env = processor_env(tmp_path, "cam1", url, redis_server.url)
    processor = start_service("processor", **env)

    failures = wait_until(lambda: len(processor.events("stream_unavailable")) >= 4 and
                          processor.events("stream_unavailable"), 30, "repeated retries")
    assert all(f["url"] == url and f["reason"].startswith("cannot connect") for f in failures)
    delays = [f["retry_in_s"] for f in failures]
    assert delays == sorted(delays) and delays[-1] <= 1  # backs off up to the configured maximum
    assert processor.running() and get_json(health_url(env))[0] == 200


def test_a_non_mjpeg_endpoint_is_logged_and_retried(tmp_path, redis_server, start_service, camera_env):
    start_service("camera", **camera_env)
    for path, reason in (("/healthz", "not an MJPEG stream"), ("/nothing-here", "HTTP 404")):
        url = camera_url(camera_env, path)
        # Both Processors run at once: each needs a buffer of its own (one owner per buffer).
        processor = start_service("processor", log_name=f"processor{path.replace('/', '-')}",
                                  **processor_env(tmp_path, "cam1", url, redis_server.url,
                                                  OCR_BUFFER_PATH=str(tmp_path / f"buffer{path.replace('/', '-')}")))
        failures = wait_until(lambda: len(processor.events("stream_unavailable")) >= 3 and
                              processor.events("stream_unavailable"), 30, f"retries on {path}")
        assert all(reason in f["reason"] for f in failures), failures
        assert processor.running()
        assert processor.events("stream_connected") == []
