"""The seller cleans a node when a rental ends: on a real lab host (a network namespace with its own sshd and private
/run, /var/lib/fog, /etc/wireguard; built with decenter.fog.fog_lab, prefix "fsl"), the buyer - over SSH with the key
the seller granted - leaves a supervised service, app state and a WireGuard interface (what fog_deploy and wireguard
leave); after the release, one run of the seller playbook revokes the key and removes all of it, keeps the seller's
own camera running, and a rerun changes nothing. Run under the lab lock (flock /tmp/fog-lab.lock)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from tests.seller.market import BUYER_A, SELLER_B, Market, start_chain
from tests.seller.seller_env import VENV_BIN, playbook
from tests.support.chain import ROOT

PREFIX = "fsl"
ADDRESS = "198.18.0.21"
# The lab's public inventory, for how its camera runs (fog_deploy_device_kinds).
LAB_PUBLIC = yaml.safe_load((ROOT / "inventories" / "lab" / "public.yml").read_text())


def netns(*cmd):
    return subprocess.run(["ip", "netns", "exec", "%s-seoul-keti" % PREFIX] + list(cmd), capture_output=True,
                          text=True, timeout=30)


def in_host(*cmd):
    """A command with the host's own mounts (its /var/lib/fog, /etc/wireguard): through its sshd's mount namespace."""
    pid = subprocess.run(["ip", "netns", "pids", "%s-seoul-keti" % PREFIX], capture_output=True, text=True).stdout.split()
    sshd = [p for p in pid if b"sshd" in open("/proc/%s/cmdline" % p, "rb").read()][0]
    return subprocess.run(["nsenter", "-t", sshd, "-m", "-n", "-u"] + list(cmd), capture_output=True, text=True,
                          timeout=30)


def changed(output):
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)",
                                                                   output.split("PLAY RECAP")[-1], re.M))


@pytest.fixture
def lab(tmp_path):
    short = Path(tempfile.mkdtemp(prefix="fsl", dir="/tmp"))  # ControlPath and sockets need short paths
    chain = start_chain(tmp_path)
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("admin", "buyer"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(keys / name)], check=True)
    build = tmp_path / "build.yml"
    build.write_text(yaml.safe_dump([{"name": "Build one seller node", "hosts": "localhost", "gather_facts": False,
                                      "tasks": [{"name": "Lab", "decenter.fog.fog_lab": {
                                          "state": "{{ lab_state }}", "prefix": PREFIX, "state_dir": str(short / "hosts"),
                                          "networks": {"wan": 24}, "gateway": {"network": "wan", "address": "198.18.0.1"},
                                          "hosts": [{"name": "seoul-keti", "interfaces": [{"network": "wan", "address": ADDRESS}],
                                                     "authorized_keys": [(keys / "admin.pub").read_text().strip()]}]}}]}]))
    local = ["-c", "local", "-e", "ansible_python_interpreter=%s" % (VENV_BIN / "python")]
    try:
        playbook("localhost,", build, *local, "-e", "lab_state=present")
        host_key = (short / "hosts" / "seoul-keti" / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text().split()
        (short / "known_hosts").write_text("%s %s %s\n" % (ADDRESS, host_key[0], host_key[1]))
        market = Market(chain)
        market.register(SELLER_B, "Provider B (KETI)")
        yield {"tmp": tmp_path, "short": short, "chain": chain, "market": market, "keys": keys}
    finally:
        playbook("localhost,", build, *local, "-e", "lab_state=absent", check=False)
        chain.stop()
        shutil.rmtree(short, ignore_errors=True)


def seller_inventory(lab):
    inv = lab["tmp"] / "provider_b"
    (inv / "host_vars").mkdir(parents=True)
    (inv / "group_vars").mkdir()
    ssh_args = ('-o ProxyCommand="ip netns exec %s-gw nc %%h %%p" -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes'
                % (PREFIX, lab["short"] / "known_hosts"))
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "controller": {"hosts": {"localhost": None}}, "provider_b": {"hosts": {"seoul-keti": None}}}}}))
    (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "fog_provider": "provider_b", "fog_provider_name": "Provider B (KETI)", "lab_root": str(ROOT),
        "fog_deploy_python": str(ROOT / ".venv" / "bin" / "python"),
        "fog_deploy_camera_app_path": str(ROOT / "apps" / "simple_ocr"),
        "fog_deploy_device_kinds": LAB_PUBLIC["fog_deploy_device_kinds"],
        "reb_rpc_url": lab["chain"].url, "reb_chain_id": 31337, "reb_contract_address": lab["market"].reb.address,
        "reb_private_key": lab["chain"].keys()[SELLER_B], "fog_sale_policy": {}}))
    (inv / "group_vars" / "controller.yml").write_text(yaml.safe_dump({
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}))
    (inv / "host_vars" / "seoul-keti.yml").write_text(yaml.safe_dump({
        "ansible_host": ADDRESS, "ansible_user": "root", "ansible_ssh_private_key_file": str(lab["keys"] / "admin"),
        "ansible_ssh_common_args": ssh_args, "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_control_path_dir": str(lab["short"] / "cp-b"),
        "fog_region": "SEOUL-KETI", "fog_cpu_millicores": 2000, "fog_memory_mib": 2048, "fog_offerable": True,
        "fog_devices": ["camkor1:camera"], "fog_private_address": ADDRESS, "fog_price_per_hour": 10 ** 15}))
    return inv, ssh_args


BUYER_LEFTOVERS = """
- name: What the buyer's roles leave on a rented node
  hosts: all
  gather_facts: false
  tasks:
    - name: A service of the buyer's app under the node's supervisor (it answers /healthz, as the supervisor asks)
      ansible.builtin.copy:
        dest: /var/lib/fog/services/simple_ocr-processor-korea.json
        content: "{{ {'argv': ['python3', '-c', stand_in], 'env': {}, 'workdir': '/'} | to_json }}"
        mode: "0644"
      vars:
        stand_in: |
          import http.server, os
          class Health(http.server.BaseHTTPRequestHandler):
              def do_GET(self):
                  self.send_response(200 if self.path == "/healthz" else 404)
                  self.end_headers()
          server = http.server.HTTPServer(("127.0.0.1", 0), Health)
          with open(os.environ["FOG_HEALTH_FILE"], "w") as f:
              f.write("http://127.0.0.1:%d/healthz" % server.server_port)
          server.serve_forever()
    - name: Start it
      ansible.builtin.command: python3 /var/lib/fog/bin/fog_supervise.py ensure simple_ocr-processor-korea
    - name: The app's state
      ansible.builtin.shell: mkdir -p /var/lib/fog/simple_ocr && echo buffer > /var/lib/fog/simple_ocr/buffer-camkor1.sqlite3
    - name: The overlay interface, its configuration and key
      ansible.builtin.shell: |
        umask 077
        wg genkey > /etc/wireguard/wg0.key
        printf '[Interface]\\nAddress = 10.99.0.150/24\\nPostUp = wg set %%i private-key /etc/wireguard/wg0.key\\n' > /etc/wireguard/wg0.conf
        WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go wg-quick up wg0
