"""REB v2 through the modules (issue 14, issue 15 item 7): terms bound to the reservation, trusted sellers,
order references that never pay twice, delisting a requested offer, bounds checked before anything is sent."""
import pytest

from tests.reb_modules.conftest import A, B, C, play

PRICE = 1000

SETUP = play("""
- name: Register B
  decenter.fog.reb_provider: {name: "Provider B (KETI)", private_key: "{{ key_b }}"}
- name: Register the impostor C under the same name
  decenter.fog.reb_provider: {name: "Provider B (KETI)", private_key: "{{ key_c }}"}
- name: B offers seoul-keti
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: seoul-keti
    region: SEOUL-KETI
    cpu_millicores: 4000
    memory_mib: 4096
    devices: ["camkor1:camera"]
    price_per_hour: %d
- name: C offers its own seoul-keti 1 wei cheaper
  decenter.fog.reb_offer:
    private_key: "{{ key_c }}"
    node_id: seoul-keti
    region: SEOUL-KETI
    cpu_millicores: 4000
    memory_mib: 4096
    devices: ["camkor1:camera"]
    price_per_hour: %d
""" % (PRICE, PRICE - 1))


@pytest.fixture(scope="module")
def market(reb):
    run = reb.run(SETUP)
    assert run.rc == 0, run
    ids = reb.contract.functions.offerIdOf
    return dict(b=ids(reb.accounts[B], "seoul-keti").call(), c=ids(reb.accounts[C], "seoul-keti").call())


def _reserve(extra):
    return play("""
- name: Reserve
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: requested
    hours: 2
    buyer_public_key: "{{ buyer_public_key }}"
%s
  ignore_errors: true
""" % "\n".join("    " + line for line in extra.strip().splitlines()))


CANCEL = play("""
- name: Cancel
  decenter.fog.reb_reservation: {private_key: "{{ key_a }}", state: cancelled, reservation_id: "{{ rid }}"}
""")


def test_offers_show_seller_addresses_names_and_terms(reb, market):
    run = reb.run(play("""
- name: All
  decenter.fog.reb_offer_info: {}
- name: Trusted
  decenter.fog.reb_offer_info: {sellers: ["{{ addr_b }}"]}
- name: Not an address
  decenter.fog.reb_offer_info: {sellers: ["Provider B (KETI)"]}
  ignore_errors: true
"""))
    offers = run.task("All")["offers"]
    assert [(o["seller"], o["seller_name"]) for o in offers] == [(reb.accounts[C], "Provider B (KETI)"),
                                                                 (reb.accounts[B], "Provider B (KETI)")]
    assert all(o["terms_hash"] == "0x" + reb.contract.functions.getOffer(o["id"]).call()[-1].hex() for o in offers)
    assert [o["id"] for o in run.task("Trusted")["offers"]] == [market["b"]]
    assert "is not a seller address" in run.task("Not an address")["msg"]


def test_an_impostor_is_never_reserved_by_a_buyer_that_trusts_b(reb, market, ssh_material):
    nonces = reb.nonces()
    run = reb.run(_reserve("""
offer_id: "{{ offer_c }}"
trusted_sellers: ["{{ addr_b }}"]
"""), extra_vars=dict(buyer_public_key=ssh_material["buyer_public_key"], offer_c=market["c"]))
    assert "not one of trusted_sellers" in run.task("Reserve")["msg"]
    assert reb.nonces() == nonces, "nothing was sent"
    run = reb.run(_reserve("""
offer_filters: {region: SEOUL-KETI, device: camkor1}
trusted_sellers: ["{{ addr_b }}"]
order_ref: trusted-1
"""), extra_vars=dict(buyer_public_key=ssh_material["buyer_public_key"]))
    booked = run.task("Reserve")
    assert booked["changed"] and booked["offer"]["id"] == market["b"], booked  # not C's, 1 wei cheaper
    run = reb.run(CANCEL, extra_vars=dict(rid=booked["reservation"]["id"]))
    assert run.rc == 0, run


