"""`python -m simple_ocr.processor`: OCR one camera's stream into the Repository (see README)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.config import ConfigError, Env
from ..common.httpd import ServiceHandler, start_http_server, stop_http_server
from ..common.lifecycle import Backoff, stop_event_on_signals
from ..common.logs import get_logger
from ..repository import Repository
from .buffer import BufferInUse, DiskBuffer
from .change import ChangeDetector
from .ocr import DEFAULT_CHARSET, MIN_TEXT_CONTRAST, CheckedViews, LineReader, OcrResult, Tesseract, parse_charset
from .pipeline import OcrPipeline
from .stats import ProcessorStats
from .stream import LatestFrame, StreamReader
from .uploader import Uploader

log = get_logger("processor")
# Reads less sure than this are not stored. Of 840 lines under 7 conditions of bench/ocr_robustness_bench.py
# (another seed), every line read right was kept at 80 or more; single reads of shapes were 0-74 sure.
MIN_CONFIDENCE = 75.0
# A read where some character led its runner-up by less than this is not stored. Of 2,200 first reads of
# bench/ocr_robustness_bench.py's lines (seed 5003, the crop scaled up twice), 28 of 2,163 right ones
# had a character that close, and 16 of the 37 misread ones (`IQ` read `TQ`: `T` 84, `I` 66).
# Over that seed's bench run it took the wrong records stored from 10 to 8, the right ones from 2,108 to 2,095.
MIN_CHAR_MARGIN = 20.0


@dataclass(frozen=True)
class ProcessorConfig:
    camera_id: str
    camera_url: str
    redis_url: str
    redis_timeout_s: float
    buffer_path: Path
    buffer_max_records: int
    stream_timeout_s: float
    reconnect_min_s: float
    reconnect_max_s: float
    change_detection: bool
    preprocess: bool
    change_pixel_delta: int
    change_min_pixels: int
    tesseract_psm: int
    tesseract_lang: str
    tessdata_dir: str | None
    charset: str | None  # the characters tesseract may read; None: any
    min_text_contrast: float
    min_confidence: float
    min_char_margin: float
    check_below: float
    health_host: str
    health_port: int

    @classmethod
    def from_env(cls, env: Env | None = None) -> ProcessorConfig:
        env = env or Env()
        camera_id = env.str("OCR_CAMERA_ID", "cam1")
        return cls(
            camera_id=camera_id,
            camera_url=env.str("OCR_CAMERA_URL", "http://127.0.0.1:8081/stream.mjpg"),
            redis_url=env.str("OCR_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_timeout_s=env.float("OCR_REDIS_TIMEOUT_SECONDS", 2.0, minimum=0.1),
            buffer_path=Path(env.str("OCR_BUFFER_PATH", f"/var/lib/simple_ocr/buffer-{camera_id}.sqlite3")),
            buffer_max_records=env.int("OCR_BUFFER_MAX_RECORDS", 10_000, minimum=1),
            stream_timeout_s=env.float("OCR_STREAM_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            reconnect_min_s=env.float("OCR_RECONNECT_MIN_SECONDS", 0.5, minimum=0.01),
            reconnect_max_s=env.float("OCR_RECONNECT_MAX_SECONDS", 10.0, minimum=0.01),
            change_detection=env.bool("OCR_CHANGE_DETECTION", True),
            preprocess=env.bool("OCR_PREPROCESS", True),
            change_pixel_delta=env.int("OCR_CHANGE_PIXEL_DELTA", 24, minimum=1),
            change_min_pixels=env.int("OCR_CHANGE_MIN_PIXELS", 6, minimum=1),
            tesseract_psm=env.int("OCR_TESSERACT_PSM", 6, minimum=0),
            tesseract_lang=env.str("OCR_TESSERACT_LANG", "eng"),
            tessdata_dir=env.str("OCR_TESSDATA_DIR", "") or None,
            charset=charset_setting(env),
            min_text_contrast=env.float("OCR_MIN_TEXT_CONTRAST", MIN_TEXT_CONTRAST, minimum=1.0),
            min_confidence=env.float("OCR_MIN_CONFIDENCE", MIN_CONFIDENCE, minimum=0.0),
            min_char_margin=env.float("OCR_MIN_CHAR_MARGIN", MIN_CHAR_MARGIN, minimum=0.0),
            check_below=env.float("OCR_CHECK_BELOW_CONFIDENCE", CheckedViews.SURE, minimum=0.0),
            health_host=env.str("OCR_HEALTH_HOST", "127.0.0.1"),
            health_port=env.int("OCR_HEALTH_PORT", 8082, minimum=0),
        )


def charset_setting(env: Env) -> str | None:
    """OCR_CHARSET, spelled out (ocr.parse_charset); a ConfigError names the setting and its value."""
    spec = env.str("OCR_CHARSET", DEFAULT_CHARSET)
    try:
        return parse_charset(spec)
    except ValueError as error:
        raise ConfigError(f"OCR_CHARSET={spec!r}: {error}") from None


def recognizer(config: ProcessorConfig) -> Callable[[np.ndarray], OcrResult]:
    """The function from frame to text; without preprocessing it is the naive baseline.

    Loads tesseract now, so a missing language or a bad mode stops the start with a ConfigError.
    """
    try:
        engine = Tesseract(config.tesseract_lang, config.tesseract_psm, config.tessdata_dir, config.charset)
    except ValueError as error:
        raise ConfigError(f"OCR_TESSERACT_LANG={config.tesseract_lang!r}, OCR_TESSERACT_PSM="
                          f"{config.tesseract_psm}: {error}") from None
    if config.preprocess:
        return LineReader(engine, config.min_text_contrast, config.check_below)
    return engine


def rereader(recognize: Callable[[np.ndarray], OcrResult]) -> Callable[[np.ndarray, int], OcrResult] | None:
    """How the pipeline reads a line's later frames: a LineReader from its crop's other view; else None."""
    return recognize if isinstance(recognize, LineReader) else None


class HealthHandler(ServiceHandler):
    log = log

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/healthz":
            self.send_not_found()
            return
        threads_alive = all(thread.is_alive() for thread in self.app["threads"])
        body = {"status": "ok" if threads_alive else "a worker thread stopped",
                "camera": self.app["camera"], **self.app["stats"].snapshot()}
        self.send_json(200 if threads_alive else 503, body)


def main() -> int:
    stop = stop_event_on_signals()
    try:
        config = ProcessorConfig.from_env()
        recognize = recognizer(config)
        buffer = DiskBuffer(config.buffer_path, config.buffer_max_records)
    except BufferInUse as error:
        log.error("buffer_in_use", reason=str(error))
        return 3
    except (ConfigError, ValueError, OSError) as error:
        log.error("bad_configuration", reason=str(error))
        return 2
    stats = ProcessorStats()
    stats.set(buffered=len(buffer))
    frames = LatestFrame()
    reader = StreamReader(
        config.camera_url, config.stream_timeout_s,
        Backoff(config.reconnect_min_s, config.reconnect_max_s), frames, stats, log, stop,
    )
    uploader = Uploader(
        buffer, Repository.from_url(config.redis_url, config.redis_timeout_s),
        Backoff(config.reconnect_min_s, config.reconnect_max_s), stats, log, stop,
    )
    detector = (
        ChangeDetector(config.change_pixel_delta, config.change_min_pixels)
        if config.change_detection else None
    )
    pipeline = OcrPipeline(
        config.camera_id, frames, detector, recognize, uploader.submit, stats, log, stop, config.min_confidence,
        config.min_char_margin, rereader(recognize),
    )
    threads = [reader.thread, pipeline.thread, uploader.thread]
    app = {"camera": config.camera_id, "stats": stats, "threads": threads}
    server = start_http_server(config.health_host, config.health_port, HealthHandler, app, log)
    if server is None:
        return 2
    threading.excepthook = log_crash
    for thread in threads:
        thread.start()
    log.info(
        "started", camera=config.camera_id, url=config.camera_url, buffered=len(buffer),
        change_detection=config.change_detection, preprocess=config.preprocess,
        min_confidence=config.min_confidence, min_char_margin=config.min_char_margin,
        charset=config.charset, min_text_contrast=config.min_text_contrast,
        health_port=server.server_address[1],
    )
    code = watch(threads, stop)
    frames.close()  # the OCR loop would otherwise see the stop only after its 0.5 s wait for a frame
    pipeline.thread.join(timeout=10)  # lets an OCR call in progress hand over its record
    # The reader leaves OpenCV's read at the next frame (or its read timeout). Left running, it could come back
    # while the interpreter finalizes, which ends it with a forced unwind through OpenCV: SIGABRT ("FATAL:
    # exception not rethrown") instead of this service's exit code.
    reader.thread.join(timeout=config.stream_timeout_s + 1)
    uploader.wake()  # its loop would otherwise see the stop only after its 1 s wait for work
    uploader.thread.join(timeout=5)
    # One last attempt; what is not stored stays on disk for the next start.
    try:
        stored_all = not uploader.thread.is_alive() and uploader.flush()
    except Exception as error:  # the fault that stopped the uploader: the records stay on disk
        log.error("final_flush_failed", reason=repr(error))
        stored_all = False
    stop_http_server(server)
    log.info("stopped", buffered=len(buffer), flushed=stored_all, exit_code=code)
    buffer.close()
    return code


def log_crash(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: a worker thread's uncaught exception, as one structured log line."""
    name = args.thread.name if args.thread else "?"
    log.error("worker_thread_crashed", thread=name, error=repr(args.exc_value))


def watch(threads: list[threading.Thread], stop: threading.Event) -> int:
    """Wait for a stop signal (0), or for a worker thread to die (1): a Processor missing a thread would
    stall silently, so it stops and its supervisor starts it anew."""
    while not stop.wait(0.5):
        dead = [thread.name for thread in threads if not thread.is_alive()]
        if dead:
            log.error("worker_thread_stopped", threads=dead, action="exiting so the supervisor restarts")
            stop.set()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
