"""REB v2 through the modules (issue 14, issue 15 item 7): terms bound to the reservation, trusted sellers,
order references that never pay twice, delisting a requested offer, bounds checked before anything is sent
(in-process: the modules' run() as their action plugins call it)."""
import pytest

from tests.reb_modules.conftest import A, B, C

PRICE = 1000
SEOUL_KETI = dict(node_id="seoul-keti", region="SEOUL-KETI", cpu_millicores=4000, memory_mib=4096,
                  devices=["camkor1:camera"])


@pytest.fixture(scope="module")
def market(reb):
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=reb.keys[B])
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=reb.keys[C])  # the impostor C, under B's name
    reb.ok("reb_offer", private_key=reb.keys[B], price_per_hour=PRICE, **SEOUL_KETI)
    reb.ok("reb_offer", private_key=reb.keys[C], price_per_hour=PRICE - 1, **SEOUL_KETI)  # 1 wei cheaper
    ids = reb.contract.functions.offerIdOf
    return dict(b=ids(reb.accounts[B], "seoul-keti").call(), c=ids(reb.accounts[C], "seoul-keti").call())


def reserve(reb, ssh_material, **args):
    """Buyer A requests 2 hours: the reb_reservation result (failed or not)."""
    return reb.do("reb_reservation", private_key=reb.keys[A], state="requested", hours=2,
                  buyer_public_key=ssh_material["buyer_public_key"], **args)


def cancel(reb, rid):
    return reb.ok("reb_reservation", private_key=reb.keys[A], state="cancelled", reservation_id=rid)


def test_offers_show_seller_addresses_names_and_terms(reb, market):
    offers = reb.ok("reb_offer_info")["offers"]
    assert [(o["seller"], o["seller_name"]) for o in offers] == [(reb.accounts[C], "Provider B (KETI)"),
                                                                 (reb.accounts[B], "Provider B (KETI)")]
    assert all(o["terms_hash"] == "0x" + reb.contract.functions.getOffer(o["id"]).call()[-1].hex() for o in offers)
    assert [o["id"] for o in reb.ok("reb_offer_info", sellers=[reb.accounts[B]])["offers"]] == [market["b"]]
    assert "is not a seller address" in reb.do("reb_offer_info", sellers=["Provider B (KETI)"])["msg"]


def test_an_impostor_is_never_reserved_by_a_buyer_that_trusts_b(reb, market, ssh_material):
    nonces = reb.nonces()
    refused = reserve(reb, ssh_material, offer_id=market["c"], trusted_sellers=[reb.accounts[B]])
    assert "not one of trusted_sellers" in refused["msg"]
    assert reb.nonces() == nonces, "nothing was sent"
    booked = reserve(reb, ssh_material, offer_filters={"region": "SEOUL-KETI", "device": "camkor1"},
                     trusted_sellers=[reb.accounts[B]], order_ref="trusted-1")
    assert booked["changed"] and booked["offer"]["id"] == market["b"], booked  # not C's, 1 wei cheaper
    cancel(reb, booked["reservation"]["id"])


def test_a_rerun_of_an_order_never_pays_twice_and_a_new_order_does(reb, market, ssh_material):
    first = reserve(reb, ssh_material, offer_id=market["b"], order_ref="order-1")
    assert first["changed"] and first["reservation"]["state"] == "requested", first
    rid = first["reservation"]["id"]
    cancel(reb, rid)  # the order ended; the offer is open again
    balances, nonces = reb.balances(), reb.nonces()
    again = reserve(reb, ssh_material, offer_id=market["b"], order_ref="order-1")
    assert not again["changed"] and again["reservation"]["id"] == rid and again["reservation"]["state"] == "cancelled"
    assert (reb.balances(), reb.nonces()) == (balances, nonces), "the rerun paid nothing"
    new = reserve(reb, ssh_material, offer_id=market["b"], order_ref="order-2")
    assert new["changed"] and new["reservation"]["id"] == rid + 1
    assert reb.balances()[reb.accounts[A]] < balances[reb.accounts[A]] - 2 * PRICE + 1
    cancel(reb, rid + 1)


def test_a_switch_of_terms_is_refused_and_named(reb, market, ssh_material):
    offer = reb.ok("reb_offer_info", offer_id=market["b"])["offers"][0]
    reb.ok("reb_offer", private_key=reb.keys[B], price_per_hour=PRICE, **dict(SEOUL_KETI, cpu_millicores=1, devices=[]))
    balances, nonces = reb.balances(), reb.nonces()
    msg = reserve(reb, ssh_material, offer_id=market["b"], terms_hash=offer["terms_hash"], order_ref="switch-1")["msg"]
    assert "offer %d changed since it was chosen" % market["b"] in msg
    assert "cpu_millicores 4000 -> 1" in msg and "devices camkor1:camera -> (none)" in msg, msg
    assert "nothing was paid" in msg
    assert (reb.balances(), reb.nonces()) == (balances, nonces)


def test_a_requested_offer_can_be_delisted(reb, market, ssh_material):
    booked = reserve(reb, ssh_material, offer_id=market["b"], order_ref="delist-1")
    rid = booked["reservation"]["id"]
    owed = reb.owed(reb.accounts[A])
    delist = reb.ok("reb_offer", private_key=reb.keys[B], node_id="seoul-keti", state="absent")
    again = reb.ok("reb_offer", private_key=reb.keys[B], node_id="seoul-keti", state="absent")
    assert delist["changed"] and delist["rejected_reservation"] == rid
    assert not again["changed"]
    assert reb.contract.functions.getReservation(rid).call()[3] == 3  # Rejected
    assert reb.owed(reb.accounts[A]) == owed + booked["reservation"]["escrow"], "refunded in full"


@pytest.mark.parametrize("window", [0, 59, 2592001, 2 ** 256 - 1])
def test_reb_contract_refuses_an_accept_window_out_of_bounds(reb, window):
    nonces = reb.nonces()
    # as a playbook templates it: the window arrives as text ("{{ w }}") and the argument spec makes it an int
    result = reb.do("reb_contract", contract_address="", private_key=reb.keys[0], accept_window=str(window))
    assert "accept_window=%d is out of bounds: give 60 to 2592000 seconds" % window in result["msg"]
    assert reb.nonces() == nonces, "nothing was deployed"


def test_long_strings_are_refused_before_sending(reb, market, ssh_material):
    # A request of its own, on an offer of its own: the other tests change and delist B's seoul-keti offer.
    reb.ok("reb_offer", private_key=reb.keys[B], price_per_hour=PRICE, **dict(SEOUL_KETI, node_id="long-strings"))
    offer_id = reb.contract.functions.offerIdOf(reb.accounts[B], "long-strings").call()
    rid = reserve(reb, ssh_material, offer_id=offer_id, order_ref="long-strings-1")["reservation"]["id"]
    nonces = reb.nonces()
    long_node = reb.do("reb_offer", private_key=reb.keys[B], node_id="n" * 65, region="SEOUL-KETI",
                       cpu_millicores=1, memory_mib=1, price_per_hour=1)
    long_endpoint = reb.do("reb_reservation", private_key=reb.keys[B], state="accepted", reservation_id=rid,
                           access_endpoint="h" * 300 + ":22", host_key_fingerprint=ssh_material["host_fingerprint"])
    assert "node_id is 65 bytes long; the REB accepts at most 64" in long_node["msg"]
    assert "access_endpoint is 303 bytes long; the REB accepts at most 256" in long_endpoint["msg"]
    assert reb.nonces() == nonces
    cancel(reb, rid)
