"""The app's Webserver, made reachable from the browser on loopback through the GUI.

In the lab the Webserver listens on CLOUD's private LAN address (10.10.0.10) inside CLOUD's network
namespace, which the root namespace cannot reach (the lab's gateway namespace sits on the WAN only, so
it cannot either). The GUI starts one forwarder inside that namespace (forward.py: a Unix socket on the
shared filesystem piped to the Webserver's address) and serves the Webserver through it on a second
loopback port: a port of its own makes it another origin than the GUI, so the Webserver's page, which
shows untrusted OCR text, can never read the GUI's pages or its CSRF token. Without a namespace (production)
the proxy talks to the Webserver's URL directly.
"""
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

PASS_REQUEST = ("Accept", "Accept-Language", "If-None-Match", "If-Modified-Since", "Last-Event-ID")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "set-cookie", "server", "date",
              "content-encoding"}


class WebserverUnavailable(RuntimeError):
    pass


class WebserverProxy:
    def __init__(self, settings):
        self.settings = settings
        self.url = None
        self.netns = None
        self._proc = None
        self._dir = tempfile.mkdtemp(prefix="resource-selector-")
        self._socket = os.path.join(self._dir, "webserver.sock")
        self._lock = asyncio.Lock()

    def set_target(self, url, netns):
        if (url, netns) != (self.url, self.netns):
            self.stop_forwarder()
            self.url, self.netns = url, netns

    # ------------------------------------------------------------------ forwarder in the namespace

    async def _connector(self):
        if self.url is None:
            raise WebserverUnavailable("the app's Webserver is not placed on any host yet; deploy the app first.")
        if not self.netns:
            return aiohttp.TCPConnector(force_close=True)
        async with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                await asyncio.to_thread(self._start_forwarder)
        return aiohttp.UnixConnector(path=self._socket, force_close=True)

    def _start_forwarder(self):
        target = urlsplit(self.url)
        if os.path.exists(self._socket):
            os.unlink(self._socket)
        command = ["ip", "netns", "exec", self.netns, sys.executable, "-m", "apps.resource_selector.forward",
                   "--unix", self._socket, "--to", "%s:%d" % (target.hostname, target.port or 80),
                   "--parent", str(os.getpid())]
        self._proc = subprocess.Popen(command, cwd=str(self.settings.root), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # bounded: the forwarder is up in well under a second
            if os.path.exists(self._socket):
                return
            if self._proc.poll() is not None:
                detail = self._proc.stderr.read().decode(errors="replace").strip().splitlines()
                self._proc = None
                raise WebserverUnavailable("cannot reach the Webserver's network namespace %s (%s); is the lab "
                                           "up (playbooks/lab_up.yml)?" % (self.netns, detail[-1] if detail
                                                                           else "no message"))
            time.sleep(0.05)
        raise WebserverUnavailable("the forwarder into namespace %s did not start within 10 s." % self.netns)

    def stop_forwarder(self):
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def close(self):
        self.stop_forwarder()
        try:
            if os.path.exists(self._socket):
                os.unlink(self._socket)
            os.rmdir(self._dir)
        except OSError:
            pass

    # ------------------------------------------------------------------------------ requests

    def _upstream(self, path_qs):
        return self.url.rstrip("/") + path_qs

    async def get_json(self, path_qs, timeout=10):
        """GET a JSON document of the Webserver (its /api/...), or raise WebserverUnavailable."""
        connector = await self._connector()
        try:
            async with aiohttp.ClientSession(connector=connector,
                                             timeout=aiohttp.ClientTimeout(total=timeout)) as session:
                async with session.get(self._upstream(path_qs)) as response:
                    if response.status != 200:
                        raise WebserverUnavailable("the Webserver answered %d for %s." % (response.status, path_qs))
                    return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
            raise WebserverUnavailable("the Webserver at %s did not answer (%s)." % (self.url, type(e).__name__))

    async def handle(self, request):
        """Every GET of the proxy's origin goes to the Webserver; the response is streamed back."""
        if request.method not in ("GET", "HEAD"):
            return web.json_response({"error": "the Webserver proxy is read-only."}, status=405)
        try:
            connector = await self._connector()
        except WebserverUnavailable as e:
            return web.json_response({"error": str(e)}, status=503)
        headers = dict((k, v) for k, v in request.headers.items() if k in PASS_REQUEST)
        session = aiohttp.ClientSession(connector=connector,
                                        timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        try:
            upstream = await session.request(request.method, self._upstream(request.path_qs), headers=headers,
                                             allow_redirects=False)
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            await session.close()
            return web.json_response({"error": "the Webserver at %s did not answer (%s); is the app deployed?"
                                      % (self.url, type(e).__name__)}, status=502)
        try:
            response = web.StreamResponse(status=upstream.status, headers=dict(
                (k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP))
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
        except (ConnectionResetError, aiohttp.ClientError, asyncio.CancelledError):
            raise
        finally:
            upstream.release()
            await session.close()
