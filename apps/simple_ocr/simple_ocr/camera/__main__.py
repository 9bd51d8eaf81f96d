"""`python -m simple_ocr.camera`: serve a simulated IP camera (configuration: see README)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..common.config import ConfigError, Env
from ..common.httpd import start_http_server, stop_http_server
from ..common.lifecycle import stop_event_on_signals
from ..common.logs import get_logger
from .producer import FrameProducer
from .render import BACKGROUND, DEFAULT_FONT, INK, FrameRenderer, Look
from .scenes import TextScene, VideoLoop
from .server import CameraApp, CameraHandler
from .text_source import make_text_source

log = get_logger("camera")


@dataclass(frozen=True)
class CameraConfig:
    camera_id: str
    host: str
    port: int
    fps: float
    width: int
    height: int
    text_source: str
    text_interval_s: float
    location: str
    noise: float
    font_path: str
    font_size: int
    jpeg_quality: int
    video_path: str
    seed: int
    look: Look

    @classmethod
    def from_env(cls, env: Env | None = None) -> CameraConfig:
        env = env or Env()
        height = env.int("CAMERA_HEIGHT", 480, minimum=32)
        return cls(
            camera_id=env.str("CAMERA_ID", "cam1"),
            host=env.str("CAMERA_HOST", "127.0.0.1"),
            port=env.int("CAMERA_PORT", 8081, minimum=0),
            fps=env.float("CAMERA_FPS", 10.0, minimum=0.1),
            width=env.int("CAMERA_WIDTH", 640, minimum=32),
            height=height,
            text_source=env.str("CAMERA_TEXT_SOURCE", "counter"),
            text_interval_s=env.float("CAMERA_TEXT_INTERVAL", 2.0, minimum=0.05),
            location=env.str("CAMERA_LOCATION", "POVO"),
            noise=env.float("CAMERA_NOISE", 8.0, minimum=0.0),
            font_path=env.str("CAMERA_FONT", DEFAULT_FONT),
            font_size=env.int("CAMERA_FONT_SIZE", max(10, height // 12), minimum=6),
            jpeg_quality=env.int("CAMERA_JPEG_QUALITY", 80, minimum=1),
            video_path=env.str("CAMERA_VIDEO", ""),
            seed=env.int("CAMERA_SEED", 1),
            look=look_from_env(env),
        )


LOOK_VARIABLES = {  # environment variable -> Look field
    "CAMERA_BACKGROUND": "background", "CAMERA_INK": "ink", "CAMERA_TILT_DEGREES": "tilt_degrees",
    "CAMERA_LIGHT_LOW": "light_low", "CAMERA_LIGHT_DIRECTION_DEGREES": "light_direction_degrees",
}


def look_from_env(env: Env) -> Look:
    values = {
        "background": env.int("CAMERA_BACKGROUND", BACKGROUND, minimum=0),
        "ink": env.int("CAMERA_INK", INK, minimum=0),
        "tilt_degrees": env.float("CAMERA_TILT_DEGREES", 0.0),
        "light_low": env.float("CAMERA_LIGHT_LOW", 1.0),
        "light_direction_degrees": env.float("CAMERA_LIGHT_DIRECTION_DEGREES", 0.0),
    }
    try:
        return Look(**values)
    except ValueError as error:
        given = ", ".join(f"{name}={values[field]:g}" for name, field in LOOK_VARIABLES.items())
        raise ConfigError(f"{error} ({given})") from None


def build_scene(config: CameraConfig):
    if config.video_path:
        return VideoLoop(config.video_path, config.width, config.height)
    source = make_text_source(config.text_source, config.camera_id, config.location, config.seed)
    renderer = FrameRenderer(
        config.width, config.height, config.font_path, config.font_size, config.noise, config.seed, config.look
    )
    return TextScene(source, renderer, config.text_interval_s)


def main() -> int:
    stop = stop_event_on_signals()
    try:
        config = CameraConfig.from_env()
        scene = build_scene(config)
    except (ConfigError, ValueError, OSError) as error:
        log.error("bad_configuration", reason=str(error))
        return 2
    producer = FrameProducer(scene, config.fps, config.jpeg_quality, log, stop)
    app = CameraApp(config.camera_id, producer, stop)
    server = start_http_server(config.host, config.port, CameraHandler, app, log)
    if server is None:
        return 2
    producer.start()
    log.info(
        "started", camera=config.camera_id, host=config.host, port=server.server_address[1],
        fps=config.fps, size=f"{config.width}x{config.height}",
        source=config.video_path or config.text_source,
    )
    stop.wait()
    stop_http_server(server)
    producer.join(timeout=5)
    log.info("stopped", camera=config.camera_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
