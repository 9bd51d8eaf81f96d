"""Provider B's Resource Seller on a real anvil (default gas limit): the seller playbook without EDA (cron, AWX) and
the agent (ansible-rulebook + decenter.fog.reb_events + the rulebook) answering by itself."""
import re
import signal
import threading
import time

import pytest

from tests.seller.market import BUYER_A, BUYER_D, BUYER_E, start_chain
from tests.seller.seller_env import SellerEnv

REQUESTED, ACCEPTED, REJECTED, RELEASED = 1, 2, 3, 6


@pytest.fixture
def chain(tmp_path):
    node = start_chain(tmp_path)
    yield node
    node.stop()


def recap(output):
    return dict((m.group(1), dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))))
                for m in re.finditer(r"^(\S+)\s+: (ok=.*)$", output.split("PLAY RECAP")[-1], re.M))


def test_one_run_answers_every_request_by_the_policy_and_a_rerun_changes_nothing(chain, tmp_path):
    seller = SellerEnv(tmp_path, chain, nodes=3)
    refused = chain.w3.eth.accounts[BUYER_D]
    seller.set_policy({"refused_buyers": [refused], "max_hours": 4})
    offers = seller.publish()
    w3, reb = seller.market.w3, seller.market.reb
    ok, _ = seller.market.reserve(BUYER_A, offers["node-00"], key=b"\x01" * 32)
    by_refused, _ = seller.market.reserve(BUYER_D, offers["node-01"])
    too_long, _ = seller.market.reserve(BUYER_E, offers["node-02"], hours=5)
    owed_before = reb.functions.owed(refused).call()
    nonce = seller.seller_transactions()

    checked = seller.playbook("playbooks/seller/answer.yml", "--check")  # says what it would do, does none of it
    assert recap(checked.stdout)["node-00"]["changed"] > 0 and "decenter-reb" not in seller.keys("node-00")
    assert seller.seller_transactions() == nonce and seller.market.state(ok) == REQUESTED

    first = seller.answer()

    assert [seller.market.state(r) for r in (ok, by_refused, too_long)] == [ACCEPTED, REJECTED, REJECTED]
    # the refused buyer gets its whole escrow back (credited, to withdraw)
    assert reb.functions.owed(refused).call() - owed_before == 10 ** 15
    assert "reservation %d from %s for node-01 is rejected: buyer %s is in refused_buyers" % (
        by_refused, refused, refused) in first.stdout
    assert "is rejected: 5 hours is above max_hours=4" in first.stdout
    # accepted with the node's endpoint and host-key fingerprint; the buyer's key granted on that node only
    (accepted,) = [e["args"] for e in reb.events.ReservationAccepted().get_logs(from_block=0)
                   if e["args"]["reservationId"] == ok]
    host_key = (tmp_path / "nodes" / "node-00" / "ssh_host_ed25519_key.pub").read_text()
    import base64
    import hashlib
    assert accepted["accessEndpoint"] == "198.18.0.21:22" and accepted["hostKeyFingerprint"] == hashlib.sha256(base64.b64decode(host_key.split()[1])).digest()
    assert "decenter-reb-%d" % ok in seller.keys("node-00")
    assert "decenter-reb" not in seller.keys("node-01") + seller.keys("node-02")

    nonce = seller.seller_transactions()
    second = seller.answer()
    assert all(counts["changed"] == 0 for counts in recap(second.stdout).values()), second.stdout[-3000:]
    assert seller.seller_transactions() == nonce
    assert seller.answers() == {ok: ["ReservationAccepted"], by_refused: ["ReservationRejected"],
                                too_long: ["ReservationRejected"]}


def test_a_released_rental_loses_its_key_and_the_seller_is_paid(chain, tmp_path):
    seller = SellerEnv(tmp_path, chain, nodes=1)
    offers = seller.publish()
    rid, _ = seller.market.reserve(BUYER_A, offers["node-00"], hours=2)
    seller.answer()
    admin = seller.keys("node-00").splitlines()[0]
    assert "decenter-reb-%d" % rid in seller.keys("node-00")
    seller.market.w3.provider.make_request("evm_increaseTime", [600])  # 10 minutes of the rental used: B is owed
    seller.market.send(seller.market.reb.functions.release(rid), BUYER_A)
    assert seller.market.reb.functions.owed(seller.seller).call() > 0

    out = seller.answer()

    assert seller.keys("node-00").splitlines() == [admin]  # the buyer's key gone, the seller's own stays
    assert seller.market.reb.functions.owed(seller.seller).call() == 0  # collected
    assert "Collect what the REB owes me" in out.stdout
    again = seller.answer()
    assert all(counts["changed"] == 0 for counts in recap(again.stdout).values()), again.stdout[-3000:]


