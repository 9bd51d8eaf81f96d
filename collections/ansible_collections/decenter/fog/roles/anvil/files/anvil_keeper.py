#!/usr/bin/env python
# (c) decenter-fog contributors; Apache-2.0
"""The lab chain with its state written on every block (standard library only).

  anvil_keeper.py --host H --port P --state FILE -- ANVIL [ANVIL ARGS..]

Starts anvil on a free loopback port (its output goes to this process's stdout) and serves JSON-RPC on H:P in
front of it. anvil itself only loads FILE at start (--load-state); this keeper writes it: after every request that
made a new block, before the answer leaves (so a transaction a client was told about is on disk), after blocks
mined on a timer (--block-time), and at the end. Each write goes to FILE.new, is synced, then renamed over FILE:
a kill -9 at any moment leaves the last complete state (anvil's own --state-interval writes in place, every
N seconds). SIGTERM: a last write, then anvil gets SIGTERM.
"""
import ctypes
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTENING = re.compile(r"Listening on (\S+):(\d+)")
LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_keeper():
    """In anvil, before exec: SIGTERM when the keeper dies (even by SIGKILL), so no chain runs unkept."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Keeper:
    def __init__(self, state, upstream):
        self.state = state
        self.upstream = upstream
        self.lock = threading.Lock()
        self.saved_block = None

    def call(self, method, params=()):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        return json.loads(self.forward(body))["result"]

    def forward(self, body):
        request = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.read()

    def save_if_new_block(self):
        """Write the state if a block was made since the last write; one writer at a time."""
        with self.lock:
            block = self.call("eth_blockNumber")
            if block == self.saved_block:
                return
            dump = bytes.fromhex(self.call("anvil_dumpState")[2:])
            text = gzip.decompress(dump) if dump[:2] == b"\x1f\x8b" else dump
            with open(self.state + ".new", "wb") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(self.state + ".new", self.state)
            self.saved_block = block


def serve(keeper, host, port):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle on, the body waits for the client's delayed ACK
        # (40 ms per request on a kept-alive connection).
        disable_nagle_algorithm = True

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                answer = keeper.forward(body)
                keeper.save_if_new_block()
            except Exception as error:  # anvil is gone or failed: say so as JSON-RPC would
                answer = json.dumps({"jsonrpc": "2.0", "id": None,
                                     "error": {"code": -32603, "message": "lab chain: %s" % error}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv):
    split = argv.index("--")
    options = dict(zip(argv[1:split:2], argv[2:split:2]))
    host, port, state = options["--host"], int(options["--port"]), options["--state"]
    command = argv[split + 1:] + ["--host", "127.0.0.1", "--port", "0"]
    if os.path.exists(state):
        command += ["--load-state", state]
    anvil = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             preexec_fn=die_with_keeper)
    upstream = None
    for line in anvil.stdout:  # bounded by anvil's start-up output; it prints its address once ready
        sys.stdout.write(line.decode("utf-8", "replace"))
        found = LISTENING.search(line.decode("utf-8", "replace"))
        if found:
            upstream = "http://%s:%s" % found.groups()
            break
    sys.stdout.flush()
    if upstream is None:
        sys.exit("anvil exited before it listened (code %s)" % anvil.wait())
    threading.Thread(target=lambda: [sys.stdout.buffer.write(x) or sys.stdout.flush() for x in anvil.stdout],
                     daemon=True).start()
    keeper = Keeper(state, upstream)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    server = serve(keeper, host, port)
    while not stopping.wait(0.5):  # blocks mined on a timer (--block-time) are written within 0.5 s
        if anvil.poll() is not None:
            break
        try:
            keeper.save_if_new_block()
        except Exception as error:
            sys.stdout.write("anvil_keeper: could not write the state: %s\n" % error)
    server.shutdown()
    if anvil.poll() is None:
        try:
            keeper.save_if_new_block()
        finally:
            anvil.terminate()
            try:
                anvil.wait(10)
            except subprocess.TimeoutExpired:
                anvil.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
