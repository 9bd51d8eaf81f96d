"""The kubeadm stand-in (tests/support/kubeadm_stand_in.py) against the Kubernetes API test server on loopback.

It is what the molecule scenario runs as `kubeadm` on the joining node, so its refusals must be kubeadm's:
a CA that is not pinned, an expired or unknown bootstrap token, a Ready Node of the same name, a node that
already joined, a configuration kubeadm's strict decoder rejects.
"""
import base64
import datetime
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.decenter.fog.plugins.filter.kube_ca_hash import kube_ca_hash

STAND_IN = Path(__file__).resolve().parents[2] / "tests" / "support" / "kubeadm_stand_in.py"
# The stand-in runs on lab hosts with the system python3; run it the same way here.
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def make_token(api, token_id="abcdef", secret="0123456789abcdef", expires_in=900, auth="true"):
    expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in))
    data = {"token-id": token_id, "token-secret": secret, "usage-bootstrap-authentication": auth,
            "usage-bootstrap-signing": "true", "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}
    status, doc = api.request("POST", "/api/v1/namespaces/kube-system/secrets", {
        "apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": "bootstrap-token-" + token_id, "namespace": "kube-system"},
        "data": {k: _b64(v) for k, v in data.items()}})
    assert status == 201, doc
    return "%s.%s" % (token_id, secret)


def write_config(path, api, token, ca_hash=None, name="seoul-keti", node_ip="10.99.0.101", **extra):
    cfg = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "JoinConfiguration",
           "discovery": {"bootstrapToken": {"apiServerEndpoint": api.url.split("//")[1], "token": token,
                                            "caCertHashes": [ca_hash or kube_ca_hash(Path(api.ca).read_text())]}},
           "timeouts": {"discovery": "10s"},
           "nodeRegistration": {"name": name, "criSocket": "unix:///run/containerd/containerd.sock",
                                "kubeletExtraArgs": [{"name": "node-ip", "value": node_ip}]}}
    cfg.update(extra)
    path.write_text(yaml.safe_dump(cfg))
    return path