def test_agent_killed_after_a_request_is_mined_answers_it_exactly_once(chain, tmp_path):
    seller = SellerEnv(tmp_path, chain, nodes=2, host_keys_in_inventory=True)
    offers = seller.publish()
    seller.start_agent()
    try:
        first, _ = seller.market.reserve(BUYER_A, offers["node-00"])
        seller.wait(lambda: seller.market.state(first) == ACCEPTED, what="the first acceptance")
        nonce = seller.seller_transactions()
        second, _ = seller.market.reserve(BUYER_D, offers["node-01"])
        seller.stop_agent(signal.SIGKILL)  # killed right after the request is mined, before it could answer
        assert seller.market.state(second) == REQUESTED
        runs = seller.agent_log.read_text().count("PLAY RECAP")
        seller.start_agent()
        seller.wait(lambda: seller.market.state(second) == ACCEPTED, what="the answer after the restart")
        # the restarted agent's start-up run, and the event's run if the killed agent had not handed it on yet
        seller.wait(lambda: seller.agent_log.read_text().count("PLAY RECAP") > runs, what="the start-up run")
        seller.wait_quiet()
    finally:
        seller.stop_agent()
    assert seller.answers() == {first: ["ReservationAccepted"], second: ["ReservationAccepted"]}
    assert seller.seller_transactions() == nonce + 1


def test_a_burst_of_20_requests_from_three_buyers_is_answered_once_each(chain, tmp_path):
    seller = SellerEnv(tmp_path, chain, nodes=20, host_keys_in_inventory=True)
    refused = chain.w3.eth.accounts[BUYER_E]
    seller.set_policy({"refused_buyers": [refused]})
    offers = seller.publish()
    nonce = seller.seller_transactions()
    seller.start_agent()
    try:
        buyers = [(BUYER_A, BUYER_D, BUYER_E)[i % 3] for i in range(20)]
        ids = [seller.market.reserve(b, offers["node-%02d" % i])[0] for i, b in enumerate(buyers)]
        seller.wait(lambda: all(seller.market.state(r) != REQUESTED for r in ids), timeout=300, what="20 answers")
        seller.wait_quiet()  # every event's run is done: none may answer twice
    finally:
        seller.stop_agent()
    answers = seller.answers()
    want = dict((r, ["ReservationRejected" if b == BUYER_E else "ReservationAccepted"]) for r, b in zip(ids, buyers))
    assert answers == want
    assert seller.seller_transactions() == nonce + 20  # one transaction per request, none repeated or reverted
    for i, (r, b) in enumerate(zip(ids, buyers)):
        assert ("decenter-reb-%d" % r in seller.keys("node-%02d" % i)) == (b != BUYER_E)


def test_a_runs_answers_go_out_together_and_share_a_block(chain, tmp_path):
    """Each node's answer is sent without waiting for another node's to be mined: with mining paused, the pool holds
    every answer of the run (two acceptances and a rejection) at once, and one block carries them all - also with
    fewer Ansible workers (forks) than answers, as a burst on more nodes than forks has."""
    seller = SellerEnv(tmp_path, chain, nodes=3, host_keys_in_inventory=True)
    refused = chain.w3.eth.accounts[BUYER_E]
    seller.set_policy({"refused_buyers": [refused]})
    offers = seller.publish()
    ids = [seller.market.reserve(b, offers["node-%02d" % i])[0] for i, b in enumerate((BUYER_A, BUYER_D, BUYER_E))]
    w3 = seller.market.w3
    nonce = seller.seller_transactions()

    def pending():
        return w3.eth.get_transaction_count(seller.seller, "pending") - nonce

    w3.provider.make_request("evm_setAutomine", [False])
    run = {}

    def answer():
        try:
            run["result"] = seller.answer(env={"ANSIBLE_FORKS": "2"})
        except AssertionError as e:  # the playbook failed: said below, after the chain is mining again
            run["error"] = str(e)[-3000:]

    worker = threading.Thread(target=answer)
    worker.start()
    try:
        most = 0
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and most < 3 and worker.is_alive():
            most = max(most, pending())
            time.sleep(0.1)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
        for _ in range(10):  # whatever waits in the pool is mined, so the run ends either way
            w3.provider.make_request("evm_mine", [])
        worker.join(300)
    assert most == 3, "at most %d of the 3 answers were pending at once" % most
    assert "result" in run, run.get("error", "the run did not end")
    assert seller.answers() == {ids[0]: ["ReservationAccepted"], ids[1]: ["ReservationAccepted"],
                                                    ids[2]: ["ReservationRejected"]}
    blocks = set(w3.eth.get_transaction_receipt(tx)["blockNumber"] for tx in _seller_txs(w3, seller.seller, nonce))
    assert len(blocks) == 1


def _seller_txs(w3, sender, from_nonce):
    """Hashes of `sender`'s transactions from nonce `from_nonce` on, from the latest blocks."""
    found = []
    for n in range(w3.eth.block_number, max(-1, w3.eth.block_number - 20), -1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            if tx["from"] == sender and tx["nonce"] >= from_nonce:
                found.append(tx["hash"])
    return found
