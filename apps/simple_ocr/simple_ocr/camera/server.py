"""HTTP endpoints of the camera: the MJPEG stream, a single snapshot, health."""

from __future__ import annotations

import threading

from ..common.httpd import ServiceHandler
from ..common.logs import get_logger

BOUNDARY = "frame"
log = get_logger("camera")


class CameraApp:
    def __init__(self, camera_id: str, producer, stop: threading.Event) -> None:
        self.camera_id = camera_id
        self.producer = producer
        self.stop = stop
        self.clients = 0
        self._lock = threading.Lock()

    def client_joined(self) -> None:
        with self._lock:
            self.clients += 1

    def client_left(self) -> None:
        with self._lock:
            self.clients -= 1


class CameraHandler(ServiceHandler):
    log = log

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path in ("/stream.mjpg", "/video"):
            self._stream()
        elif path == "/snapshot.jpg":
            frame = self.app.producer.latest()
            if frame is None:
                self.send_json(503, {"error": "no frame yet"})
            else:
                self.send_body(200, frame.jpeg, "image/jpeg")
        elif path == "/healthz":
            latest = self.app.producer.latest()
            self.send_json(200, {
                "status": "ok",
                "camera": self.app.camera_id,
                "frames": latest.number if latest else 0,
                "clients": self.app.clients,
            })
        else:
            self.send_not_found()

    def _stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        app = self.app
        app.client_joined()
        log.info("client_connected", client=self.client_address[0])
        sent = 0
        try:
            while not app.stop.is_set():
                frame = app.producer.wait_newer(sent, timeout=1.0)
                if frame is None:
                    continue
                header = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(frame.jpeg)}\r\n\r\n"
                ).encode()
                self.wfile.write(header + frame.jpeg + b"\r\n")
                sent = frame.number
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        finally:
            app.client_left()
            log.info("client_disconnected", client=self.client_address[0])
