"""Faults injected into one federated lab, each repaired by a plain rerun (or by itself) with no text the
Processor read lost, none stored twice, and the balances exact (issue 16). The tests run in file order in this
file's turn on the shared lab (tests/conftest.py LAB_TURNS), the last before lab_down: test_7 kills the chain.
The release tests come last."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.lab.test_federate import REDIS, chain, in_host, nonces
from tests.support.chain import artifact
from tests.support.lab import changed
from tests.support.process import cmdline, mount_namespace, pids, running

ROOT = Path(__file__).resolve().parents[2]
PROCESSOR = "simple_ocr-processor-camkor1"
BUYER = "provider_a"


@pytest.fixture(scope="module")
def lab(shared_lab):
    with shared_lab.turn() as built:
        built.playbook("federate.yml", org=BUYER)
        yield built


def buyer_file(lab, name):
    """A file in provider A's secret directory (the lab operator, this test, may read it)."""
    return lab.state / "orgs" / BUYER / name


def host_dir(lab, host):
    return Path(lab.extra["lab_dir"]) / "hosts" / host


def stream(lab, camera="camkor1"):
    """Every entry of the camera's stream in A's Repository: [(time, text)], oldest first."""
    password = buyer_file(lab, "repository_password").read_text().strip()
    code = ("import json, redis, sys\nr = redis.Redis(host=%r, port=%s, password=sys.stdin.read(), "
            "decode_responses=True)\nprint(json.dumps([(float(f['time']), f['text']) for _, f in "
            "r.xrange('ocr:stream:%s')]))" % (REDIS[0], REDIS[1], camera))
    out = subprocess.run(["ip", "netns", "exec", "%s-cloud" % lab.prefix, str(ROOT / ".venv/bin/python"), "-c", code],
                         input=password, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return [tuple(entry) for entry in json.loads(out.stdout)]


def reads(lab, host="seoul-keti", service=PROCESSOR):
    """What the Processor logged as read (every run of it): [(time, text)]."""
    log = host_dir(lab, host) / "var-log-fog" / (service + ".log")
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == "text_read":
                found.append((entry["captured_at"], entry["text"]))
    return found


def counter(text):
    parts = text.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def assert_nothing_lost(lab, contiguous_since=None, attempts=120):
    """Every text the Processor read is stored exactly once (waiting, bounded, for its buffer to drain);
    with contiguous_since, the counters stored after that time are in order with no run of lost ones (the
    Processor ran throughout)."""
    for _ in range(attempts):
        stored, read = stream(lab), reads(lab)
        if set(read) <= set(stored):
            break
        time.sleep(1)
    assert len(stored) == len(set(stored)), "a text stored twice: %s" % sorted(
        e for e in stored if stored.count(e) > 1)[:5]
    missing = sorted(set(read) - set(stored))
    assert not missing, "read but never stored: %s" % missing[:5]
    if contiguous_since is not None:
        # The camera's counters stored since then go up in order; a counter missing alone is a line OCR did not
        # read for sure (the Processor stores no unsure read), a run of three or more would be texts lost.
        numbers = [counter(t) for at, t in stored if at >= contiguous_since and counter(t) is not None]
        assert numbers == sorted(numbers), "stored out of order: %s" % numbers
        gaps = [(a, b) for a, b in zip(numbers, numbers[1:]) if b - a > 3]
        assert not gaps, "counters missing between %s" % gaps
    return stored


def wait_for_more(lab, than, attempts=90):
    for _ in range(attempts):  # bounded: ~1.5 min
        entries = stream(lab)
        if len(entries) > than:
            return entries
        time.sleep(1)
    raise AssertionError("no new camkor1 text in A's Repository")


def host_pids(lab, host, needle):
    """Pids of processes of one lab host (its mount namespace) whose command line holds needle."""
    mnt = mount_namespace(int((host_dir(lab, host) / "run" / "sshd.pid").read_text()))
    return [pid for pid in pids() if mount_namespace(pid) == mnt and needle in cmdline(pid) and running(pid)]


def processors(lab):
    return host_pids(lab, "seoul-keti", "-m simple_ocr.processor")


def rented_changed(recap):
    return sum(v.get("changed", 0) for k, v in recap.items() if k not in ("cloud", "povo", "seoul", "localhost"))


def test_1_a_bounced_overlay_link_is_repaired_by_a_rerun(lab):
    before = wait_for_more(lab, 0)
    start = time.time()
    lab.netns("seoul-keti", "ip", "link", "set", "wg0", "down")
    time.sleep(2)
    lab.netns("seoul-keti", "ip", "link", "set", "wg0", "up")
    assert "dev wg0" not in lab.netns("seoul-keti", "ip", "route", "get", REDIS[0]).stdout, "fault not injected"
    time.sleep(6)  # texts read meanwhile wait in the Processor's buffer

    _, recap, out = lab.playbook("playbooks/provision.yml", org=BUYER)
    assert rented_changed(recap) > 0, out[-3000:]
    assert "dev wg0" in lab.netns("seoul-keti", "ip", "route", "get", REDIS[0]).stdout
    wait_for_more(lab, len(before) + 3)
    assert_nothing_lost(lab, contiguous_since=start)

    _, recap, out = lab.playbook("playbooks/provision.yml", org=BUYER)
    assert changed(recap) == 0, out[-3000:]


def test_2_a_killed_supervisor_leaves_no_orphan_and_a_rerun_runs_one_processor(lab):
    [orphan] = processors(lab)
    state = json.loads((host_dir(lab, "seoul-keti") / "run" / "fog" / (PROCESSOR + ".state")).read_text())
    os.kill(state["pid"], signal.SIGKILL)
    for _ in range(100):  # bounded: the Processor gets SIGTERM when its supervisor dies, flushes and exits
        if orphan not in processors(lab):
            break
        time.sleep(0.1)
    assert orphan not in processors(lab), "the Processor outlived its killed supervisor"
    count = len(stream(lab))

    _, recap, out = lab.playbook("playbooks/deploy.yml", org=BUYER)
    assert rented_changed(recap) > 0, out[-3000:]
    assert len(processors(lab)) == 1
    wait_for_more(lab, count + 2)
    assert_nothing_lost(lab)
    _, recap, out = lab.playbook("playbooks/deploy.yml", org=BUYER)
    assert changed(recap) == 0, out[-3000:]


def test_2_an_unhealthy_processor_is_restarted_by_a_rerun(lab):
    [hung] = processors(lab)
    os.kill(hung, signal.SIGSTOP)  # its /healthz stops answering
    try:
        _, recap, out = lab.playbook("playbooks/deploy.yml", org=BUYER)
    finally:
        if hung in processors(lab):
            os.kill(hung, signal.SIGCONT)
    assert rented_changed(recap) > 0, out[-3000:]
    assert processors(lab) != [hung] and len(processors(lab)) == 1
    count = len(stream(lab))
    wait_for_more(lab, count + 2)
    assert_nothing_lost(lab)


def test_5_a_second_run_at_once_is_refused_plainly_and_changes_nothing(lab):
    with lab.started("playbooks/provision.yml", org=BUYER) as first:
        lock = buyer_file(lab, "run.lock")
        for _ in range(300):  # bounded: the first run takes the lock in its first task
            if lock.exists() and str(first.pid) in lock.read_text():
                break
            time.sleep(0.1)
        # Held where it is while the second run starts: a rerun that changes nothing is now quicker than a second
        # ansible-playbook's start, and would otherwise be over (lock released) before the second run looks.
        os.kill(first.pid, signal.SIGSTOP)
        try:
            rc, recap, out = lab.playbook("playbooks/provision.yml", check=False, org=BUYER)
        finally:
            os.kill(first.pid, signal.SIGCONT)
        first_out = "".join(first.communicate(timeout=600))
    assert rc != 0 and "Another run for provider_a" in out and "is in progress" in out, out[-3000:]
    assert "playbooks/provision.yml" in out and changed(recap) == 0, out[-3000:]
    assert first.returncode == 0, first_out[-3000:]
    assert "remove the file" not in out + first_out
    _, recap, out = lab.playbook("playbooks/provision.yml", org=BUYER)
    assert changed(recap) == 0, out[-3000:]


def test_8_chain_options_given_to_a_run_reach_the_rented_nodes(lab):
    w3, accounts = chain(lab)
    built = artifact()
    other = w3.eth.contract(abi=built["abi"], bytecode=built["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(other.constructor(3600).transact({"from": accounts["deployer"]}))

    def rented(*extra):
        return lab.run([str(ROOT / ".venv/bin/ansible"), "reb_rented", "-i", str(lab.org_inventory(BUYER)),
                        "--list-hosts", "-e", json.dumps(lab.extra)] + list(extra), timeout=120).stdout

    assert "hosts (1)" in rented()
    assert "hosts (0)" in rented("-e", "reb_contract_address=%s" % receipt.contractAddress)


def test_3_the_rented_node_holds_only_a_write_only_user_of_its_rental(lab):
    password = buyer_file(lab, "repository_password").read_text().strip()
    spec = (host_dir(lab, "seoul-keti") / "var-lib-fog" / "services" / (PROCESSOR + ".json")).read_text()
    assert password not in spec, "the rented node must never hold A's Repository password"
    url = json.loads(spec)["env"]["OCR_REDIS_URL"]
    assert url.startswith("redis://rental-"), url
    user, secret = url[len("redis://"):].split("@")[0].split(":")
    auth = ["redis-cli", "-h", REDIS[0], "--user", user, "--pass", secret, "--no-auth-warning"]
    assert "NOPERM" in lab.netns("cloud", *auth, "XRANGE", "ocr:stream:camkor1", "-", "+").stdout
    assert "NOPERM" in lab.netns("cloud", *auth, "XADD", "ocr:stream:cam1", "*", "text", "forged").stdout
    assert "NOPERM" in lab.netns("cloud", *auth, "KEYS", "*").stdout


def stop_sshd(lab, host):
    """The node's SSH service stops answering (listener stopped, sessions ended); returns how to resume it."""
    listener = int((host_dir(lab, host) / "run" / "sshd.pid").read_text())
    os.kill(listener, signal.SIGSTOP)
    for pid in host_pids(lab, host, "sshd"):
        if pid != listener:
            os.kill(pid, signal.SIGTERM)
    return lambda: os.kill(listener, signal.SIGCONT)


def test_3_4_a_release_with_the_node_down_settles_says_what_is_pending_and_a_rerun_cleans_it(lab):
    w3, accounts = chain(lab)
    escrow_holder = lab.reb()
    balance = {name: w3.eth.get_balance(accounts[name]) for name in ("provider_a", "provider_b")}
    start_block = w3.eth.block_number + 1
    # The node stays down until what the release left is checked: B's agent, woken by the release event, would
    # otherwise clean it as soon as it answers again, and the check would race the agent.
    resume = stop_sshd(lab, "seoul-keti")
    try:
        rc, recap, out = lab.playbook("playbooks/release.yml", check=False, org=BUYER)
        assert rc == 0, out[-5000:]
        assert "Clean-up PENDING on" in out and "does not answer" in out, out[-5000:]
        for noise in ("has no attribute 'stdout_lines'", "No first item"):
            assert noise not in out, out[max(0, out.find(noise) - 3000):out.find(noise) + 500]
        reb = escrow_holder
        reservation = reb.functions.getReservation(reb.functions.reservationCount().call()).call()
        assert reservation[3] == 6, "released on chain"
        assert reb.functions.owed(accounts["provider_a"]).call() == 0, "A collected its refund in the same run"
        # B's share is B's to collect: its own agent does it on the ReservationReleased event (bounded wait).
        for _ in range(120):
            if w3.eth.get_balance(reb.address) == 0:
                break
            time.sleep(0.5)
        assert w3.eth.get_balance(reb.address) == 0 and reb.functions.owed(accounts["provider_b"]).call() == 0, \
            "B's agent collected the seller's share by itself"
        pending = yaml.safe_load(buyer_file(lab, "pending_cleanup.yml").read_text())
        assert len(pending) == 1, pending
        users = in_host(lab, "cloud", "sh", "-c", "REDISCLI_AUTH=$(cat %s) redis-cli -h %s ACL USERS"
                        % (buyer_file(lab, "repository_password"), REDIS[0])).stdout.split()
        assert users == ["default"], "the rental's Repository user is deleted at release: %s" % users
        assert processors(lab), "the node was down: its Processor is left until the pending clean-up"
    finally:
        resume()

    # The node is back. Whoever comes first cleans it: A's rerun (its key still works), or B's agent, which revokes
    # A's key and cleans the node itself on the release event; then A's rerun finds its key refused and drops the
    # record, saying the seller took the node back. Either way nothing of A's is left and nothing stays pending.
    rc, recap, out = lab.playbook("playbooks/release.yml", check=False, org=BUYER)
    assert rc == 0 and changed(recap) > 0, out[-5000:]
    for noise in ("has no attribute 'stdout_lines'", "No first item"):
        assert noise not in out, out[max(0, out.find(noise) - 3000):out.find(noise) + 500]
    assert yaml.safe_load(buyer_file(lab, "pending_cleanup.yml").read_text()) == {}
    for _ in range(120):  # bounded: B's agent may still be cleaning
        if not processors(lab) and in_host(lab, "seoul-keti", "ip", "link", "show", "wg0").returncode != 0:
            break
        time.sleep(0.5)
    assert not processors(lab), "the pending clean-up (A's or B's) stopped the Processor"
    assert in_host(lab, "seoul-keti", "ip", "link", "show", "wg0").returncode != 0
    assert not list((host_dir(lab, "seoul-keti") / "var-lib-fog" / "services").glob("simple_ocr-*"))
    # The buyer's key is the seller's to revoke: its agent could not reach the node at the release; its next run
    # (any later event, or the same playbook from cron / an AWX schedule, as here) does it.
    lab.playbook("playbooks/seller/answer.yml", org="provider_b")
    keys = (host_dir(lab, "seoul-keti") / "root-ssh" / "authorized_keys").read_text()
    assert "decenter-reb-" not in keys
    # Balances exact: escrow = seller's share + buyer's refund, each withdrawn once, and every wei of each
    # account's balance change is that withdrawal less the gas of its own transactions.
    rid = reb.functions.reservationCount().call()
    [released] = reb.events.ReservationReleased().get_logs(from_block=start_block, argument_filters={"reservationId": rid})
    [requested] = reb.events.ReservationRequested().get_logs(from_block=0, argument_filters={"reservationId": rid})
    assert released.args.toSeller + released.args.toBuyer == requested.args.escrow > 0
    withdrawn = dict((log.args.account, log.args.amount)
                     for log in reb.events.Withdrawn().get_logs(from_block=start_block))
    assert withdrawn == {accounts["provider_a"]: released.args.toBuyer, accounts["provider_b"]: released.args.toSeller}
    for name in ("provider_a", "provider_b"):
        gas = sum(r.gasUsed * r.effectiveGasPrice for r in receipts_from(w3, accounts[name], start_block))
        assert w3.eth.get_balance(accounts[name]) - balance[name] == withdrawn[accounts[name]] - gas, name
    rc, recap, out = lab.playbook("playbooks/release.yml", check=False, org=BUYER)
    assert rc == 0 and changed(recap) == 0, out[-5000:]


def receipts_from(w3, address, first_block):
    """Receipts of the transactions `address` sent from block first_block on."""
    found = []
    for number in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True).transactions:
            if tx["from"] == address:
                found.append(w3.eth.get_transaction_receipt(tx["hash"]))
    return found


def test_6_bad_hours_and_a_low_price_are_said_plainly_and_cost_nothing(lab):
    before = nonces(lab)
    for hours, said in (("0", "hours=0: a reservation lasts a whole number of hours, at least 1"),
                        ("-1", "hours=-1: a reservation lasts a whole number of hours, at least 1")):
        rc, _, out = lab.playbook("playbooks/reserve.yml", "-e", "fog_hours=%s" % hours, check=False, org=BUYER)
        assert rc != 0 and said in out, out[-3000:]
    rc, _, out = lab.playbook("playbooks/reserve.yml", "-e", "fog_max_price_per_hour=1", check=False, org=BUYER)
    assert rc != 0 and "costs at most max_price_per_hour=1 wei per hour; the cheapest that does" in out, out[-3000:]
    assert "costs 1000000000000000 wei per hour" in out, out[-3000:]
    rc, _, out = lab.playbook("federate.yml", "-e", "reb_contract_address=0x" + "de" * 20, check=False, org=BUYER)
    assert rc != 0 and "no Resource Exchange Broker at" in out, out[-3000:]
    failed_in = out.split("no Resource Exchange Broker at")[0].rsplit("PLAY [", 1)[-1].split("]")[0]
    assert failed_in == "Step 3 - Check the chain options every step uses", failed_in
    assert nonces(lab) == before, "bad input sent a transaction"


def test_7_a_killed_chain_keeps_every_transaction_a_run_was_told_about(lab):
    w3, accounts = chain(lab)
    reb = lab.reb()
    _, _, out = lab.playbook("playbooks/reserve.yml", org=BUYER)  # pays escrow; the seller accepts
    count = reb.functions.reservationCount().call()
    reservation = reb.functions.getReservation(count).call()
    balances = {name: w3.eth.get_balance(address) for name, address in accounts.items()}
    block = w3.eth.block_number

    keeper = int((Path(lab.extra["lab_dir"]) / "chain" / "anvil.pid").read_text())
    [anvil] = [int(pid) for pid in Path("/proc/%d/task/%d/children" % (keeper, keeper)).read_text().split()]
    os.kill(anvil, signal.SIGKILL)  # at once, as a crash would
    for _ in range(100):  # bounded: the keeper ends with its anvil
        if not Path("/proc/%d" % keeper).exists() or \
                Path("/proc/%d/stat" % keeper).read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.1)

    lab.playbook("playbooks/chain_up.yml")
    w3, _ = chain(lab)
    reb = lab.reb()
    assert w3.eth.block_number == block
    assert reb.functions.reservationCount().call() == count
    assert reb.functions.getReservation(count).call() == reservation
    assert {name: w3.eth.get_balance(address) for name, address in accounts.items()} == balances
