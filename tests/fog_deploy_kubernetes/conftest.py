"""fog_deploy with fog_deploy_target kubernetes against the Kubernetes API test server (not a cluster: see
tests/support/kube_api_server.py). One Node per region of simple_ocr's placement, all Ready."""
import secrets
from pathlib import Path

import pytest

from tests.support.kube_api import ROOT, KubeApi, kube_playbook

PLAYBOOK = Path(__file__).parent / "playbooks" / "deploy.yml"
INVENTORY = Path(__file__).parent / "inventory.yml"
NODES = ["cloud-1,region=CLOUD,tier=0", "povo-1,region=POVO,tier=1", "keti-1,region=SEOUL-KETI,tier=1"]


class Deployer:
    """Runs playbooks/deploy.yml against one server, with the API address, CA and token in the environment."""

    def __init__(self, server, password):
        self.server = server
        self.password = password
        self.env = {"FDK_API_HOST": server.url, "FDK_CA_CERT": server.ca, "FDK_API_TOKEN": server.token,
                    "FDK_REPOSITORY_PASSWORD": password, "FDK_KUBECONFIG": ""}

    def run(self, *extra, env=None):
        """(rc, recaps {host: {ok, changed, ...}}, output) of one ansible-playbook run."""
        full_env = dict(self.env, **(env or {}))
        args = ["-e", "lab_root=%s" % ROOT]
        for e in extra:
            args += ["-e", e]
        run = kube_playbook(PLAYBOOK, env=full_env, inventory=INVENTORY, args=args)
        return run.rc, run.recaps, run.output

    def get(self, path):
        status, body = self.server.request("GET", path)
        assert status == 200, (path, status, body)
        return body


@pytest.fixture
def deployer(tmp_path):
    server = KubeApi(tmp_path / "kube-api", nodes=NODES)
    # A fresh password per test, as the lab generates one (letters and digits: it goes into a Redis URL).
    yield Deployer(server, secrets.token_hex(16))
    server.stop()


def changed(recaps):
    return sum(r.get("changed", 0) for r in recaps.values())


def failed(recaps):
    return sum(r.get("failed", 0) for r in recaps.values())
