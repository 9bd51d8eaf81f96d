"""REB v2 (issue 14): a market that cannot be jammed, terms that cannot be switched, and the other findings
of the attack suite. Each test here failed on the REB v1 contract and client."""
import sys

import pytest
from web3 import HTTPProvider, Web3

from tests.contract.helpers import (ENDPOINT, FP, HOUR, KEY, REVERTS, WINDOW, Chain, OfferState, ResState,
                                    decode_error, revert_data, spec, terms_hash)
from tests.support.chain import ROOT, artifact
from tests.support.market_seed import publish_many

sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.decenter.fog.plugins.module_utils import reb_client  # noqa: E402

PRICE = 10 ** 15 + 7  # spec()'s default price
CALL_BUDGET = 5_000_000  # the most gas any single view call may need, whatever the market's size


@pytest.fixture
def anvil_chain(anvil):
    """A fresh REB on the session's anvil, which runs with anvil's DEFAULT gas limit (30M per block and call)."""
    w3 = Web3(HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        c = Chain("anvil", w3)
        c.deploy()
        c.url = anvil.url
        yield c
    finally:
        assert w3.provider.make_request("evm_revert", [snap]).get("result") is True


# ---------------------------------------------------------------- 1. listings on a default chain

def test_a_big_market_stays_readable_on_a_default_gas_limit(anvil_chain, reb_index_dir):
    """1,200 offers (v1 broke at 1,101: getOffers(1, 2000) ran out of memory gas under anvil's 30M cap, for
    good). Every view the client uses fits CALL_BUDGET whatever the size; the listing reads events, not views."""
    c = anvil_chain
    assert c.w3.eth.get_block("latest")["gasLimit"] == 30_000_000, "anvil must run with its default gas limit"
    publish_many(c.url, c.w3, c.reb, 1200, c.accounts[6:9])
    f = c.reb.functions
    assert f.getOffers(1, 300).estimate_gas() < CALL_BUDGET
    assert f.getOffersById(list(range(1, 301))).estimate_gas() < CALL_BUDGET
    reb_client._CLIENTS.clear()
    client = reb_client.get_client(dict(rpc_url=c.url, contract_address=c.reb.address, timeout=60.0,
                                        confirmations=0, chain_id=None, private_key=None))
    offers = client.offers()
    assert len(offers) == 1200
    assert sorted(o["node_id"] for o in offers) == ["node-%06d" % i for i in range(1200)]
    assert all(o["state"] == "open" and o["seller"] in c.accounts[6:9] for o in offers)
    # the by-id view the client pages with, at its full page, also fits
    assert len(client.offer_states(range(1, 1201))) == 1200
    # a reservation page fits too (each reservation is two storage slots)
    rid, _ = c.reserve(7)
    assert f.getReservationsById([rid] * 300).estimate_gas() < CALL_BUDGET
    assert client.reservation(rid)["state"] == "requested"


def test_pages_are_capped(chain):
    f = chain.reb.functions
    assert f.MAX_PAGE().call() == 300
    chain.expect(f.getOffersById([1] * 301), chain.stranger, "PageTooLarge", 301, 300, mine=False)
    chain.expect(f.getReservationsById([1] * 301), chain.stranger, "PageTooLarge", 301, 300, mine=False)


# ---------------------------------------------------------------- 2. bait and switch

def test_reserve_is_bound_to_the_terms_the_buyer_saw(chain):
    oid, _ = chain.publish(cpuMillicores=4000, devices="camkor1:camera")
    seen = chain.offer(oid)["termsHash"]
    assert seen == terms_hash(spec(cpuMillicores=4000, devices="camkor1:camera"))
    switched = spec(cpuMillicores=1, devices="")
    chain.tx(chain.reb.functions.updateOffer(oid, switched), chain.seller)
    now = terms_hash(switched)
    assert chain.offer(oid)["termsHash"] == now
    chain.expect(chain.reserve_fn(oid, 2, KEY, terms=seen), chain.buyer, "TermsChanged", oid, seen, now,
                 value=2 * PRICE)
    assert chain.balance(chain.reb.address) == 0 and chain.offer(oid)["state"] == OfferState.OPEN
    chain.reserve(oid)  # with the terms it sees now, it goes through


def test_a_switch_in_the_block_before_the_reserve_refunds_the_escrow(anvil_chain):
    """The seller's updateOffer and the buyer's reserve in one block, the seller's first: the reserve reverts
    (TermsChanged), the escrow never leaves the buyer (v1 took it for a 1-millicore node without a camera)."""
    c = anvil_chain
    oid, _ = c.publish(cpuMillicores=4000, devices="camkor1:camera")
    seen = c.offer(oid)["termsHash"]
    before = c.balance(c.buyer)
    rpc = c.w3.provider.make_request
    rpc("evm_setAutomine", [False])
    try:
        switch = c.reb.functions.updateOffer(oid, spec(cpuMillicores=1, devices="")).transact(
            {"from": c.seller, "gas": 3_000_000})
        order = c.reserve_fn(oid, 2, KEY, terms=seen).transact({"from": c.buyer, "value": 2 * PRICE,
                                                                "gas": 3_000_000})
        rpc("evm_mine", [])
    finally:
        rpc("evm_setAutomine", [True])
    switched = c.w3.eth.get_transaction_receipt(switch)
    reserve = c.w3.eth.get_transaction_receipt(order)
    assert switched.status == 1 and reserve.status == 0 and switched.blockNumber == reserve.blockNumber
    assert c.balance(c.buyer) == before - Chain.fee(reserve), "only gas was spent"
    assert c.balance(c.reb.address) == 0 and c.reb.functions.reservationCount().call() == 0


# ---------------------------------------------------------------- order references (issue 15 item 7)

def test_an_order_reference_pays_once(chain):
    f = chain.reb.functions
    oid, _ = chain.publish()
    order = b"\x42" * 32
    chain.tx(chain.reserve_fn(oid, 2, KEY, order=order), chain.buyer, value=2 * PRICE)
    assert f.reservationOfOrder(chain.buyer, order).call() == 1
    chain.tx(f.cancel(1), chain.buyer)  # the offer is open again; the order stays placed
    chain.expect(chain.reserve_fn(oid, 2, KEY, order=order), chain.buyer, "OrderExists", order, 1,
                 value=2 * PRICE)
    # a new order pays; another buyer's reference is its own
    chain.tx(chain.reserve_fn(oid, 2, KEY, order=b"\x43" * 32), chain.buyer, value=2 * PRICE)
    chain.tx(f.cancel(2), chain.buyer)
    chain.tx(chain.reserve_fn(oid, 2, KEY, order=order), chain.buyer2, value=2 * PRICE)
    assert f.reservationOfOrder(chain.buyer2, order).call() == 3
    assert f.reservationOfOrder(chain.stranger, order).call() == 0
    chain.tx(f.cancel(3), chain.buyer2)
    chain.expect(chain.reserve_fn(oid, 2, KEY, order=b"\0" * 32), chain.stranger, "EmptyKey", value=2 * PRICE)


def test_reservation_events_carry_key_terms_and_order(chain):
    oid, _ = chain.publish()
    seen = chain.offer(oid)["termsHash"]
    rc = chain.tx(chain.reserve_fn(oid, 2, KEY, order=b"\x07" * 32), chain.buyer, value=2 * PRICE)
    (name, args), = chain.events(rc, full=True)
    assert name == "ReservationRequested"
    assert (args["buyerKey"], args["termsHash"], args["orderRef"]) == (KEY, seen, b"\x07" * 32)


# ---------------------------------------------------------------- 4. delisting cannot be blocked

def test_withdraw_rejects_a_waiting_request_in_the_same_transaction(chain):
    f = chain.reb.functions
    oid, _ = chain.publish()
    rid, _ = chain.reserve(oid)
    rc = chain.tx(f.withdrawOffer(oid), chain.seller)
    assert chain.events(rc) == [("ReservationRejected", {"reservationId": rid, "reason": "offer withdrawn"}), ("OfferWithdrawn", {"offerId": oid})]
    assert chain.reservation(rid)["state"] == ResState.REJECTED
    assert chain.owed(chain.buyer) == 2 * PRICE, "the buyer is refunded in full"
    assert chain.offer(oid)["state"] == OfferState.WITHDRAWN
    # the griefer cannot reserve it again
    chain.expect(chain.reserve_fn(oid, 2, KEY), chain.buyer2, "OfferNotOpen", oid, OfferState.WITHDRAWN,
                 value=2 * PRICE)


def test_an_accepted_rental_still_blocks_the_withdrawal(chain):
    f = chain.reb.functions
    oid, _ = chain.publish()
    rid, _ = chain.reserve(oid)
    chain.accept(rid)
    chain.expect(f.withdrawOffer(oid), chain.seller, "OfferNotOpen", oid, OfferState.RESERVED)
    chain.expect(f.withdrawOffer(oid), chain.buyer, "NotSeller", oid, chain.buyer)


# ---------------------------------------------------------------- 5. strings are capped

@pytest.mark.parametrize("field,limit", [("nodeId", 64), ("region", 64), ("location", 64), ("architecture", 64),
                                         ("devices", 256)])
def test_offer_strings_are_capped(chain, field, limit):
    f = chain.reb.functions
    chain.register(chain.seller)
    chain.expect(f.publishOffer(spec(**{field: "x" * (limit + 1)})), chain.seller, "TooLong", field, limit + 1,
                 limit)
    chain.tx(f.publishOffer(spec(**{field: "x" * limit})), chain.seller)


def test_names_and_endpoints_are_capped(chain):
    f = chain.reb.functions
    chain.expect(f.registerProvider("p" * 65), chain.seller, "TooLong", "name", 65, 64)
    oid, _ = chain.publish()
    rid, _ = chain.reserve(oid)
    chain.expect(f.accept(rid, "e" * 257, FP), chain.seller, "TooLong", "accessEndpoint", 257, 256)


def test_release_costs_the_same_whatever_the_endpoint(chain):
    """v1 stored the endpoint and made the buyer's release pay its deletion (5.1M gas after a 40 KB one)."""
    gas = []  # the first rental's release credits two `owed` balances from zero (dearer): compare the next two
    for i, endpoint in enumerate((ENDPOINT, "h" * 250 + ":22", ENDPOINT)):
        oid, _ = chain.publish(nodeId="n%d" % i)
        rid, _ = chain.reserve(oid)
        chain.accept(rid, endpoint=endpoint)
        chain.advance(HOUR)
        gas.append(chain.tx(chain.reb.functions.release(rid), chain.buyer).gasUsed)
    assert abs(gas[1] - gas[2]) < 100 and max(gas) < 100_000, gas


# ---------------------------------------------------------------- 6. acceptWindow is bounded

def _deploy_error(chain, window):
    a = artifact()
    factory = chain.w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
    try:
        factory.constructor(window).estimate_gas({"from": chain.deployer})
    except REVERTS + (ValueError,) as exc:
        return decode_error(revert_data(exc), chain.errors)
    return None


@pytest.mark.parametrize("window", [0, 59, 30 * 24 * HOUR + 1, 2 ** 256 - 1])
def test_accept_window_out_of_bounds_is_refused(anvil_chain, window):
    """(anvil: web3's py-evm provider cannot decode a constructor's custom error)"""
    assert _deploy_error(anvil_chain, window) == ("InvalidAcceptWindow", (window, 60, 30 * 24 * HOUR))


def test_accept_window_at_its_bounds_works(anvil_chain):
    chain = anvil_chain
    for window in (60, 30 * 24 * HOUR):
        assert _deploy_error(chain, window) is None
        chain.deploy(accept_window=window)
        oid, _ = chain.publish(nodeId="w%d" % window)
        rid, _ = chain.reserve(oid)
        chain.advance(window + 1)
        chain.tx(chain.reb.functions.expire(rid), chain.stranger)  # v1: overflowed with 2**256-1
        rid, _ = chain.reserve(oid)
        chain.accept(rid)
        assert chain.reservation(rid)["state"] == ResState.ACCEPTED
    chain.deploy(accept_window=WINDOW)


# ---------------------------------------------------------------- 7. gas

def test_publish_offer_and_a_rental_meet_their_gas_goals(chain):
    """publishOffer <= 150k (v1: 235,622); reserve + accept + release <= 250k on a fresh contract."""
    chain.register(chain.seller)
    published = chain.tx(chain.reb.functions.publishOffer(spec()), chain.seller).gasUsed
    rid, reserved = chain.reserve(1)
    accepted = chain.accept(rid).gasUsed
    chain.advance(HOUR)
    released = chain.tx(chain.reb.functions.release(rid), chain.buyer).gasUsed
    assert published <= 150_000, published
    assert reserved.gasUsed + accepted + released <= 250_000, (reserved.gasUsed, accepted, released)
