"""The production paths on the lab: the same federate.yml and release.yml with `fog_overlay: zerotier` and
`fog_target: kubernetes`, selected by inventory variables only (vars.yml, control_plane.yml).

No ZeroTier controller, zerotier-one, kube-apiserver or kubeadm can run here: standins.yml starts HTTP stand-ins
that speak their documented APIs inside the lab hosts (tests/support/zerotier_stand_in.py,
tests/support/kube_api_server.py) and kubeadm on the node is tests/support/kubeadm_stand_in.py. The chain, SSH,
the host-key check, the reservation and every playbook are real. Runs twice, the second changing nothing. This file's
turn on the shared lab (tests/conftest.py LAB_TURNS) comes after the federations over WireGuard to hosts."""
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.support.lab import changed

HERE = Path(__file__).parent
NETWORK = "1c33c1ced0000001"
CLOUD = "198.18.0.10"


@pytest.fixture(scope="module")
def lab(shared_lab):
    # CLOUD joins group kube_control_plane before the stand-ins start there, and leaves it for the next turn.
    with shared_lab.turn() as built:
        control_plane = built.org_inventory("provider_a") / "control_plane.yml"
        shutil.copy(HERE / "control_plane.yml", control_plane)
        try:
            # The stand-ins are started by each host's operator: the lab operator here (both inventories).
            production(built, str(HERE / "standins.yml"), org=None)
            yield built
        finally:
            control_plane.unlink()


def production(lab, playbook, org="provider_a"):
    """A playbook with the production switches, as provider A (its inventory only, B's secrets hidden)."""
    return lab.playbook(playbook, "-e", "@" + str(HERE / "vars.yml"), org=org)


def state_dir(lab, host, sub):
    return Path(lab.extra["lab_dir"]) / "hosts" / host / sub


def kube(lab, path):
    """GET on the Kubernetes API test server on CLOUD, from the lab's WAN, as its admin."""
    admin = yaml.safe_load((state_dir(lab, "cloud", "etc-kubernetes") / "admin.conf").read_text())
    token = admin["users"][0]["user"]["token"]
    ca = state_dir(lab, "cloud", "etc-kubernetes") / "pki" / "ca.crt"
    out = lab.netns("gw", "curl", "-s", "--max-time", "5", "--cacert", str(ca), "-H",
                    "Authorization: Bearer " + token, "https://%s:6443%s" % (CLOUD, path))
    return json.loads(out.stdout)


def zerotier_members(lab):
    """The self-hosted controller's members of A's network, {node id: member}."""
    token = (state_dir(lab, "cloud", "var-lib-fog") / "zerotier-controller" / "authtoken.secret").read_text().strip()
    base = "http://%s:9994/controller/network/%s/member" % (CLOUD, NETWORK)
    ids = json.loads(lab.netns("gw", "curl", "-s", "--max-time", "5", "-H", "X-ZT1-Auth: " + token, base).stdout)
    return dict((node, json.loads(lab.netns("gw", "curl", "-s", "--max-time", "5", "-H", "X-ZT1-Auth: " + token,
                                            base + "/" + node).stdout)) for node in ids)


def test_federate_over_zerotier_into_kubernetes_then_rerun_changes_nothing(lab):
    _, first, out = production(lab, "federate.yml")
    assert changed(first) > 0

    members = zerotier_members(lab)
    assert len(members) == 1, members
    member = next(iter(members.values()))
    assert member["authorized"] is True
    address = member["ipAssignments"][0]
    assert address.startswith("10.99.0.")

    # The Node's name is the rented host's name in A's inventory (A's inventory holds no other seoul-keti).
    node = kube(lab, "/api/v1/nodes/seoul-keti")
    labels = node["metadata"]["labels"]
    assert labels["region"] == "SEOUL-KETI" and labels["tier"] == "1", labels
    assert {"type": "InternalIP", "address": address} in node["status"]["addresses"], node["status"]
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    tokens = [s for s in kube(lab, "/api/v1/namespaces/kube-system/secrets")["items"]
              if s["metadata"]["name"].startswith("bootstrap-token-")]
    assert tokens == [], "the bootstrap token is deleted after the join"

    deployments = kube(lab, "/apis/apps/v1/namespaces/simple-ocr/deployments")["items"]
    regions = dict((d["metadata"]["name"], d["spec"]["template"]["spec"]["nodeSelector"]["region"])
                   for d in deployments)
    assert "SEOUL-KETI" in regions.values(), regions
    assert "CLOUD" in regions.values(), regions

    _, second, out = production(lab, "federate.yml")
    assert changed(second) == 0, out[-4000:]


def test_release_leaves_cluster_and_network_then_rerun_changes_nothing(lab):
    _, first, out = production(lab, "playbooks/release.yml")
    assert changed(first) > 0
    assert kube(lab, "/api/v1/nodes/seoul-keti").get("code") == 404, "the Node is deleted"
    assert not (state_dir(lab, "seoul-keti", "etc-kubernetes") / "kubelet.conf").exists(), "kubeadm reset ran"
    deployments = kube(lab, "/apis/apps/v1/namespaces/simple-ocr/deployments")["items"]
    assert all(d["spec"]["template"]["spec"]["nodeSelector"]["region"] != "SEOUL-KETI" for d in deployments)
    members = zerotier_members(lab)
    assert all(not m["authorized"] and not m["ipAssignments"] for m in members.values()), members

    _, second, out = production(lab, "playbooks/release.yml")
    assert changed(second) == 0, out[-4000:]
