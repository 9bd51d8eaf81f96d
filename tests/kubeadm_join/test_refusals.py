"""The role refuses a join plan that cannot work, before it changes or contacts anything, with one sentence.

One ansible-playbook run: each inventory host carries one bad plan (ansible_connection local; the refusal comes
from the validation tasks, which run on the controller before any other task).
"""
import json
import re
import sys

import pytest

from tests.support.playbook_run import run_playbook

GOOD = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "wireguard_address": "10.99.0.21",
        "fog_region": "SEOUL-KETI", "fog_tier": 1, "reb_offer": {"seller": "0xabc"}, "reb_reservation": {"id": 3}}
CASES = {
    "no-control-plane": ({"kubeadm_join_control_plane": ""},
                         "No control-plane node: put the cluster's first control-plane node in the inventory group "
                         "kube_control_plane"),
    "unknown-control-plane": ({"kubeadm_join_control_plane": "ghost"},
                              "kubeadm_join_control_plane=ghost is not a host of this inventory."),
    "bad-name": ({"kubeadm_join_node_name": "Seoul_KETI"},
                 "kubeadm_join_node_name=Seoul_KETI is not a valid Kubernetes node name: use lower-case letters, digits,"
                 " - and . (for example seoul-keti)."),
    "no-overlay-ip": ({"wireguard_address": ""}, "kubeadm_join_node_ip is not set: give the node's overlay IP"),
    "bad-overlay-ip": ({"kubeadm_join_node_ip": "10.99.0.300"},
                       "kubeadm_join_node_ip=10.99.0.300 is not an IPv4 address"),
    "bad-endpoint": ({"kubeadm_join_api_server_endpoint": "https://10.99.0.1"},
                     "kubeadm_join_api_server_endpoint=https://10.99.0.1 is not host:port"),
    "long-ttl": ({"kubeadm_join_token_ttl": 604800}, "kubeadm_join_token_ttl=604800 is outside 60..86400 seconds"),
    "bad-token": ({"kubeadm_join_token": "NOT-A-TOKEN-secretvalue"},
                  "kubeadm_join_token (not shown) is not a bootstrap token"),
    "no-region": ({"fog_region": ""}, "The node needs its FogAtlas region and tier labels"),
    "bad-label": ({"kubeadm_join_extra_labels": {"site": "Seoul KETI"}},
                  "Label site=Seoul KETI has an invalid value"),
    "bad-label-key": ({"kubeadm_join_extra_labels": {"a/b/c": "x"}},
                      "Label key a/b/c is not a valid Kubernetes label name"),
}
PLAYBOOK = """
- name: Apply the role
  hosts: rented
  gather_facts: false
  roles:
    - role: decenter.fog.kubeadm_join
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refusals")
    hosts = {name: dict(GOOD, **bad) for name, (bad, _) in CASES.items()}
    hosts["good"] = dict(GOOD)
    inventory = {"all": {"children": {
        "kube_control_plane": {"hosts": {"cp": {"ansible_connection": "local"}}},
        "rented": {"hosts": hosts}}}}
    (tmp / "inventory.json").write_text(json.dumps(inventory))
    (tmp / "play.yml").write_text(PLAYBOOK)
    run = run_playbook(tmp / "play.yml", inventory=tmp / "inventory.json", callback=None,
                       env={"ANSIBLE_KUBECONFIG": str(tmp / "missing")},
                       extra_vars={"kubeadm_join_kubeconfig": str(tmp / "no-admin.conf")})
    return run.stdout


def _failure(output, host):
    m = re.search(r"^fatal: \[%s\]: FAILED! => (.*)$" % re.escape(host), output, re.M)
    return json.loads(m.group(1))["msg"] if m else None


@pytest.mark.parametrize("host", sorted(CASES))
def test_a_bad_plan_is_refused_with_a_sentence(run, host):
    message = _failure(run, host)
    assert message is not None, run[-4000:]
    assert message.startswith("kubeadm join of %s: " % host), message
    assert CASES[host][1] in message
    # Refused at the check, before the cluster is read (nothing contacted, nothing changed).
    failed_in = [block.split("]")[0] for block in run.split("\nTASK [")[1:] if "fatal: [%s]" % host in block]
    assert failed_in == ["decenter.fog.kubeadm_join : Refuse a join plan that cannot work"], failed_in
    assert "secretvalue" not in run


def test_a_good_plan_passes_the_checks(run):
    # It goes on to read the cluster, which fails here (no kubeconfig) with the sentence for an unreachable cluster.
    message = _failure(run, "good")
    assert message is not None and message.startswith("The Kubernetes API of the cluster cannot be read from cp"), message
