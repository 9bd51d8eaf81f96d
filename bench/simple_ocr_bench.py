#!/usr/bin/env python3
"""Benchmark of simple_ocr's Processor against a naive baseline, side by side in one run.

One simulated camera serves both. Our Processor (change detection + preprocessing) and the naive
baseline (OCR on every frame it can take, no preprocessing) each run pinned to their own core,
read the camera through a byte-counting proxy and write to Redis through another. Over the
measurement window it reports frames handled, CPU time, latency from frame served to text
stored, accuracy, OCR calls avoided, and bytes leaving the edge against bytes of the stream.

    .venv/bin/python bench/simple_ocr_bench.py [--seconds 60] [--write bench/simple_ocr.md]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "apps" / "simple_ocr"
sys.path.insert(0, str(APP_DIR))

from simple_ocr.repository import Repository  # noqa: E402

from made_by import publish  # noqa: E402  (bench/, the script's own folder)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CountingProxy:
    """A loopback TCP forwarder that counts bytes in each direction."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sent_upstream = 0  # client -> server: what the client sends out
        self.sent_downstream = 0  # server -> client
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            threading.Thread(target=self._pipe, args=(client, server, "sent_upstream"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, "sent_downstream"), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, counter: str) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
                with self._lock:
                    setattr(self, counter, getattr(self, counter) + len(chunk))
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.sent_upstream, self.sent_downstream


