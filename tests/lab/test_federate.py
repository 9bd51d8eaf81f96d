"""The lab end to end: federate.yml rents SEOUL-KETI for provider A, text from camkor1 lands in A's
Repository in Italy over A's overlay only; reruns change nothing and send no transaction; release
undoes it; lab_down leaves nothing."""
import json
import subprocess
import time
from pathlib import Path

import yaml
from web3 import Web3

from tests.lab.conftest import PREFIX, changed

REDIS = ("10.10.0.10", "6379")        # A's Repository on CLOUD's private LAN
CAMKOR1 = ("10.20.0.21", "8081")      # B's camera on SEOUL-KETI's private LAN


def reachable(lab, host, address):
    return lab.netns(host, "nc", "-z", "-w", "2", *address).returncode == 0


def texts(lab, camera):
    out = lab.netns("cloud", "curl", "-s", "--max-time", "5",
                    "http://10.10.0.10:8080/api/texts?camera=%s&limit=100" % camera)
    try:
        return json.loads(out.stdout).get("texts", [])
    except ValueError:
        return []


def wait_for_texts(lab, camera, attempts=120):
    for _ in range(attempts):  # bounded: ~2 min (tesseract on a loaded 2-core machine starts slowly)
        found = texts(lab, camera)
        if found:
            return found
        time.sleep(1)
    return []


def logs(lab, *hosts):
    """The last lines of the lab hosts' service logs, to explain a failure."""
    out = []
    for host in hosts:
        for log in sorted((Path(lab.extra["lab_dir"]) / "hosts" / host / "var-log-fog").glob("*.log")):
            out.append("== %s %s\n%s" % (host, log.name, "\n".join(log.read_text().splitlines()[-8:])))
    return "\n".join(out)


def chain(lab):
    state = Path(lab.extra["lab_dir"]) / "chain"
    accounts = yaml.safe_load((state / "wallets.yml").read_text())["lab_accounts"]
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:%d" % lab.anvil_port))
    return w3, accounts


def nonces(lab):
    w3, accounts = chain(lab)
    return dict((name, w3.eth.get_transaction_count(address)) for name, address in accounts.items())


def in_host(lab, host, *cmd):
    """Run a command inside a lab host's own namespaces (network and mounts), as its sshd sees them."""
    pid = (Path(lab.extra["lab_dir"]) / "hosts" / host / "run" / "sshd.pid").read_text().strip()
    return subprocess.run(["nsenter", "-t", pid, "-m", "-n"] + list(cmd), capture_output=True, text=True,
                          timeout=20)


def test_initial_state_is_provider_a_only(lab):
    assert wait_for_texts(lab, "cam1"), "the Processor on POVO stores cam1's text in CLOUD's Repository\n" + \
        logs(lab, "povo", "cloud")
    assert not reachable(lab, "seoul-keti", REDIS), "before federation SEOUL-KETI must not reach A's Redis"
    assert not reachable(lab, "cloud", CAMKOR1), "before federation A must not reach SEOUL-KETI's camera"
    assert reachable(lab, "povo", REDIS)


def test_federate_then_rerun_changes_nothing(lab):
    _, first, out = lab.playbook("federate.yml")
    assert changed(first) > 0
    found = wait_for_texts(lab, "camkor1")
    assert found, "text read from camkor1 on SEOUL-KETI must land in A's Repository in Italy\n" + \
        logs(lab, "seoul-keti", "cloud")
    assert any("CAMKOR1" in t["text"] for t in found), found[:3]
    assert reachable(lab, "seoul-keti", REDIS), "after federation A's Redis is reachable over the overlay"
    route = lab.netns("seoul-keti", "ip", "route", "get", REDIS[0]).stdout
    assert "dev wg0" in route, "A's private LAN is reached through the overlay only: " + route

    before = nonces(lab)
    _, second, out = lab.playbook("federate.yml")
    assert changed(second) == 0, out[-4000:]
    assert nonces(lab) == before, "a rerun must send no transaction"


def test_a_node_whose_host_key_is_not_the_one_on_chain_is_refused(lab, tmp_path):
    """An endpoint that answers with another host key (an impostor) is never trusted nor connected to."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "impostor")], check=True)
    impostor = (tmp_path / "impostor.pub").read_text().split()[:2]
    keyscan = tmp_path / "impostor-keyscan"
    keyscan.write_text('#!/bin/sh\n# called like ssh-keyscan: the host is the last argument\n'
                       'for host; do :; done\necho "$host %s"\n' % " ".join(impostor))
    keyscan.chmod(0o755)
    known_hosts = Path(lab.extra["lab_dir"]) / "keys" / "rented_known_hosts"
    trusted = known_hosts.read_text()

    rc, result, out = lab.playbook("playbooks/provision.yml", "-e", "fog_keyscan_command=%s" % keyscan, check=False)
    assert rc != 0, out[-4000:]
    assert "but the seller recorded" in out and "Not connecting (the endpoint may be intercepted)" in out, out[-4000:]
    assert changed(result) == 0, out[-4000:]
    assert known_hosts.read_text() == trusted, "the impostor's key must not be trusted"


def test_release_settles_and_undoes_everything(lab):
    w3, accounts = chain(lab)
    _, first, out = lab.playbook("playbooks/release.yml")
    assert changed(first) > 0
    peers = in_host(lab, "cloud", "wg", "show", "wg0", "peers")
    assert peers.returncode == 0 and peers.stdout.strip() == "", "the hub keeps no peer for the released node"
    assert in_host(lab, "seoul-keti", "ip", "link", "show", "wg0").returncode != 0, "the node left the overlay"
    keys = (Path(lab.extra["lab_dir"]) / "hosts" / "seoul-keti" / "root-ssh" / "authorized_keys").read_text()
    assert "decenter-reb-" not in keys, "the seller revoked the buyer's key"
    assert not reachable(lab, "seoul-keti", REDIS)

    reb_file = yaml.safe_load((Path(lab.extra["lab_dir"]) / "chain" / "reb.yml").read_text())
    artifact = json.loads((Path(__file__).resolve().parents[2] / "contracts" / "build" /
                           "ResourceExchangeBroker.json").read_text())
    reb = w3.eth.contract(address=reb_file["reb_contract_address"], abi=artifact["abi"])
    reservation = reb.functions.getReservation(reb.functions.reservationCount().call()).call()
    assert reservation[3] == 6, "the reservation is Released"
    assert reb.functions.owed(accounts["provider_a"]).call() == 0
    assert reb.functions.owed(accounts["provider_b"]).call() == 0
    assert w3.eth.get_balance(reb.address) == 0, "escrow fully paid out: seller for the time used, buyer the rest"

    _, second, out = lab.playbook("playbooks/release.yml")
    assert changed(second) == 0, out[-4000:]


def test_lab_down_leaves_nothing(lab):
    lab.playbook("playbooks/lab_down.yml")
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert PREFIX + "-" not in namespaces
    state = Path(lab.extra["lab_dir"])
    assert not (state / "hosts").exists()
    assert not (state / "chain").exists() and not (state / "keys").exists(), \
        "the next lab_up starts a new chain: reservations of this lab's host keys must not outlive it"
    leftovers = subprocess.run(["pgrep", "-f", str(state)], capture_output=True, text=True).stdout
    assert leftovers.strip() == "", "processes of the lab still run: " + leftovers