def kubeadm(root, *args, stdin=None):
    env = {"KUBEADM_STAND_IN_ROOT": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([PYTHON, str(STAND_IN), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def node_root(tmp_path):
    root = tmp_path / "node"
    root.mkdir()
    return root


def test_join_registers_the_node_and_writes_kubelet_conf(kube_api, node_root, tmp_path):
    cfg = write_config(tmp_path / "join.yaml", kube_api, make_token(kube_api))
    proc = kubeadm(node_root, "join", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "This node has joined the cluster" in proc.stdout
    status, node = kube_api.request("GET", "/api/v1/nodes/seoul-keti")
    assert status == 200
    assert {"type": "InternalIP", "address": "10.99.0.101"} in node["status"]["addresses"]
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "seoul-keti"
    assert node["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"].startswith("unix://")
    kubelet_conf = yaml.safe_load((node_root / "etc/kubernetes/kubelet.conf").read_text())
    assert kubelet_conf["clusters"][0]["cluster"]["server"] == kube_api.url
    ca = base64.b64decode(kubelet_conf["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca == Path(kube_api.ca).read_bytes() == (node_root / "etc/kubernetes/pki/ca.crt").read_bytes()
    assert "0123456789abcdef" not in (node_root / "etc/kubernetes/kubelet.conf").read_text()


def test_a_ca_that_is_not_pinned_is_refused(kube_api, node_root, tmp_path):
    cfg = write_config(tmp_path / "join.yaml", kube_api, make_token(kube_api), ca_hash="sha256:" + "ab" * 32)
    proc = kubeadm(node_root, "join", "--config", str(cfg))
    assert proc.returncode == 1
    assert "none of the public keys \"%s\" are pinned" % kube_ca_hash(Path(kube_api.ca).read_text()) in proc.stderr
    assert kube_api.request("GET", "/api/v1/nodes/seoul-keti")[0] == 404
    assert not (node_root / "etc/kubernetes/kubelet.conf").exists()


@pytest.mark.parametrize("case, message", [
    # The server signs cluster-info only for live tokens: kubeadm finds no signature for its token id.
    ("unknown", 'token id "zzzzzz" is invalid for this cluster or it has expired'),
    ("expired", 'token id "abcdef" is invalid for this cluster or it has expired'),
    # A signature made with another secret does not verify.
    ("wrong-secret", "failed to verify JWS signature of received cluster info object"),
    # Signed, but not usable for authentication: the API server answers 401 to the kubelet's registration.
    ("not-for-authentication", "the API server rejected bootstrap token abcdef (Unauthorized)"),
])
def test_a_token_the_server_does_not_accept_is_refused(kube_api, node_root, tmp_path, case, message):
    token = "zzzzzz.0123456789abcdef"
    if case == "expired":
        token = make_token(kube_api, expires_in=-60)
    elif case == "wrong-secret":
        token = make_token(kube_api).split(".")[0] + ".ffffffffffffffff"
    elif case == "not-for-authentication":
        token = make_token(kube_api, auth="false")
    cfg = write_config(tmp_path / "join.yaml", kube_api, token)
    proc = kubeadm(node_root, "join", "--config", str(cfg))
    assert proc.returncode == 1
    assert message in proc.stderr
    assert kube_api.request("GET", "/api/v1/nodes/seoul-keti")[0] == 404
    assert not (node_root / "etc/kubernetes/kubelet.conf").exists()


def test_a_ready_node_of_the_same_name_is_refused(kube_api, node_root, tmp_path):
    status, _ = kube_api.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                                             "metadata": {"name": "seoul-keti"}})
    assert status == 201
    cfg = write_config(tmp_path / "join.yaml", kube_api, make_token(kube_api))
    proc = kubeadm(node_root, "join", "--config", str(cfg))
    assert proc.returncode == 1
    assert 'a Node with name "seoul-keti" and status "Ready" already exists' in proc.stderr


def test_a_joined_node_does_not_join_again_and_reset_undoes_the_join(kube_api, node_root, tmp_path):
    cfg = write_config(tmp_path / "join.yaml", kube_api, make_token(kube_api))
    assert kubeadm(node_root, "join", "--config", str(cfg)).returncode == 0
    again = kubeadm(node_root, "join", "--config", str(cfg))
    assert again.returncode == 1 and "kubelet.conf already exists" in again.stderr
    refused = kubeadm(node_root, "reset", stdin="n\n")
    assert refused.returncode == 1 and (node_root / "etc/kubernetes/kubelet.conf").exists()
    proc = kubeadm(node_root, "reset", "-f")
    assert proc.returncode == 0, proc.stderr
    assert list((node_root / "etc/kubernetes").iterdir()) == []


@pytest.mark.parametrize("change, message", [
    (dict(nodeRegistration={"name": "n1", "kubeletExtraArgs": {"node-ip": "10.0.0.1"}}),
     "cannot unmarshal dict into Go struct field nodeRegistration.kubeletExtraArgs"),
    (dict(discovery={"bootstrapToken": {"apiServerEndpoint": "10.0.0.1:6443", "token": "ABC.def",
                                        "caCertHashes": ["sha256:" + "0" * 64]}}),
     "the bootstrap token must be of the form"),
    (dict(discovery={"bootstrapToken": {"apiServerEndpoint": "10.0.0.1:6443", "token": "abcdef.0123456789abcdef"}}),
     "without caCertHashes can be unsafe"),
    (dict(nodeRegistration={"name": "Seoul_KETI"}), "nodeRegistration.name: Invalid value 'Seoul_KETI'"),
    (dict(nodeRegistration={"name": "n1", "nodeIP": "10.0.0.1"}), 'unknown field "nodeRegistration.nodeIP"'),
    (dict(apiVersion="kubeadm.k8s.io/v1beta3"), "is not kubeadm.k8s.io/v1beta4"),
    (dict(timeouts={"discovery": "five minutes"}), "timeouts.discovery: 'five minutes' is not a duration"),
])
def test_config_validate_rejects_what_kubeadm_rejects(kube_api, node_root, tmp_path, change, message):
    cfg = write_config(tmp_path / "join.yaml", kube_api, "abcdef.0123456789abcdef", **change)
    proc = kubeadm(node_root, "config", "validate", "--config", str(cfg))
    assert proc.returncode == 1
    assert message in proc.stderr
    good = write_config(tmp_path / "good.yaml", kube_api, "abcdef.0123456789abcdef")
    assert kubeadm(node_root, "config", "validate", "--config", str(good)).returncode == 0
