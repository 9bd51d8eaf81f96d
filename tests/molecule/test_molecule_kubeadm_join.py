"""The kubeadm_join role end to end, against a throwaway namespace lab (kjt-*) with a real WireGuard overlay and the
Kubernetes API test server inside the control-plane host; `kubeadm` on the node is tests/support/kubeadm_stand_in.py.

test_molecule_kubeadm_join runs `molecule test -s kubeadm_join`: join, idempotence, verify (Node Ready with its
labels on the overlay IP, token deleted, labels put back after drift), release (drain, Node deleted, reset, leftovers
removed), release again (no change) and a rejoin.

The bad-input tests then use the scenario's lab (the scenario runs with `--destroy never`, then a release leaves the
node unjoined; the lab is destroyed after the last test) and run the scenario's playbooks with ansible-playbook:
cluster unreachable, token expired, Node never Ready. Each must fail with a sentence that says what and what to do,
never a traceback, and a release afterwards must still clean up (and change nothing when run again).
All tests of this file share the kjt prefix: they run one after another (pytest-xdist --dist loadgroup keeps a file
on one worker: tests/conftest.py makes each file a group).
"""
import json
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.molecule.scenario import ROOT, _env, destroy_scenario, run_scenario
from tests.support.playbook_run import run_playbook

SCENARIO = ROOT / "molecule" / "kubeadm_join"
EPHEMERAL = Path("/tmp/decenter-fog-kjt-molecule")
LAB = Path("/tmp/decenter-fog-kjt/hosts")
NODE_K8S = LAB / "node" / "etc-kubernetes"
API_STATE = LAB / "cp" / "etc-kubernetes" / "kube-api-test"
# Read the API from inside the control-plane host's namespace, with the admin token read from its file there.
API_GET = """
import json, ssl, sys, urllib.request, urllib.error
state = sys.argv[1]
req = urllib.request.Request("https://10.94.0.1:6443" + sys.argv[2])
req.add_header("Authorization", "Bearer " + open(state + "/token").read().strip())
try:
    with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=state + "/ca.crt"), timeout=10) as r:
        print(json.dumps({"status": r.status, "body": json.load(r)}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": None}))
"""


def _lab_env():
    env = _env()
    env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(EPHEMERAL)
    return env


@pytest.fixture(scope="module")
def kjt_lab():
    """`molecule test -s kubeadm_join` keeping its lab (hosts, overlay, API test server) for the bad-input tests;
    destroyed after them. Yields the scenario's output."""
    shutil.rmtree(EPHEMERAL, ignore_errors=True)  # molecule would skip create on stale state
    try:
        yield run_scenario("kubeadm_join", timeout=1500, keep=True, env=_lab_env())
    finally:
        try:
            destroy_scenario("kubeadm_join", env=_lab_env())
        finally:
            shutil.rmtree(EPHEMERAL, ignore_errors=True)


def test_molecule_kubeadm_join(kjt_lab):
    """The scenario passed every step (run_scenario checks each); its verify ended with the node joined again:
    the release here leaves it unjoined for the bad-input tests, and a second release changes nothing."""
    assert api_get("/api/v1/nodes/node")[0] == 200
    # A rerun on a joined, Ready and labelled node reads the Node once: no wait and no label patch.
    rc, out = playbook("converge.yml")
    assert rc == 0 and recap(out, "node")["changed"] == 0, out[-3000:]
    for task in ("Wait for the Node to be Ready", "Label the Node (region, tier, provider, reservation)"):
        assert re.search(r"TASK \[decenter\.fog\.kubeadm_join : %s\] \**\nskipping: \[node\]" % re.escape(task), out), (
            task, out[-3000:])
    release_cleans_up_and_is_idempotent()


# -- bad input ---------------------------------------------------------------------------------------
def playbook(name, extra_vars=None, timeout=600):
    """Runs a playbook of the scenario against the lab, as molecule would (its generated ansible.cfg and ephemeral
    directory), through the tests' one runner; returns (rc, output)."""
    env = {"ANSIBLE_CONFIG": str(EPHEMERAL / "ansible.cfg"), "MOLECULE_EPHEMERAL_DIRECTORY": str(EPHEMERAL),
           "PATH": _lab_env()["PATH"]}
    run = run_playbook(SCENARIO / name, inventory=EPHEMERAL / "inventory" / "hosts", extra_vars=extra_vars, env=env,
                       callback=None, timeout=timeout)
    return run.rc, run.output