"""


def test_an_ended_rental_leaves_nothing_of_the_buyer_on_the_node(lab):
    inv, ssh_args = seller_inventory(lab)
    devices = lab["tmp"] / "devices.yml"
    devices.write_text(yaml.safe_dump([{"name": "The seller's camera", "hosts": "provider_b", "gather_facts": False,
                                        "tasks": [{"name": "Camera", "ansible.builtin.include_role": {
                                            "name": "decenter.fog.fog_deploy", "tasks_from": "devices.yml"}}]}]))
    playbook(inv, devices)
    playbook(inv, ROOT / "playbooks" / "publish.yml")
    market = lab["market"]
    offer = market.reb.functions.offerIdOf(market.accounts[SELLER_B], "seoul-keti").call()
    import base64
    buyer_pub = (lab["keys"] / "buyer.pub").read_text().split()
    raw = base64.b64decode(buyer_pub[1])[-32:]
    rid, _ = market.reserve(BUYER_A, offer, key=raw)
    playbook(inv, ROOT / "playbooks" / "seller" / "answer.yml")
    assert market.state(rid) == 2

    # the buyer, with the key the seller granted, runs its things on the node
    leftovers = lab["tmp"] / "leftovers.yml"
    leftovers.write_text(BUYER_LEFTOVERS)
    buyer_args = ["-u", "root", "--private-key", str(lab["keys"] / "buyer"), "--ssh-common-args", ssh_args,
                  "-e", "ansible_python_interpreter=/usr/bin/python3",
                  "-e", "ansible_control_path_dir=%s" % (lab["short"] / "cp-a")]
    playbook("%s," % ADDRESS, leftovers, *buyer_args)
    assert in_host("test", "-f", "/etc/wireguard/wg0.conf").returncode == 0
    assert netns("ip", "link", "show", "wg0").returncode == 0
    status = json.loads(in_host("python3", "/var/lib/fog/bin/fog_supervise.py", "status").stdout)
    assert status["simple_ocr-processor-korea"] and status["device-camkor1"]

    market.w3.provider.make_request("evm_increaseTime", [600])  # 10 minutes used: B is owed for them
    market.send(market.reb.functions.release(rid), BUYER_A)
    assert market.reb.functions.owed(market.accounts[SELLER_B]).call() > 0
    first = playbook(inv, ROOT / "playbooks" / "seller" / "answer.yml")

    assert changed(first.stdout)["seoul-keti"] > 0
    status = json.loads(in_host("python3", "/var/lib/fog/bin/fog_supervise.py", "status").stdout)
    assert list(status) == ["device-camkor1"] and status["device-camkor1"]  # the seller's camera still runs
    assert in_host("ls", "/var/lib/fog").stdout.split() == ["bin", "devices.json", "services"]
    assert in_host("ls", "/etc/wireguard").stdout.split() == []
    assert netns("ip", "link", "show", "wg0").returncode != 0
    assert "decenter-reb-" not in in_host("cat", "/root/.ssh/authorized_keys").stdout
    assert "admin" in in_host("cat", "/root/.ssh/authorized_keys").stdout
    # a new connection with the buyer's key is refused (an SSH master the buyer still holds open is not cut)
    fresh = buyer_args[:-1] + ["ansible_control_path_dir=%s" % (lab["short"] / "cp-a2")]
    denied = playbook("%s," % ADDRESS, leftovers, *fresh, check=False)
    assert denied.rc != 0 and "UNREACHABLE" in denied.stdout and "Permission denied" in denied.stdout
    assert market.reb.functions.owed(market.accounts[SELLER_B]).call() == 0  # paid and collected

    again = playbook(inv, ROOT / "playbooks" / "seller" / "answer.yml")
    assert set(changed(again.stdout).values()) == {0}, again.stdout[-3000:]
