"""The lab end to end, two organizations with separate controllers: A's federate.yml (A's inventory only, B's secrets
hidden by bin/org-run) reserves SEOUL-KETI, B's own agent (its secrets hidden from A, A's from it) accepts by itself,
A provisions and deploys, text from camkor1 lands in A's Repository in Italy over A's overlay only; reruns change
nothing and send no transaction; A's release ends it and B's agent revokes A's key by itself; B's agent down: A's wait
ends at its timeout, A cancels and its escrow comes back to the wei; a buyer B's policy refuses is rejected and
refunded and told nothing is left. The first turn on the shared lab (tests/conftest.py LAB_TURNS)."""
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.support.lab import changed

REDIS = ("10.10.0.10", "6379")        # A's Repository on CLOUD's private LAN
CAMKOR1 = ("10.20.0.21", "8081")      # B's camera on SEOUL-KETI's private LAN


def recap_hosts(recap_):
    return sorted(recap_)


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


@pytest.fixture(scope="module")
def lab(shared_lab):
    with shared_lab.turn() as built:
        yield built


def chain(lab):
    return lab.w3(), lab.accounts()


def gas_paid(w3, address, first_block):
    """Wei `address` paid for gas in the blocks since `first_block` (from the receipts)."""
    paid = 0
    for number in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == address:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                paid += receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return paid


def seller_agent(lab, state="started"):
    """Start or stop provider B's agent, as B (its own inventory, A's secrets hidden)."""
    return lab.playbook("playbooks/lab_seller_agent.yml", "-e", "lab_seller_agent_state=%s" % state,
                        org="provider_b")


def granted_keys(lab):
    return (lab.state / "hosts" / "seoul-keti" / "root-ssh" / "authorized_keys").read_text()


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


def test_each_organization_runs_blind_to_the_other_ones_secrets(lab):
    wallet_b = lab.state / "orgs" / "provider_b" / "wallet.yml"
    wallet_a = lab.state / "orgs" / "provider_a" / "wallet.yml"
    assert wallet_b.stat().st_mode & 0o777 == 0o600 and wallet_b.parent.stat().st_mode & 0o777 == 0o700
    read = lab.run(["cat", str(wallet_b)], org="provider_a")
    assert read.returncode != 0 and "No such file or directory" in read.stderr, read
    assert lab.run(["cat", str(wallet_a)], org="provider_a").returncode == 0, "A reads its own wallet"
    write = lab.run(["touch", str(wallet_b.parent / "planted")], org="provider_a")
    assert write.returncode != 0 and "Read-only file system" in write.stderr, write
    chain_log = lab.run(["cat", str(lab.state / "chain" / "anvil.log")], org="provider_a")
    assert chain_log.returncode != 0, "anvil's log prints every funded key: the operator's, hidden from both"
    assert lab.run(["ls", str(lab.state / "hosts" / "seoul-keti" / "etc-ssh")], org="provider_a").returncode != 0
    # B's open SSH sessions (root on its hosts) are B's: A cannot see, let alone use, their control sockets.
    sessions_b = Path("/run/fog-cp/provider_b") / lab.prefix
    assert any(sessions_b.rglob("*")), "B's lab_up left its SSH sessions open"
    assert lab.run(["ls", str(sessions_b)], org="provider_a").returncode != 0
    # An Ansible run of A that reaches for B's wallet fails loudly.
    lookup = lab.run([str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ansible"), "localhost",
                      "-i", str(lab.org_inventory("provider_a")), "-m", "ansible.builtin.debug",
                      "-a", "msg={{ lookup('ansible.builtin.file', '%s') }}" % wallet_b, "-e", json.dumps(lab.extra)],
                     org="provider_a")
    said = lookup.stdout + lookup.stderr
    assert lookup.returncode != 0 and "file not found" in said.lower() and str(wallet_b) in said, lookup
    # B's agent runs with A's directory hidden.
    pid = (lab.state / "orgs" / "provider_b" / "agent" / "agent.pid").read_text().strip()
    agent_view = subprocess.run(["nsenter", "-t", pid, "-m", "cat", str(wallet_a)], capture_output=True, text=True,
                                timeout=20)
    assert agent_view.returncode != 0 and "No such file or directory" in agent_view.stderr, agent_view
    assert subprocess.run(["nsenter", "-t", pid, "-m", "cat", str(wallet_b)], capture_output=True,
                          timeout=20).returncode == 0, "B's agent reads its own wallet"


def test_a_check_run_of_a_new_buyer_says_what_it_would_rent_and_changes_nothing(lab):
    # Before A's first real run: no provisioning key yet. The check makes none (a throwaway key's public half lets the
    # reservation's own check run), pays nothing and says which offer it would reserve.
    key = lab.state / "orgs" / "provider_a" / "provisioning_key"
    assert not key.exists()
    before, reservations = nonces(lab), lab.reb().functions.reservationCount().call()
    _, _, out = lab.playbook("federate.yml", "--check", org="provider_a")
    assert "reservation (none yet: check mode) on offer" in out and "(seoul-keti in SEOUL-KETI)" in out, out[-3000:]
    assert not key.exists() and not key.with_name("provisioning_key.pub").exists()
    assert nonces(lab) == before and lab.reb().functions.reservationCount().call() == reservations