def cpu_seconds(pid: int) -> float:
    """User + system time of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def start(module: str, env: dict, log_path: Path, core: int | None = None) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONPATH": str(APP_DIR), **env}
    pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
    return subprocess.Popen([sys.executable, "-m", module], env=full_env, preexec_fn=pin,
                            stdout=log_path.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: timed out waiting for {what}")


def log_events(path: Path, event: str) -> list[dict]:
    entries = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == event:
                entries.append(entry)
    return entries


class Pipeline:
    """One Processor under test, with its proxies and its own Redis database."""

    def __init__(self, name: str, core: int, camera_port: int, redis_port: int, db: int,
                 extra_env: dict, work: Path) -> None:
        self.name = name
        self.camera_proxy = CountingProxy(camera_port)
        self.redis_proxy = CountingProxy(redis_port)
        self.health_port = free_port()
        self.repository = Repository.from_url(f"redis://127.0.0.1:{redis_port}/{db}")
        self.log_path = work / f"{name}.log"
        self.process = start("simple_ocr.processor", {
            "OCR_CAMERA_ID": "cam1",
            "OCR_CAMERA_URL": f"http://127.0.0.1:{self.camera_proxy.port}/stream.mjpg",
            "OCR_REDIS_URL": f"redis://127.0.0.1:{self.redis_proxy.port}/{db}",
            "OCR_BUFFER_PATH": str(work / f"{name}.sqlite3"),
            "OCR_HEALTH_PORT": str(self.health_port),
            **extra_env,
        }, self.log_path, core)

    def health(self) -> dict:
        return get_json(f"http://127.0.0.1:{self.health_port}/healthz")

    def sample(self) -> dict:
        return {"health": self.health(), "cpu": cpu_seconds(self.process.pid),
                "camera_bytes": self.camera_proxy.counts()[1], "edge_bytes": self.redis_proxy.counts()[0],
                "at": time.time()}


def line_on_screen(shown_events: list[dict], at: float) -> str | None:
    """The line the camera was showing at unix time `at` (None before the first one)."""
    index = bisect.bisect_right([e["at"] for e in shown_events], at) - 1
    return shown_events[index]["text"] if index >= 0 else None


def measure(pipeline: Pipeline, before: dict, after: dict, shown_events: list[dict],
            expected: list[str]) -> dict:
    def delta(name: str) -> int:
        return after["health"][name] - before["health"][name]

    wall = after["at"] - before["at"]
    cpu = after["cpu"] - before["cpu"]
    examined = delta("frames_unchanged") + delta("ocr_calls")
    stored = [r for r in pipeline.repository.query(camera="cam1", since=before["at"], limit=100_000)
              if r.time <= after["at"]]
    shown = {}
    for event in shown_events:
        shown.setdefault(event["text"], event["at"])
    stored_texts = {r.text for r in stored}
    # A misread is charged to the line on screen when its frame was captured.
    misreads = [(line_on_screen(shown_events, r.time), r.text) for r in stored if r.text not in shown]
    misread_lines = {line for line, _ in misreads}
    latencies = sorted(int(r.id.split("-")[0]) / 1000 - shown[r.text] for r in stored if r.text in shown)
    camera_bytes = after["camera_bytes"] - before["camera_bytes"]
    edge_bytes = after["edge_bytes"] - before["edge_bytes"]
    return {
        "frames_received": delta("frames_received"),
        "frames_examined": examined,
        "fps": examined / wall,
        "cpu_s": cpu,
        "frames_per_cpu_s": examined / cpu if cpu else float("nan"),
        "ocr_calls": delta("ocr_calls"),
        "ocr_avoided": delta("frames_unchanged"),
        "accuracy": sum(text in stored_texts for text in expected) / len(expected) if expected else 0.0,
        "accuracy_clean": (sum(text in stored_texts and text not in misread_lines for text in expected)
                           / len(expected) if expected else 0.0),
        "misreads": misreads,
        "records": len(stored),
        "wrong_records": len(misreads),
        "latency_median": statistics.median(latencies) if latencies else float("nan"),
        "latency_p95": latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else float("nan"),
        "camera_bytes": camera_bytes,
        "edge_bytes": edge_bytes,
        "ratio": camera_bytes / edge_bytes if edge_bytes else float("inf"),
    }


def table(ours: dict, naive: dict, args: argparse.Namespace) -> str:
    rows = [
        ("frames received from the camera", "{frames_received}"),
        ("frames handled (change-checked or OCR'd)", "{frames_examined}"),
        ("frames handled per second (one core)", "{fps:.1f}"),
        ("CPU seconds used (incl. tesseract)", "{cpu_s:.1f}"),
        ("frames handled per CPU-second", "{frames_per_cpu_s:.1f}"),
        ("OCR calls", "{ocr_calls}"),
        ("OCR calls avoided by change detection", "{ocr_avoided}"),
        ("lines shown by the camera read exactly", "{accuracy:.1%}"),
        ("… and no misread of them stored", "{accuracy_clean:.1%}"),
        ("records stored / of them not a shown line", "{records} / {wrong_records}"),
        ("latency frame served → text stored, median (s)", "{latency_median:.2f}"),
        ("latency frame served → text stored, p95 (s)", "{latency_p95:.2f}"),
        ("bytes of the camera stream", "{camera_bytes:,}"),
        ("bytes the Processor sent (leaving the edge)", "{edge_bytes:,}"),
        ("stream bytes / bytes leaving the edge", "{ratio:,.0f}x"),
    ]
    lines = [
        f"Camera: 640x480, {args.fps:g} fps, noise σ={args.noise:g}, new line every {args.interval:g} s "
        f"(`random` source); window {args.seconds:g} s; each Processor pinned to one core. "
        f"Load average of the machine at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(other work slows OCR in wall time, and then fewer frames are seen unchanged).",
        "",
        "| metric | our pipeline | naive baseline |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {fmt.format(**ours)} | {fmt.format(**naive)} |" for label, fmt in rows]
    speedup = ours["frames_per_cpu_s"] / naive["frames_per_cpu_s"] if naive["frames_per_cpu_s"] else float("inf")
    lines += ["", f"Frames handled per CPU-second, ours / baseline: **{speedup:.1f}x** (goal ≥ 5x at equal or "
              f"better accuracy). Stream bytes / edge bytes: **{ours['ratio']:,.0f}x** (goal ≥ 1000x)."]
    lines += ["", "Misreads stored (line on screen → text stored):", ""]
    for name, result in (("our pipeline", ours), ("naive baseline", naive)):
        found = ", ".join(f"`{line}` → `{text}`" for line, text in result["misreads"]) or "none"
        lines.append(f"- {name}: {found}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between text changes")
    parser.add_argument("--noise", type=float, default=8.0)
    parser.add_argument("--write", type=Path, help="also write the table (markdown) to this file")
    args = parser.parse_args()
    if os.cpu_count() is None or os.cpu_count() < 2:
        print("bench: needs two cores (one per Processor)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="simple_ocr_bench."))
    processes: list[subprocess.Popen] = []
    try:
        redis_port = free_port()
        processes.append(subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(redis_port),
             "--save", "", "--dir", str(work)], stdout=(work / "redis.log").open("w"), stderr=subprocess.STDOUT))
        camera_port = free_port()
        camera_log = work / "camera.log"
        processes.append(start("simple_ocr.camera", {
            "CAMERA_PORT": str(camera_port), "CAMERA_FPS": str(args.fps), "CAMERA_TEXT_SOURCE": "random",
            "CAMERA_TEXT_INTERVAL": str(args.interval), "CAMERA_NOISE": str(args.noise), "CAMERA_SEED": "2026",
        }, camera_log))
        wait_for(lambda: get_json(f"http://127.0.0.1:{camera_port}/healthz"), 20, "the camera")
        wait_for(lambda: Repository.from_url(f"redis://127.0.0.1:{redis_port}/0").ping(), 20, "redis")

        ours = Pipeline("ours", 0, camera_port, redis_port, 0, {}, work)
        naive = Pipeline("naive", 1, camera_port, redis_port, 1,
                         {"OCR_CHANGE_DETECTION": "0", "OCR_PREPROCESS": "0"}, work)
        processes += [ours.process, naive.process]
        for pipeline in (ours, naive):
            wait_for(lambda p=pipeline: p.health()["frames_received"] > 0, 30, f"{pipeline.name} frames")
        time.sleep(args.warmup)

        before = {p.name: p.sample() for p in (ours, naive)}
        time.sleep(args.seconds)
        after = {p.name: p.sample() for p in (ours, naive)}
        time.sleep(args.interval + 3)  # let OCR calls in flight at the end finish and be stored

        shown_events = log_events(camera_log, "text_shown")
        window_start, window_end = before["ours"]["at"], after["ours"]["at"]
        # Lines fully shown inside the window: each was on screen `interval` seconds.
        expected = [e["text"] for e in shown_events
                    if window_start <= e["at"] and e["at"] + args.interval <= window_end]
        results = {p.name: measure(p, before[p.name], after[p.name], shown_events, expected) for p in (ours, naive)}
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)

    publish(table(results["ours"], results["naive"], args), "# simple_ocr benchmark", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
