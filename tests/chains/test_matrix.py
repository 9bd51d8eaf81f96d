"""The same REB lifecycle, revert reasons and confirmations on each node that can run the REB."""
import threading
import time

import pytest
from eth_account import Account

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import take_warnings
from tests.chains.conftest import BUYER, DEPLOYER, NODES, SELLER, client, deploy, gas_paid, offer_spec


@pytest.fixture(scope="module", params=sorted(NODES))
def node(request, tmp_path_factory):
    chain = NODES[request.param](tmp_path_factory.mktemp(request.param))
    chain.kind = request.param
    yield chain
    chain.stop()


@pytest.fixture(scope="module")
def reb(node):
    return deploy(node)


def test_the_capability_check_accepts_the_node_and_learns_its_call_gas_cap(node):
    cap = client(node, DEPLOYER).check_chain()["call_gas_cap"]
    # Hardhat 3 runs osaka, whose transactions (and so eth_calls) are capped at 2**24 gas (EIP-7825)
    assert cap == (2 ** 24 if node.kind == "hardhat" else 30000000)


def test_a_lifecycle_with_contiguous_nonces_and_exact_balances(node, reb):
    seller, buyer = client(node, SELLER, reb), client(node, BUYER, reb)
    start = dict((c.address, (c.nonce(), node.w3.eth.get_balance(c.address))) for c in (seller, buyer))
    sent = {seller.address: [], buyer.address: []}
    sent[seller.address].append(seller.transact("registerProvider", "Provider B"))
    sent[seller.address].append(seller.transact("publishOffer", offer_spec("keti-%s" % node.kind)))
    offer_id = seller.offer_id_of(seller.address, "keti-%s" % node.kind)
    escrow = 3 * 10 ** 12
    terms = bytes.fromhex(seller.offer(offer_id)["terms_hash"][2:])
    sent[buyer.address].append(buyer.transact("reserve", offer_id, 3, b"\x01" * 32, terms, b"\x0a" * 32,
                                              value=escrow))
    reservation_id = seller.call("reservationCount")
    sent[seller.address].append(seller.transact("accept", reservation_id, "198.18.0.4:22", b"\x02" * 32))
    sent[buyer.address].append(buyer.transact("release", reservation_id))
    assert seller.reservation(reservation_id)["state"] in ("released", "settled")
    for account, receipts in sent.items():
        nonces = [node.w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts]
        assert nonces == list(range(start[account][0], start[account][0] + len(receipts))), (account, nonces)
        assert all(r["status"] == 1 for r in receipts)
    refund = buyer.owed(buyer.address)
    earned = seller.owed(seller.address)
    assert refund + earned == escrow  # escrow split between the buyer's refund and the seller's pay, to the wei
    assert node.w3.eth.get_balance(buyer.address) == start[buyer.address][1] - escrow - gas_paid(
        node.w3, sent[buyer.address])
    assert node.w3.eth.get_balance(seller.address) == start[seller.address][1] - gas_paid(node.w3, sent[seller.address])


def test_a_refused_call_is_explained(node, reb):
    buyer = client(node, BUYER, reb)
    with pytest.raises(RebError) as read:
        buyer.reservation(999)
    assert str(read.value) == "reservation 999 does not exist on this REB."
    nonce = buyer.nonce()
    with pytest.raises(RebError) as sent:
        buyer.transact("release", 999)  # refused by the estimate: nothing signed
    assert str(sent.value) == "reservation 999 does not exist on this REB."
    assert buyer.nonce() == nonce