def test_a_rerun_of_an_order_never_pays_twice_and_a_new_order_does(reb, market, ssh_material):
    v = dict(buyer_public_key=ssh_material["buyer_public_key"], offer_b=market["b"])
    order = _reserve("""
offer_id: "{{ offer_b }}"
order_ref: "{{ ref }}"
""")
    first = reb.run(order, extra_vars=dict(v, ref="order-1")).task("Reserve")
    assert first["changed"] and first["reservation"]["state"] == "requested", first
    rid = first["reservation"]["id"]
    assert reb.run(CANCEL, extra_vars=dict(rid=rid)).rc == 0  # the order ended; the offer is open again
    balances, nonces = reb.balances(), reb.nonces()
    again = reb.run(order, extra_vars=dict(v, ref="order-1")).task("Reserve")
    assert not again["changed"] and again["reservation"]["id"] == rid and again["reservation"]["state"] == "cancelled"
    assert (reb.balances(), reb.nonces()) == (balances, nonces), "the rerun paid nothing"
    new = reb.run(order, extra_vars=dict(v, ref="order-2")).task("Reserve")
    assert new["changed"] and new["reservation"]["id"] == rid + 1
    assert reb.balances()[reb.accounts[A]] < balances[reb.accounts[A]] - 2 * PRICE + 1
    assert reb.run(CANCEL, extra_vars=dict(rid=rid + 1)).rc == 0


def test_a_switch_of_terms_is_refused_and_named(reb, market, ssh_material):
    offer = reb.run(play("""
- name: Look
  decenter.fog.reb_offer_info: {offer_id: %d}
""" % market["b"])).task("Look")["offers"][0]
    switch = play("""
- name: Switch
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: seoul-keti
    region: SEOUL-KETI
    cpu_millicores: 1
    memory_mib: 4096
    devices: []
    price_per_hour: %d
""" % PRICE)
    assert reb.run(switch).rc == 0
    balances, nonces = reb.balances(), reb.nonces()
    run = reb.run(_reserve("""
offer_id: "{{ offer_b }}"
terms_hash: "{{ seen }}"
order_ref: switch-1
"""), extra_vars=dict(buyer_public_key=ssh_material["buyer_public_key"], offer_b=market["b"],
                      seen=offer["terms_hash"]))
    msg = run.task("Reserve")["msg"]
    assert "offer %d changed since it was chosen" % market["b"] in msg
    assert "cpu_millicores 4000 -> 1" in msg and "devices camkor1:camera -> (none)" in msg, msg
    assert "nothing was paid" in msg
    assert (reb.balances(), reb.nonces()) == (balances, nonces)


def test_a_requested_offer_can_be_delisted(reb, market, ssh_material):
    booked = reb.run(_reserve("""
offer_id: "{{ offer_b }}"
order_ref: delist-1
"""), extra_vars=dict(buyer_public_key=ssh_material["buyer_public_key"], offer_b=market["b"])).task("Reserve")
    rid = booked["reservation"]["id"]
    owed = reb.owed(reb.accounts[A])
    run = reb.run(play("""
- name: Delist
  decenter.fog.reb_offer: {private_key: "{{ key_b }}", node_id: seoul-keti, state: absent}
- name: Delist again
  decenter.fog.reb_offer: {private_key: "{{ key_b }}", node_id: seoul-keti, state: absent}
"""))
    assert run.rc == 0, run
    assert run.task("Delist")["changed"] and run.task("Delist")["rejected_reservation"] == rid
    assert not run.task("Delist again")["changed"]
    assert reb.contract.functions.getReservation(rid).call()[3] == 3  # Rejected
    assert reb.owed(reb.accounts[A]) == owed + booked["reservation"]["escrow"], "refunded in full"


@pytest.mark.parametrize("window", [0, 59, 2592001, 2 ** 256 - 1])
def test_reb_contract_refuses_an_accept_window_out_of_bounds(reb, window):
    nonces = reb.nonces()
    run = reb.run(play("""
- name: Deploy
  decenter.fog.reb_contract: {contract_address: "", private_key: "{{ key_deployer }}", accept_window: "{{ w }}"}
  ignore_errors: true
"""), extra_vars=dict(w=window))
    assert "accept_window=%d is out of bounds: give 60 to 2592000 seconds" % window in run.task("Deploy")["msg"]
    assert reb.nonces() == nonces, "nothing was deployed"


def test_long_strings_are_refused_before_sending(reb, market, ssh_material):
    nonces = reb.nonces()
    run = reb.run(play("""
- name: Long node id
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: "{{ 'n' * 65 }}"
    region: SEOUL-KETI
    cpu_millicores: 1
    memory_mib: 1
    price_per_hour: 1
  ignore_errors: true
- name: Long endpoint
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: accepted
    reservation_id: 1
    access_endpoint: "{{ 'h' * 300 }}:22"
    host_key_fingerprint: "{{ fp }}"
  ignore_errors: true
"""), extra_vars=dict(fp=ssh_material["host_fingerprint"]))
    assert "node_id is 65 bytes long; the REB accepts at most 64" in run.task("Long node id")["msg"]
    assert "access_endpoint is 303 bytes long; the REB accepts at most 256" in run.task("Long endpoint")["msg"]
    assert reb.nonces() == nonces