def recap(output, host):
    m = re.search(r"^%s\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % host, output, re.M)
    assert m, output[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups())))


def api_get(path):
    proc = subprocess.run(["ip", "netns", "exec", "kjt-cp", str(ROOT / ".venv" / "bin" / "python"), "-c", API_GET,
                           str(API_STATE), path], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return doc["status"], doc["body"]


def bootstrap_tokens():
    status, body = api_get("/api/v1/namespaces/kube-system/secrets")
    assert status == 200
    return [item["metadata"]["name"] for item in body["items"] if item.get("type") == "bootstrap.kubernetes.io/token"]


def node_files():
    return sorted(str(p.relative_to(NODE_K8S)) for p in NODE_K8S.rglob("*"))


def release_cleans_up_and_is_idempotent():
    rc, out = playbook("release.yml")
    assert rc == 0, out[-4000:]
    assert api_get("/api/v1/nodes/node")[0] == 404
    assert node_files() == []
    rc, out = playbook("release.yml")
    assert rc == 0, out[-4000:]
    assert recap(out, "node")["changed"] == 0, out[-3000:]


def assert_clear_failure(output, sentence):
    assert "Traceback" not in output, output[-4000:]
    assert sentence in output, output[-4000:]


def test_cluster_unreachable_fails_clearly_and_changes_nothing(kjt_lab):
    rc, out = playbook("api_server.yml", {"kjt_api_server_state": "stopped"})
    assert rc == 0, out[-3000:]
    try:
        for name in ("converge.yml", "release.yml"):
            rc, out = playbook(name)
            assert rc != 0, out[-3000:]
            assert_clear_failure(out, "The Kubernetes API of the cluster cannot be read from cp with the kubeconfig "
                                      "/etc/kubernetes/admin.conf:")
            assert re.search(r"Connection refused|Max retries exceeded", out), out[-3000:]
            assert "Nothing was changed." in out
            assert recap(out, "node") == dict(recap(out, "node"), changed=0, failed=1)
            assert node_files() == []
    finally:
        rc, out = playbook("api_server.yml")
        assert rc == 0, out[-3000:]
    # With the cluster back, the same join works.
    rc, out = playbook("converge.yml")
    assert rc == 0, out[-4000:]
    assert api_get("/api/v1/nodes/node")[0] == 200
    release_cleans_up_and_is_idempotent()


def test_expired_token_is_refused_clearly_and_release_cleans_up(kjt_lab):
    token = "%s.%s" % (secrets.token_hex(3), secrets.token_hex(8))  # [a-z0-9]{6}.[a-z0-9]{16}
    rc, out = playbook("expired_token.yml", {"kjt_token": token})
    assert rc == 0, out[-3000:]
    rc, out = playbook("converge.yml", {"kubeadm_join_token": token})
    assert rc != 0, out[-3000:]
    token_id = token.split(".")[0]
    assert_clear_failure(out, "The cluster rejected bootstrap token %s (expired or unknown): give a valid "
                              "kubeadm_join_token, or leave it empty so the role creates one." % token_id)
    assert 'token id "%s" is invalid for this cluster or it has expired' % token_id in out
    assert token.split(".")[1] not in out
    assert api_get("/api/v1/nodes/node")[0] == 404
    assert node_files() == []  # the JoinConfiguration (it holds the token) is removed after a failed join too
    release_cleans_up_and_is_idempotent()


def test_node_never_ready_fails_clearly_and_release_cleans_up(kjt_lab):
    rc, out = playbook("api_control.yml", {"kjt_api_knobs": {"default_node_ready": False}})
    assert rc == 0, out[-3000:]
    try:
        rc, out = playbook("converge.yml", {"kubeadm_join_ready_timeout": 3})
        assert rc != 0, out[-3000:]
        assert_clear_failure(out, "Node node joined but is not Ready after 3 s (Ready=False, reason KubeletNotReady:")
        assert "release the node (kubeadm_join_state: absent) to remove it from the cluster." in out
        status, node = api_get("/api/v1/nodes/node")
        assert status == 200 and "kubelet.conf" in node_files()
        assert bootstrap_tokens() == []  # deleted right after the join, although the role failed later
        release_cleans_up_and_is_idempotent()
    finally:
        rc, out = playbook("api_control.yml", {"kjt_api_knobs": {"default_node_ready": True}})
        assert rc == 0, out[-3000:]