def test_a_mined_revert_is_explained_from_a_replay(node, reb):
    # Another sender of the same wallet (not this controller) publishes node X; our publish of X is estimated
    # before that one is mined, so it is mined too and reverts: the reason comes from replaying it.
    seller = client(node, SELLER, reb)
    w3 = node.w3
    if seller.provider_name(seller.address) is None:
        seller.transact("registerProvider", "Provider B")
    automine = w3.provider.make_request("hardhat_getAutomine", [])["result"]
    w3.provider.make_request("evm_setAutomine", [False])
    if node.kind == "anvil-1s":  # no timed block between the two sends either (anvil counts in seconds)
        w3.provider.make_request("evm_setIntervalMining", [0])
    outcome = []
    try:
        data = seller.contract.encode_abi("publishOffer", [offer_spec("twice-%s" % node.kind)])
        w3.eth.send_transaction({"from": seller.address, "to": reb, "data": data, "gas": 600000})
        nonce = w3.eth.get_transaction_count(seller.address)
        ours = threading.Thread(target=_transact, args=(seller, outcome, "publishOffer",
                                                        offer_spec("twice-%s" % node.kind)))
        ours.start()
        for _ in range(100):  # bounded: ours is in the pool within milliseconds
            if w3.eth.get_transaction_count(seller.address, "pending") == nonce + 2:
                break
            time.sleep(0.05)
        w3.provider.make_request("evm_mine", [])  # one block with both
        ours.join(30)
    finally:
        w3.provider.make_request("evm_setAutomine", [automine])
        if node.kind == "anvil-1s":
            w3.provider.make_request("evm_setIntervalMining", [1])
    assert len(outcome) == 1 and isinstance(outcome[0], RebError), outcome
    mined = outcome[0]
    text = str(mined)
    offer_id = seller.offer_id_of(seller.address, "twice-%s" % node.kind)
    assert text.startswith("publishOffer was mined but reverted (tx 0x"), text
    assert text.endswith(": node twice-%s is already offered by this seller as offer %d; update that offer instead."
                         % (node.kind, offer_id)), text


def _transact(client, outcome, *args):
    try:
        outcome.append(client.transact(*args))
    except RebError as e:
        outcome.append(e)


def test_confirmations_complete_on_timed_and_automine_chains(node, reb):
    seller = client(node, SELLER, reb, confirmations=2)
    take_warnings()
    receipt = seller.transact("registerProvider", "Provider B, confirmed")
    warnings = take_warnings()
    if node.kind == "anvil-1s":
        assert node.w3.eth.block_number >= receipt["blockNumber"] + 2 and warnings == []
    else:  # no block comes without a transaction: say so instead of waiting for blocks that never come
        assert len(warnings) == 1 and "automine" in warnings[0] and "confirmations=2" in warnings[0], warnings
    assert seller.provider_name(seller.address) == "Provider B, confirmed"


def test_fees_follow_eip1559(node, reb):
    seller = client(node, SELLER, reb)
    receipt = seller.transact("registerProvider", "Provider B")
    tx = node.w3.eth.get_transaction(receipt["transactionHash"])
    block = node.w3.eth.get_block(receipt["blockNumber"])
    assert tx["type"] == 2 and tx["maxFeePerGas"] >= block["baseFeePerGas"] + tx["maxPriorityFeePerGas"]


def test_a_timed_chain_is_polled_a_few_times_per_transaction(node, reb):
    # 0.05 s polls made ~20 receipt requests per transaction at 1 s blocks; the block-time schedule at most about ten
    # (the due time, then a look every 0.1 s until the block comes).
    seller = client(node, SELLER, reb)
    calls = []
    request = seller.w3.provider.make_request

    def counted(method, params):
        calls.append(method)
        return request(method, params)

    seller.w3.provider.make_request = counted
    started = time.monotonic()
    for i in range(3):
        seller.transact("registerProvider", "Provider B %d" % i)
    polls = calls.count("eth_getTransactionReceipt")
    assert polls <= 3 * (11 if node.kind == "anvil-1s" else 1), (polls, time.monotonic() - started, calls)
    assert len(calls) <= 3 * 16, calls


def test_a_key_without_funds_is_refused_before_sending(node, reb):
    poor = Account.create()
    options = dict(private_key=poor.key.hex())
    broke = client(node, SELLER, reb, **options)
    with pytest.raises(RebError) as refused:
        broke.transact("registerProvider", "nobody")
    assert "insufficient funds for registerProvider" in str(refused.value) and poor.address in str(refused.value)
    assert node.w3.eth.get_transaction_count(poor.address) == 0


