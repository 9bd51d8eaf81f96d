"""camera -> Processor -> Redis -> Webserver, each a real process on loopback."""

from urllib.parse import quote

from ocr_testkit import camera_url, free_port, get_json, get_text, health_url, processor_env, wait_until
from simple_ocr.camera.text_source import random_source

SEED = 77


def start_webserver(start_service, redis_url: str) -> str:
    port = free_port()
    start_service("webserver", WEB_PORT=str(port), WEB_REDIS_URL=redis_url)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: get_json(base + "/readyz")[0] == 200, 20, "the Webserver to be ready")
    return base


def stored_texts(base: str, **params: str) -> list[str]:
    query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
    status, body = get_json(f"{base}/api/texts?{query}")
    return [record["text"] for record in body.get("texts", [])] if status == 200 else []


def test_the_api_returns_the_text_the_camera_drew(tmp_path, redis_server, start_service, camera_env):
    camera_env.update(CAMERA_ID="camkor1", CAMERA_TEXT_SOURCE="random", CAMERA_SEED=str(SEED))
    start_service("camera", **camera_env)
    env = processor_env(tmp_path, "camkor1", camera_url(camera_env), redis_server.url)
    processor = start_service("processor", **env)
    base = start_webserver(start_service, redis_server.url)

    drawn = {random_source(SEED)(index) for index in range(200)}
    texts = wait_until(lambda: stored_texts(base, camera="camkor1"), 60, "a text in the API")
    assert texts[0] in drawn

    # search by a word of it, and by camera
    word = texts[0].split()[-1]
    assert texts[0] in stored_texts(base, q=word.lower())
    assert stored_texts(base, camera="cam-nobody") == []

    # the health counters follow the write to Redis
    wait_until(lambda: get_json(health_url(env))[1].get("records_stored", 0) >= 1, 10, "the counter")
    assert processor.running()


def test_the_page_shows_ocr_text_inert(tmp_path, redis_server, start_service, camera_env):
    attack = "<script>alert(1)</script>"
    lines = tmp_path / "lines.txt"
    lines.write_text(attack + "\n")
    camera_env.update(CAMERA_TEXT_SOURCE=f"file:{lines}")
    start_service("camera", **camera_env)
    # OCR_CHARSET's default has no `<`, `>` or `(`: a Processor told to read any character stores the markup.
    start_service("processor", **processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url,
                                               OCR_CHARSET="*"))
    base = start_webserver(start_service, redis_server.url)

    wait_until(lambda: attack in stored_texts(base), 60, "the camera's script text to be stored")
    for page_url in (base + "/", base + "/?q=alert"):
        status, headers, html = get_text(page_url)
        assert status == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html
        assert "script-src 'self'" in headers["Content-Security-Policy"]  # and no inline script
    assert "results" in html  # the search found it and showed it escaped as well
