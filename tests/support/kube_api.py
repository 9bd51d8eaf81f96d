"""Start and drive the Kubernetes API test server (tests.support.kube_api_server) from tests.

`KubeApi(workdir)` runs the server as its own process on 127.0.0.1 (Ansible modules run in other
processes, so it cannot live inside pytest), waits until it answers, and offers the kubeconfig, token,
CA, a kubernetes ApiClient and the test knobs. The `kube_api` fixture gives each test a fresh server.
"""
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.playbook_run import run_playbook as support_run_playbook
from tests.support.process import stop_process

ROOT = Path(__file__).resolve().parents[2]


class KubeApi:
    """A running Kubernetes API test server process; stop() ends it."""

    def __init__(self, workdir, nodes=(), extra_args=(), token=None):
        self.state = Path(workdir)
        self.state.mkdir(parents=True, exist_ok=True)
        info_file = self.state / "server.json"
        if info_file.exists():
            info_file.unlink()
        args = [sys.executable, "-m", "tests.support.kube_api_server", "--state-dir", str(self.state)]
        for node in nodes:
            args += ["--node", node]
        args += list(extra_args)
        env = dict(os.environ)
        if token:
            env["KUBE_TEST_SERVER_TOKEN"] = token  # not on the command line: ps would show it
        self.log_path = self.state / "server.log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):  # bounded: the server listens ~0.5 s after launch (key generation, imports)
            if self.proc.poll() is not None:
                raise RuntimeError("kube API test server exited with %s:\n%s"
                                   % (self.proc.returncode, self.log_path.read_text()[-3000:]))
            if info_file.exists():
                self.info = json.loads(info_file.read_text())
                if self._ready():
                    break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("kube API test server did not answer:\n%s" % self.log_path.read_text()[-3000:])
        self.url = self.info["url"]
        self.port = self.info["port"]
        self.ca = self.info["ca"]
        self.kubeconfig = self.info["kubeconfig"]
        self.token = Path(self.info["token_file"]).read_text().strip()
        self.control_token = Path(self.info["control_token_file"]).read_text().strip()

    def _ssl(self):
        return ssl.create_default_context(cafile=self.info["ca"])

    def _ready(self):
        try:
            with urllib.request.urlopen(self.info["url"] + "/readyz", context=self._ssl(), timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def request(self, method, path, body=None, token=None, content_type="application/json"):
        """(status, parsed JSON) of one request with `token` (default: the admin token; "": anonymous)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token != "":  # "" sends no Authorization header: an anonymous request
            req.add_header("Authorization", "Bearer %s" % (self.token if token is None else token))
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self._ssl(), timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def control(self, **knobs):
        """Set test knobs: node_ready={name: bool}, default_node_ready, deployment_readiness,
        add_tokens/revoke_tokens=[...], fail=[{"method", "path" (regex), "code", "times"}]."""
        req = urllib.request.Request(self.url + "/testserver/control", data=json.dumps(knobs).encode(),
                                     method="POST")
        req.add_header("X-Test-Control-Token", self.control_token)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, context=self._ssl(), timeout=10) as r:
            return json.loads(r.read())

    def api_client(self, token=None):
        """A kubernetes.client.ApiClient for this server, verifying TLS against its CA."""
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = self.url
        cfg.ssl_ca_cert = self.ca
        cfg.verify_ssl = True
        cfg.api_key = {"authorization": "Bearer %s" % (self.token if token is None else token)}
        return client.ApiClient(cfg)

    def stop(self):
        stop_process(self.proc, 10)
        self.log.close()


@pytest.fixture
def kube_api(tmp_path):
    """A fresh Kubernetes API test server for one test (nodes: none; add them through the API)."""
    server = KubeApi(tmp_path / "kube-api")
    yield server
    server.stop()


def kube_playbook(playbook, extra_vars=None, env=None, timeout=300, inventory=None, args=()):
    """A PlaybookRun of ansible-playbook (tests.support.playbook_run, default output) with the venv's python, which
    has kubernetes, as the hosts' interpreter; on localhost unless `inventory`."""
    return support_run_playbook(
        Path(playbook), inventory=inventory, args=args, callback=None, timeout=timeout,
        extra_vars=dict({"ansible_python_interpreter": sys.executable}, **(extra_vars or {})),
        env=dict({"PATH": str(ROOT / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", "")}, **(env or {})))


def run_playbook(playbook, extra_vars=None, env=None, timeout=300, inventory=None, args=()):
    """(rc, recap, output) of kube_playbook.

    recap is {"ok": n, "changed": n, "failed": n, ...} for localhost, or {} if the play did not get that far.
    """
    run = kube_playbook(playbook, extra_vars=extra_vars, env=env, timeout=timeout, inventory=inventory, args=args)
    return run.rc, run.recap, run.output
