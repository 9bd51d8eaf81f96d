"""The Webserver's API, live updates and health, against a real Redis."""

import json
import urllib.request

import pytest
from ocr_testkit import free_port, get_json, get_text, wait_until
from simple_ocr.records import TextRecord


@pytest.fixture
def web(redis_server, start_service):
    port = free_port()
    service = start_service("webserver", WEB_PORT=str(port), WEB_REDIS_URL=redis_server.url, WEB_MAX_LIMIT="50")
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: get_json(base + "/healthz")[0] == 200, 20, "the Webserver")
    service.base = base
    return service


def test_api_filters_by_camera_since_and_words(web, repository):
    repository.append_many([
        TextRecord("cam1", 1_800_000_000.0, 1, "KX 1234 POVO", 91.0),
        TextRecord("camkor1", 1_800_000_010.0, 2, "KX 1234 SEOUL", 88.0),
    ])
    status, body = get_json(web.base + "/api/texts")
    assert status == 200
    assert [t["text"] for t in body["texts"]] == ["KX 1234 SEOUL", "KX 1234 POVO"]
    assert set(body["texts"][0]) == {"camera", "time", "frame", "text", "confidence", "id"}
    assert [t["text"] for t in get_json(web.base + "/api/texts?camera=cam1")[1]["texts"]] == ["KX 1234 POVO"]
    assert [t["text"] for t in get_json(web.base + "/api/texts?q=seoul")[1]["texts"]] == ["KX 1234 SEOUL"]
    since_iso = "2027-01-15T08:00:05Z"  # = 1800000005
    assert [t["camera"] for t in get_json(web.base + f"/api/texts?since={since_iso}")[1]["texts"]] == ["camkor1"]
    assert [t["camera"] for t in get_json(web.base + "/api/texts?since=1800000005")[1]["texts"]] == ["camkor1"]
    assert [t["camera"] for t in get_json(web.base + "/api/latest")[1]["latest"]] == ["cam1", "camkor1"]


@pytest.mark.parametrize("query, message", [
    ("since=yesterday", "since='yesterday'"),
    ("limit=0", "limit='0'"),
    ("limit=51", "from 1 to 50"),
])
def test_api_refuses_bad_parameters_with_a_reason(web, query, message):
    status, body = get_json(web.base + "/api/texts?" + query)
    assert status == 400 and message in body["error"]


def test_without_redis_it_is_live_but_not_ready(web, redis_server):
    redis_server.stop()
    assert get_json(web.base + "/healthz")[0] == 200
    assert get_json(web.base + "/readyz")[0] == 503
    status, body = get_json(web.base + "/api/texts")
    assert status == 503 and "Redis" in body["error"]
    assert web.running()


def test_live_updates_send_the_latest_then_new_records(web, repository):
    repository.append_many([TextRecord("cam1", 1_800_000_000.0, 1, "FIRST", 90.0)])
    with urllib.request.urlopen(web.base + "/events", timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")

        def next_event() -> dict:
            lines = []
            while (line := stream.readline().decode()) != "\n":
                lines.append(line.strip())
            assert lines[0] == "event: text"
            return json.loads(lines[1].removeprefix("data: "))

        assert next_event()["text"] == "FIRST"
        repository.append_many([TextRecord("cam2", 1_800_000_001.0, 2, "<b>NEW</b>", 90.0)])
        event = next_event()
        assert (event["camera"], event["text"]) == ("cam2", "<b>NEW</b>")


def test_static_files_and_unknown_paths(web):
    status, headers, script = get_text(web.base + "/static/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert "textContent" in script and "innerHTML" not in script
    assert get_json(web.base + "/static/../app.py")[0] == 404
    assert get_json(web.base + "/nope")[0] == 404


def test_sigterm_stops_it_cleanly(web):
    assert web.stop() == 0
    assert web.events("stopped")