def test_a_stale_pending_nonce_is_retried_without_paying_twice(node, reb):
    # A load-balanced endpoint may answer the pending count from a node that lags: "nonce too low" (or
    # "underpriced" on some nodes); the sender moves on to the next nonce, and one transaction is mined.
    seller = client(node, SELLER, reb)
    if seller.provider_name(seller.address) is None:
        seller.transact("registerProvider", "Provider B")
    real, asked = seller.sender.nonce, []

    def lagging():
        asked.append(real())
        return asked[-1] - 1 if len(asked) == 1 else asked[-1]

    seller.sender.nonce = lagging
    start = real()
    receipt = seller.transact("registerProvider", "Provider B, retried")
    assert len(asked) == 2 and node.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == start
    assert real() == start + 1 and seller.provider_name(seller.address) == "Provider B, retried"


def _accepted_rental(node, seller, buyer, name, hours=3):
    """A reservation of a fresh offer, accepted: (reservation id, escrow)."""
    if seller.provider_name(seller.address) is None:
        seller.transact("registerProvider", "Provider B")
    seller.transact("publishOffer", offer_spec(name))
    offer_id = seller.offer_id_of(seller.address, name)
    escrow = hours * 10 ** 12
    terms = bytes.fromhex(seller.offer(offer_id)["terms_hash"][2:])
    buyer.transact("reserve", offer_id, hours, b"\x01" * 32, terms, name.encode().ljust(32, b"\0"), value=escrow)
    reservation_id = seller.call("reservationCount")
    seller.transact("accept", reservation_id, "198.18.0.4:22", b"\x02" * 32)
    return reservation_id, escrow


def _release_and_collect(node, reb, name, buyer):
    seller = client(node, SELLER, reb)
    reservation_id, escrow = _accepted_rental(node, seller, buyer, name)
    buyer.collect()  # what earlier tests left owed would blur the refund below
    before = node.w3.eth.get_balance(buyer.address)
    nonce = buyer.nonce()
    release, withdrawal, withdrawn = buyer.transact_and_collect("release", reservation_id)
    [released] = buyer.contract.events.ReservationReleased().process_receipt(release)
    assert release["status"] == 1 and withdrawal["status"] == 1
    assert withdrawn == released["args"]["toBuyer"] > 0 and buyer.owed(buyer.address) == 0
    assert [node.w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in (release, withdrawal)] == [nonce,
                                                                                                           nonce + 1]
    assert node.w3.eth.get_balance(buyer.address) == before + withdrawn - gas_paid(node.w3, [release, withdrawal])
    assert seller.reservation(reservation_id)["state"] == "released"
    return release, withdrawal


def test_a_release_and_its_refunds_withdraw_share_a_block(node, reb):
    # The withdraw goes out before the release is mined, estimated against the pending state: on a timed chain both
    # are in one block (one block's wait for the buyer, not two); an automine chain mines each as it comes.
    release, withdrawal = _release_and_collect(node, reb, "collect-%s" % node.kind, client(node, BUYER, reb))
    if node.kind == "anvil-1s":
        assert withdrawal["blockNumber"] == release["blockNumber"]
    else:
        assert withdrawal["blockNumber"] == release["blockNumber"] + 1


def test_a_node_without_a_pending_state_gets_the_withdraw_after_the_release(node, reb):
    # Some endpoints refuse the "pending" block tag: the withdraw then waits for the release, and nothing is lost.
    buyer = client(node, BUYER, reb)
    read = buyer.call

    def no_pending(fn_name, *args, **kwargs):
        if kwargs.get("block") == "pending":
            raise RebError("reading %s from the REB at %s failed: unknown block tag 'pending'" % (fn_name, node.url))
        return read(fn_name, *args, **kwargs)

    buyer.call = no_pending
    release, withdrawal = _release_and_collect(node, reb, "later-%s" % node.kind, buyer)
    assert withdrawal["blockNumber"] > release["blockNumber"]
