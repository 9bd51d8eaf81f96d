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


def test_the_scene_look_is_configured_and_drawn():
    from simple_ocr.camera.__main__ import CameraConfig, build_scene
    from simple_ocr.common.config import Env

    def drawn(**env):
        config = CameraConfig.from_env(Env({"CAMERA_NOISE": "0", "CAMERA_BACKGROUND": "180", "CAMERA_INK": "140", **env}))
        return build_scene(config).frame_at(0.0)[0][:, :, 0]

    lit = drawn(CAMERA_LIGHT_LOW="0.5")
    assert abs(int(lit[5, 2]) - 180) <= 1 and abs(int(lit[5, -3]) - 90) <= 2  # light falls to half, left to right
    assert lit[240].min() >= 140 * 0.5 - 1  # the ink darkens with it
    level_rows = np.nonzero((drawn() < 160).any(axis=1))[0]
    tilted_rows = np.nonzero((drawn(CAMERA_TILT_DEGREES="4") < 160).any(axis=1))[0]
    assert 20 < np.ptp(level_rows) < 40 and 45 < np.ptp(tilted_rows) < 65  # 4° adds ~23 rows over the ~340 px line


def test_a_look_the_camera_cannot_draw_is_refused(start_service, camera_env):
    camera = start_service("camera", **{**camera_env, "CAMERA_INK": "200"})  # the default background
    assert camera.process.wait(20) == 2
    reason = camera.events("bad_configuration")[0]["reason"]
    assert reason.startswith("ink and background are both grey 200: the text would be invisible (CAMERA_BACKGROUND=200")
