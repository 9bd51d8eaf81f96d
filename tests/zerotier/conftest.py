"""Fixtures of the ZeroTier tests: HTTP stand-ins of the ZeroTier APIs on loopback (tests/support/zerotier_stand_in,
real processes), and real `ansible-playbook` runs of the modules and the role against them.

No ZeroTier controller or zerotier-one can run here: the stand-in speaks the documented APIs (Central v1, the
self-hosted controller's /controller API, the zerotier-one service API), nothing more.
"""
import json
import secrets
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.playbook_run import run_playbook as support_run_playbook
from tests.support.process import stop_process

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)
HOST = "localhost"
NWID = "1c33c1ced0000001"        # served by every controller stand-in of these tests
UNKNOWN_NWID = "1c33c1ced0000bad"  # served by none
ROUTE = "10.147.17.0/24"


class StandIn:
    """One stand-in process (`python -m tests.support.zerotier_stand_in`) on 127.0.0.1, port picked by the OS."""

    def __init__(self, workdir, flavor, token=None, *args):
        self.dir = Path(tempfile.mkdtemp(prefix="zt-%s-" % flavor, dir=str(workdir)))
        self.flavor = flavor
        cmd = [str(PYTHON), "-m", "tests.support.zerotier_stand_in", "--flavor", flavor, "--port", "0",
               "--state-dir", str(self.dir / "state"), "--port-file", str(self.dir / "port")]
        if token:  # Central issues tokens; a controller or node writes its own authtoken.secret
            (self.dir / "token").write_text(token)
            cmd += ["--token-file", str(self.dir / "token")]
        self.log = open(str(self.dir / "log"), "w")
        self.proc = subprocess.Popen(cmd + list(args), cwd=str(ROOT), stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):  # bounded: the stand-in binds within a few hundred ms
            if (self.dir / "port").exists():
                break
            if self.proc.poll() is not None:
                raise RuntimeError("stand-in exited: %s" % (self.dir / "log").read_text())
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("stand-in did not start: %s" % (self.dir / "log").read_text())
        self.port = int((self.dir / "port").read_text())
        self.url = "http://127.0.0.1:%d" % self.port
        self.token = token or (self.dir / "state" / "authtoken.secret").read_text().strip()
        self.token_file = str(self.dir / "token") if token else str(self.dir / "state" / "authtoken.secret")

    def request(self, method, path, body=None):
        """(status, JSON) of a direct request with the right token: the tests' independent view."""
        headers = ({"Authorization": "token " + self.token} if self.flavor == "central"
                   else {"X-ZT1-Auth": self.token})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def member(self, nwid, node):
        """The member as the stand-in holds it (None when it does not exist)."""
        prefix = "/api/v1" if self.flavor == "central" else "/controller"
        status, body = self.request("GET", "%s/network/%s/member/%s" % (prefix, nwid, node))
        if status == 404:
            return None
        assert status == 200, (status, body)
        return body.get("config", body) if self.flavor == "central" else body

    def stop(self):
        stop_process(self.proc, 10)
        self.log.close()


@pytest.fixture
def stand_ins(tmp_path):
    """Start stand-ins with `stand_ins(flavor, token, *args)`; all are stopped after the test."""
    started = []

    def start(flavor, token=None, *args):
        s = StandIn(tmp_path, flavor, token, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def controller_args():
    return ["--network", "%s:lab:%s" % (NWID, ROUTE)]


@pytest.fixture
def central(stand_ins):
    return stand_ins("central", "central-" + secrets.token_hex(16), *controller_args())


@pytest.fixture
def controller(stand_ins):
    return stand_ins("controller", None, *controller_args())


@pytest.fixture(params=["central", "controller"])
def any_controller(request, stand_ins):
    token = ("central-" + secrets.token_hex(16)) if request.param == "central" else None
    return stand_ins(request.param, token, *controller_args())


def api_url(stand_in):
    return stand_in.url + ("/api/v1" if stand_in.flavor == "central" else "")


def play(tasks, name="ZeroTier test play"):
    """A one-play playbook on localhost; `tasks` is YAML text."""
    return ("- name: %s\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" % name
            + textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ") + "\n")


def run_playbook(playbook_text, extra_vars=None, env=None, args=(), secrets_=()):
    """ansible-playbook from the repository root (tests.support.playbook_run); ZEROTIER_* of this environment does
    not leak in; fails on a traceback or on any of `secrets_` in the output."""
    return support_run_playbook(playbook_text, extra_vars=extra_vars, args=args, secrets=secrets_, strip=("ZEROTIER_",),
                                env=dict({"ANSIBLE_PYTHON_INTERPRETER": str(PYTHON)}, **(env or {})))
