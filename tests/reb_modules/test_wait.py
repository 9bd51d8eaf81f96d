"""The buyer waits for the seller's answer (reb_reservation state=requested with wait_timeout), on a real anvil at its
default gas limit. The seller here acts on chain by itself (tests/support/chain_seller.py: a thread sending accept or
reject as soon as it sees a request), the way provider B's agent does; the buyer's playbook only reads the chain.

- accepted: the task returns the accepted reservation;
- rejected: the next best matching offer is reserved; when none is left, a clear "nothing left" and every escrow back;
- no answer: the wait ends at wait_timeout, the buyer cancels and withdraws: its balance moves by its gas only (wei).

The modules run in-process (tests/support/reb_inproc: run() as the action plugin calls it); the seller's thread
answers meanwhile, as it did while an ansible-playbook process waited."""
import pytest

from tests.reb_modules.conftest import A, B, C, Reb, deploy
from tests.support.chain import Anvil
from tests.support.chain_seller import ChainSeller

PRICE_B = 10 ** 15
PRICE_C = 2 * 10 ** 15

def publish(reb, tag):
    """Sellers B and C each offer a node matching the same filters, B's the cheapest."""
    for who, name in ((B, "Provider B"), (C, "Provider C")):
        reb.ok("reb_provider", name=name, private_key=reb.keys[who])
    for who, price in ((B, PRICE_B), (C, PRICE_C)):
        reb.ok("reb_offer", private_key=reb.keys[who], node_id="%s-%s" % ("b" if who == B else "c", tag),
               region="R-" + tag, cpu_millicores=2000, memory_mib=2048, devices=["cam-%s:camera" % tag],
               price_per_hour=price)


@pytest.fixture(scope="module")
def reb(tmp_path_factory):
    chain = Anvil(tmp_path_factory.mktemp("anvil-wait"))  # anvil's default block gas limit
    try:
        yield Reb(chain, deploy(chain))
    finally:
        chain.stop()


def sellers(reb, ssh_material, b, c):
    started = [ChainSeller(reb.w3, reb.contract, reb.accounts[who], answer, ssh_material["host_fingerprint"])
               for who, answer in ((B, b), (C, c))]
    for seller in started:
        seller.start()
    return started


def gas_paid(reb, address, first_block):
    """Wei the account paid for gas in the blocks since `first_block` (from the receipts)."""
    paid = 0
    for number in range(first_block, reb.w3.eth.block_number + 1):
        for tx in reb.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == address:
                receipt = reb.w3.eth.get_transaction_receipt(tx["hash"])
                paid += receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return paid


def reserve(reb, ssh_material, tag, wait_timeout, max_offers=3):
    """Buyer A reserves and waits for the answer: the reb_reservation result (failed or not)."""
    return reb.do("reb_reservation", private_key=reb.keys[A], state="requested", offer_filters={"region": "R-" + tag},
                  hours=2, buyer_public_key=ssh_material["buyer_public_key"], wait_timeout=wait_timeout,
                  max_offers=max_offers)


def test_an_accepted_request_ends_the_wait(reb, ssh_material):
    publish(reb, "acc")
    answering = sellers(reb, ssh_material, "accept", "accept")
    try:
        booking = reserve(reb, ssh_material, "acc", 30)
    finally:
        for seller in answering:
            seller.stop()
    assert not booking.get("failed"), booking
    assert booking["reservation"]["state"] == "accepted", booking
    assert booking["reservation"]["access_endpoint"] == "198.51.100.4:22"
    assert [a["state"] for a in booking["answers"]] == ["accepted"]
    assert booking["answers"][0]["node_id"] == "b-acc", "the cheapest offer is tried first"

    before = reb.nonces()
    again = reserve(reb, ssh_material, "acc", 30)
    assert not again.get("failed") and again["changed"] is False, again
    assert reb.nonces() == before, "a rerun sends no transaction"


def test_a_rejected_request_moves_on_to_the_next_offer(reb, ssh_material):
    publish(reb, "rej")
    answering = sellers(reb, ssh_material, "reject", "accept")
    try:
        booking = reserve(reb, ssh_material, "rej", 30)
    finally:
        for seller in answering:
            seller.stop()
    assert not booking.get("failed"), booking
    assert [(a["node_id"], a["state"]) for a in booking["answers"]] == [("b-rej", "rejected"), ("c-rej", "accepted")]
    assert booking["answers"][0]["reason"] == "not for sale to you", "the seller's reason, from its event"
    assert "reason" not in booking["answers"][1]
    assert booking["offer"]["node_id"] == "c-rej" and booking["reservation"]["state"] == "accepted"
    assert reb.owed(reb.accounts[A]) == PRICE_B * 2, "the REB refunded the rejected escrow (credited to A)"


def test_when_every_seller_rejects_nothing_is_left_and_every_escrow_comes_back(reb, ssh_material):
    publish(reb, "none")
    buyer = reb.accounts[A]
    first_block = reb.w3.eth.block_number + 1
    balance, reb_balance = reb.w3.eth.get_balance(buyer), reb.w3.eth.get_balance(reb.address)
    owed_before = reb.owed(buyer)
    answering = sellers(reb, ssh_material, "reject", "reject")
    try:
        run = reserve(reb, ssh_material, "none", 30)
    finally:
        for seller in answering:
            seller.stop()
    assert run.get("failed") is True, run
    assert "nothing left to rent" in run["msg"] and "b-none: not for sale to you" in run["msg"] \
        and "c-none: not for sale to you" in run["msg"], run
    assert reb.owed(buyer) == 0
    assert reb.w3.eth.get_balance(buyer) == balance + owed_before - gas_paid(reb, buyer, first_block), \
        "every escrow came back: the buyer's balance moved by its gas only (and the earlier refund it collected)"
    assert reb.w3.eth.get_balance(reb.address) == reb_balance - owed_before


def test_no_answer_in_time_cancels_and_refunds_to_the_wei(reb, ssh_material):
    publish(reb, "mute")
    buyer = reb.accounts[A]
    assert reb.owed(buyer) == 0
    first_block = reb.w3.eth.block_number + 1
    balance, reb_balance = reb.w3.eth.get_balance(buyer), reb.w3.eth.get_balance(reb.address)
    run = reserve(reb, ssh_material, "mute", 3)
    assert run.get("failed") is True, run
    assert "did not answer reservation" in run["msg"] and "within wait_timeout=3 s" in run["msg"], run
    assert "cancelled it" in run["msg"] and "withdrew %d wei" % (PRICE_B * 2) in run["msg"], run
    paid = gas_paid(reb, buyer, first_block)
    assert paid > 0
    assert reb.w3.eth.get_balance(buyer) == balance - paid, "the escrow came back to the wei; only gas was spent"
    assert reb.w3.eth.get_balance(reb.address) == reb_balance
    assert reb.owed(buyer) == 0


@pytest.mark.parametrize("options, message", [
    ({"wait_timeout": -1}, "give wait_timeout >= 0 seconds and max_offers >= 1"),
    ({"wait_timeout": 5, "max_offers": 0}, "give wait_timeout >= 0 seconds and max_offers >= 1"),
])
def test_bad_wait_options_are_refused_before_anything_is_sent(reb, ssh_material, options, message):
    before = reb.nonces()
    run = reserve(reb, ssh_material, "acc", **options)
    assert run.get("failed") is True and message in run["msg"], run
    assert reb.nonces() == before