def test_seller_agent_down_the_buyer_cancels_at_its_timeout_and_gets_the_escrow_back(lab):
    w3, accounts = chain(lab)
    contract = lab.reb()
    seller_agent(lab, "stopped")
    try:
        buyer = accounts["provider_a"]
        first_block = w3.eth.block_number + 1
        balance, escrow_held = w3.eth.get_balance(buyer), w3.eth.get_balance(contract.address)
        rc, result, out = lab.playbook("playbooks/reserve.yml", "-e", "fog_answer_timeout=5", org="provider_a",
                                       check=False)
        assert rc != 0, out[-4000:]
        assert "did not answer reservation" in out and "within wait_timeout=5 s" in out, out[-4000:]
        assert "the buyer cancelled it" in out and "Nothing is rented" in out, out[-4000:]
        last = contract.functions.getReservation(contract.functions.reservationCount().call()).call()
        assert last[3] == 4, "the unanswered request is Cancelled"
        paid = gas_paid(w3, buyer, first_block)
        assert w3.eth.get_balance(buyer) == balance - paid, "the escrow came back to the wei: A paid its gas only"
        assert w3.eth.get_balance(contract.address) == escrow_held
        assert contract.functions.owed(buyer).call() == 0
    finally:
        seller_agent(lab, "started")


def test_a_buyer_the_sellers_policy_refuses_is_rejected_refunded_and_told_nothing_is_left(lab):
    w3, accounts = chain(lab)
    contract = lab.reb()
    policy = lab.org_inventory("provider_b") / "group_vars" / "all" / "sale_policy.yml"
    original = policy.read_text()
    refusing = yaml.safe_load(original)
    refusing["fog_sale_policy"]["refused_buyers"] = [accounts["provider_a"]]
    policy.write_text(yaml.safe_dump(refusing))
    try:
        buyer = accounts["provider_a"]
        first_block = w3.eth.block_number + 1
        balance = w3.eth.get_balance(buyer)
        rc, _, out = lab.playbook("playbooks/reserve.yml", "-e", "fog_answer_timeout=60", org="provider_a",
                                  check=False)
        assert rc != 0, out[-4000:]
        assert "nothing left to rent" in out and "seoul-keti" in out, out[-4000:]
        assert "seoul-keti: buyer %s is in refused_buyers" % buyer in out, "B's policy's reason reaches A on chain"
        last = contract.functions.getReservation(contract.functions.reservationCount().call()).call()
        assert last[3] == 3, "B's agent rejected the request (Rejected)"
        assert w3.eth.get_balance(buyer) == balance - gas_paid(w3, buyer, first_block), "refunded to the wei"
        assert "decenter-reb-" not in granted_keys(lab), "a refused buyer's key is never granted"
    finally:
        policy.write_text(original)


def test_federate_then_rerun_changes_nothing(lab):
    _, first, out = lab.playbook("federate.yml", org="provider_a")
    assert changed(first) > 0
    found = wait_for_texts(lab, "camkor1")
    assert found, "text read from camkor1 on SEOUL-KETI must land in A's Repository in Italy\n" + \
        logs(lab, "seoul-keti", "cloud")
    assert any("CAMKOR1" in t["text"] for t in found), found[:3]
    assert reachable(lab, "seoul-keti", REDIS), "after federation A's Redis is reachable over the overlay"
    route = lab.netns("seoul-keti", "ip", "route", "get", REDIS[0]).stdout
    assert "dev wg0" in route, "A's private LAN is reached through the overlay only: " + route

    # A's run knows only A's hosts and the node it rents (reached with A's provisioning key), never B's others.
    assert set(recap_hosts(first)) <= {"localhost", "cloud", "povo", "seoul-keti"} and "seoul" not in first, first
    before = nonces(lab)
    _, second, out = lab.playbook("federate.yml", org="provider_a")
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
    known_hosts = lab.state / "orgs" / "provider_a" / "rented_known_hosts"
    trusted = known_hosts.read_text()

    rc, result, out = lab.playbook("playbooks/provision.yml", "-e", "fog_keyscan_command=%s" % keyscan, check=False,
                                   org="provider_a")
    assert rc != 0, out[-4000:]
    assert "but the seller recorded" in out and "Not connecting (the endpoint may be intercepted)" in out, out[-4000:]
    assert changed(result) == 0, out[-4000:]
    assert known_hosts.read_text() == trusted, "the impostor's key must not be trusted"


def test_release_settles_and_undoes_everything(lab):
    w3, accounts = chain(lab)
    assert "decenter-reb-" in granted_keys(lab), "B's agent granted A's key when it accepted"
    _, first, out = lab.playbook("playbooks/release.yml", org="provider_a")
    assert changed(first) > 0
    assert "seoul" not in first, "A's run never touches B's own hosts"
    peers = in_host(lab, "cloud", "wg", "show", "wg0", "peers")
    assert peers.returncode == 0 and peers.stdout.strip() == "", "the hub keeps no peer for the released node"
    assert in_host(lab, "seoul-keti", "ip", "link", "show", "wg0").returncode != 0, "the node left the overlay"
    assert not reachable(lab, "seoul-keti", REDIS)

    contract = lab.reb()
    reservation = contract.functions.getReservation(contract.functions.reservationCount().call()).call()
    assert reservation[3] == 6, "the reservation is Released"
    assert contract.functions.owed(accounts["provider_a"]).call() == 0
    for _ in range(120):  # bounded: B's agent sees the release on chain, revokes and collects by itself
        if "decenter-reb-" not in granted_keys(lab) and contract.functions.owed(accounts["provider_b"]).call() == 0:
            break
        time.sleep(0.5)
    assert "decenter-reb-" not in granted_keys(lab), "B's agent revoked the buyer's key by itself"
    assert contract.functions.owed(accounts["provider_b"]).call() == 0, "B's agent collected its payment"
    assert w3.eth.get_balance(contract.address) == 0, "escrow fully paid out: seller for the time used, buyer the rest"

    before = nonces(lab)
    _, second, out = lab.playbook("playbooks/release.yml", org="provider_a")
    assert changed(second) == 0, out[-4000:]
    assert nonces(lab) == before, "a rerun sends no transaction"
