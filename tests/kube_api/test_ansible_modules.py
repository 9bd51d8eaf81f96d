"""kubernetes.core modules (k8s, k8s_info, k8s_drain) against the Kubernetes API test server, twice."""
from pathlib import Path

from tests.support.kube_api import KubeApi, run_playbook

PLAYBOOK = Path(__file__).parent / "playbooks" / "modules.yml"


def test_modules_apply_wait_drain_and_are_idempotent(tmp_path):
    server = KubeApi(tmp_path / "kube", nodes=["povo,region=POVO"])
    try:
        rc, recap, out = run_playbook(PLAYBOOK, {"kubeconfig": server.kubeconfig})
        assert rc == 0, out[-4000:]
        assert recap["changed"] == 6, out[-4000:]   # secret, deployment, service, pod, label, drain
        rc, recap, out = run_playbook(PLAYBOOK, {"kubeconfig": server.kubeconfig, "drained": True})
        assert rc == 0, out[-4000:]
        assert recap["changed"] == 0, out[-4000:]
    finally:
        server.stop()


def test_wrong_token_is_a_401_for_the_modules(tmp_path):
    server = KubeApi(tmp_path / "kube", nodes=["povo,region=POVO"])
    try:
        server.control(revoke_tokens=[server.token])
        rc, recap, out = run_playbook(PLAYBOOK, {"kubeconfig": server.kubeconfig})
        assert rc != 0 and recap.get("failed") == 1
        assert "401" in out or "Unauthorized" in out, out[-3000:]
    finally:
        server.stop()
