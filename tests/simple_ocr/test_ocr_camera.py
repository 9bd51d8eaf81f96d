"""The camera simulator: MJPEG over HTTP, snapshots, a looping video file."""

import urllib.request

import cv2
import numpy as np
from ocr_testkit import camera_url, get_json, wait_until
from simple_ocr.camera.render import DEFAULT_FONT, FrameRenderer
from simple_ocr.processor.ocr import Tesseract, preprocess


def test_stream_is_multipart_jpeg_with_a_length_per_part(start_service, camera_env):
    camera_env.update(CAMERA_WIDTH="320", CAMERA_HEIGHT="240")
    start_service("camera", **camera_env)
    wait_until(lambda: get_json(camera_url(camera_env, "/healthz"))[0] == 200, 20, "the camera")
    with urllib.request.urlopen(camera_url(camera_env), timeout=10) as stream:
        content_type = stream.headers["Content-Type"]
        assert content_type == "multipart/x-mixed-replace; boundary=frame"
        for _ in range(3):
            assert stream.readline() == b"--frame\r\n"
            assert stream.readline() == b"Content-Type: image/jpeg\r\n"
            length = int(stream.readline().decode().removeprefix("Content-Length:").strip())
            assert stream.readline() == b"\r\n"
            image = cv2.imdecode(np.frombuffer(stream.read(length), np.uint8), cv2.IMREAD_COLOR)
            assert image.shape == (240, 320, 3)
            assert stream.readline() == b"\r\n"


def test_a_video_file_is_looped(tmp_path, start_service, camera_env):
    video = tmp_path / "clip.avi"
    lines = ["VIDEO 0001 POVO", "VIDEO 0002 SEOUL"]
    renderer = FrameRenderer(640, 480, DEFAULT_FONT, 40, noise=0, seed=1)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for line in lines:
        for _ in range(5):
            writer.write(renderer.render(line))
    writer.release()
    camera_env.update(CAMERA_VIDEO=str(video), CAMERA_FPS="20")
    start_service("camera", **camera_env)

    # 10 frames in the file; after 25 the camera has gone round it more than twice
    wait_until(lambda: get_json(camera_url(camera_env, "/healthz"))[1].get("frames", 0) > 25, 30, "loops")
    seen = set()
    read = Tesseract()
    for _ in range(30):
        if len(seen) == 2:
            break
        with urllib.request.urlopen(camera_url(camera_env, "/snapshot.jpg"), timeout=5) as response:
            image = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)
        seen.add(read(preprocess(image)).text)
    assert seen == set(lines)


def test_bad_configuration_exits_with_a_reason(start_service, camera_env):
    camera = start_service("camera", **{**camera_env, "CAMERA_FPS": "fast"})
    assert camera.process.wait(20) == 2
    assert camera.events("bad_configuration")[0]["reason"] == "CAMERA_FPS='fast' is not a number"
