"""The whole trade through the REB modules, each playbook run twice: the second run changes
nothing and sends nothing (no account's nonce moves, no balance moves)."""
import base64

import pytest

from tests.reb_modules.conftest import A, B, C, DEPLOY_PLAYBOOK, DEPLOYER, play, run_playbook

PRICE = 10 ** 15  # wei per hour
HOURS = 4

# Publish, reserve and accept: idempotent as a whole, so a rerun must be a no-op.
BOOK = play("""
- name: Verify the deployed REB
  decenter.fog.reb_contract:
  register: contract

- name: Register provider B
  decenter.fog.reb_provider:
    name: Provider B (KETI)
    private_key: "{{ key_b }}"

- name: Publish the SEOUL-KETI node
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: seoul-keti
    region: SEOUL-KETI
    tier: 1
    location: "37.5665,126.9780"
    cpu_millicores: 2000
    memory_mib: 2048
    storage_gib: 10
    devices: ["camkor1:camera"]
    price_per_hour: "{{ price }}"
  register: offer

- name: Buyer A reserves the node
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: requested
    offer_id: "{{ offer.offer.id }}"
    hours: "{{ hours }}"
    max_price_per_hour: "{{ price }}"
    buyer_public_key: "{{ buyer_public_key }}"
  register: booking

- name: Seller B accepts with the node's access details
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: accepted
    reservation_id: "{{ booking.reservation.id }}"
    access_endpoint: "198.51.100.4:22"
    host_key_fingerprint: "{{ host_fingerprint }}"
""", "Book a node")

# Release and collect: a separate playbook, since after a release a rerun of state=requested
# would rightly open a new reservation.
END = play("""
- name: Find the booked offer
  decenter.fog.reb_offer_info:
    node_id: seoul-keti
    seller: "{{ addr_b }}"
    state: any
  register: market

- name: Buyer A releases the node
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: released
    offer_id: "{{ market.offers[0].id }}"

- name: Seller B collects its pay
  decenter.fog.reb_withdraw:
    private_key: "{{ key_b }}"

- name: Buyer A collects its refund
  decenter.fog.reb_withdraw:
    private_key: "{{ key_a }}"
""", "Release and collect")


def ssh_blob(public_key_line):
    return base64.b64decode(public_key_line.split()[1])


def assert_noop_rerun(reb, playbook, extra_vars, involved):
    nonces, balances = reb.nonces(*involved), reb.balances(*involved)
    rerun = reb.run(playbook, extra_vars)
    assert rerun.rc == 0, rerun
    assert rerun.stats["changed"] == 0 and rerun.changed_tasks() == [], rerun
    assert reb.nonces(*involved) == nonces, "a rerun sent a transaction"
    assert reb.balances(*involved) == balances, "a rerun moved funds"
    return rerun


def test_deploy_rerun_with_the_recorded_address_only_verifies(reb):
    deployer = reb.accounts[DEPLOYER]
    nonce = reb.nonces(deployer)
    run = run_playbook(DEPLOY_PLAYBOOK, extra_env={"DECENTER_REB_RPC_URL": reb.url},
                       extra_vars={"deployer_key": reb.keys[DEPLOYER], "reb_contract_address": reb.address},
                       secrets=reb.keys)
    assert run.rc == 0, run
    result = run.task("Deploy the REB")
    assert result["changed"] is False and result["contract_address"] == reb.address, result
    assert result["accept_window"] == 3600
    assert reb.nonces(deployer) == nonce


def test_book_release_and_collect_twice(reb, ssh_material):
    involved = (reb.accounts[A], reb.accounts[B])
    extra = dict(price=PRICE, hours=HOURS, buyer_public_key=ssh_material["buyer_public_key"],
                 host_fingerprint=ssh_material["host_fingerprint"])
    offers_before, nonces_before = reb.offer_count(), reb.nonces(*involved)

    first = reb.run(BOOK, extra)
    assert first.rc == 0, first
    assert first.task("Verify the deployed REB")["changed"] is False
    assert first.changed_tasks() == ["Register provider B", "Publish the SEOUL-KETI node",
                                     "Buyer A reserves the node", "Seller B accepts with the node's access details"]
    offer = first.task("Publish the SEOUL-KETI node")["offer"]
    assert offer["state"] == "open" and offer["seller"] == reb.accounts[B]
    assert offer["devices"] == [{"id": "camkor1", "kind": "camera"}] and offer["location"] == "37.5665,126.9780"
    assert reb.offer_count() == offers_before + 1
    booking = first.task("Buyer A reserves the node")["reservation"]
    assert booking["state"] == "requested" and booking["buyer"] == reb.accounts[A]
    assert booking["escrow"] == PRICE * HOURS and booking["hours"] == HOURS
    assert ssh_blob(booking["buyer_public_key"]) == ssh_blob(ssh_material["buyer_public_key"])
    accepted = first.task("Seller B accepts with the node's access details")["reservation"]
    assert accepted["id"] == booking["id"] and accepted["state"] == "accepted"
    assert accepted["access_endpoint"] == "198.51.100.4:22"
    assert accepted["host_key_fingerprint"] == ssh_material["host_fingerprint"]
    assert accepted["ends_at"] - accepted["accepted_at"] == HOURS * 3600
    nonces = reb.nonces(*involved)  # register + publish + accept by B, reserve by A
    assert (nonces[reb.accounts[A]] - nonces_before[reb.accounts[A]],
            nonces[reb.accounts[B]] - nonces_before[reb.accounts[B]]) == (1, 3)

    second = assert_noop_rerun(reb, BOOK, extra, involved)
    assert second.task("Buyer A reserves the node")["reservation"]["id"] == booking["id"]  # no second booking
    assert reb.offer_count() == offers_before + 1

    reb.travel(3600)  # one of the four hours used
    first = reb.run(END, extra)
    assert first.rc == 0, first
    assert first.changed_tasks() == ["Buyer A releases the node", "Seller B collects its pay",
                                     "Buyer A collects its refund"]
    pay = first.task("Seller B collects its pay")["amount"]
    refund = first.task("Buyer A collects its refund")["amount"]
    assert pay + refund == PRICE * HOURS
    assert PRICE <= pay <= PRICE * (3600 + 300) // 3600  # the seller is paid for the time used
    assert reb.owed(reb.accounts[A]) == reb.owed(reb.accounts[B]) == 0
    assert_noop_rerun(reb, END, extra, involved)


ENDINGS_SETUP = play("""
- name: Register provider B
  decenter.fog.reb_provider:
    name: Provider B (KETI)
    private_key: "{{ key_b }}"

- name: Publish the nodes
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: "{{ item }}"
    region: SEOUL-KETI
    cpu_millicores: 1000
    memory_mib: 1024
    price_per_hour: "{{ price }}"
  loop: [end-reject, end-cancel, end-expire, end-settle]
  register: offers

- name: Buyer A requests every node for an hour
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: requested
    offer_id: "{{ item.offer.id }}"
    hours: 1
    buyer_public_key: "{{ buyer_public_key }}"
  loop: "{{ offers.results }}"
  loop_control:
    label: "{{ item.item }}"
  register: bookings

- name: Seller B accepts end-settle
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: accepted
    offer_id: "{{ offers.results[3].offer.id }}"
    access_endpoint: "198.51.100.9:2222"
    host_key_fingerprint: "{{ host_fingerprint }}"
""", "Four requests")

ENDINGS = play("""
- name: Seller B rejects
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: rejected
    offer_id: "{{ offers[0] }}"

- name: Buyer A cancels
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: cancelled
    offer_id: "{{ offers[1] }}"

- name: A third party expires the unanswered request
  decenter.fog.reb_reservation:
    private_key: "{{ key_c }}"
    state: expired
    reservation_id: "{{ reservations[2] }}"

- name: A third party settles the finished reservation
  decenter.fog.reb_reservation:
    private_key: "{{ key_c }}"
    state: settled
    reservation_id: "{{ reservations[3] }}"

- name: Buyer A collects its refunds
  decenter.fog.reb_withdraw:
    private_key: "{{ key_a }}"

- name: Seller B collects its pay
  decenter.fog.reb_withdraw:
    private_key: "{{ key_b }}"
""", "Every other ending")


def test_reject_cancel_expire_settle_twice(reb, ssh_material):
    setup = reb.run(ENDINGS_SETUP, dict(price=PRICE, buyer_public_key=ssh_material["buyer_public_key"],
                                        host_fingerprint=ssh_material["host_fingerprint"]))
    assert setup.rc == 0, setup
    requests = setup.task("Buyer A requests every node for an hour")["results"]
    facts = dict(offers=[r["offer"]["id"] for r in setup.task("Publish the nodes")["results"]],
                 reservations=[r["reservation"]["id"] for r in requests])
    reb.travel(3600 + 120)  # past the accept window and past the one booked hour
    involved = tuple(reb.accounts[i] for i in (A, B, C))
    owed_a, owed_b = reb.owed(reb.accounts[A]), reb.owed(reb.accounts[B])

    first = reb.run(ENDINGS, facts)
    assert first.rc == 0, first
    assert first.stats["changed"] == 6, first
    states = [first.task(n)["reservation"]["state"] for n in (
        "Seller B rejects", "Buyer A cancels", "A third party expires the unanswered request",
        "A third party settles the finished reservation")]
    assert states == ["rejected", "cancelled", "expired", "settled"]
    assert first.task("Buyer A collects its refunds")["amount"] == owed_a + 3 * PRICE
    assert first.task("Seller B collects its pay")["amount"] == owed_b + PRICE
    for offer_id in facts["offers"]:  # every node is on the market again
        assert reb.contract.functions.getOffer(offer_id).call()[2] == 1  # OfferState.Open

    assert_noop_rerun(reb, ENDINGS, facts, involved)


PADDED = play("""
- name: Register provider B
  decenter.fog.reb_provider:
    name: Provider B (KETI)
    private_key: "{{ key_b }}"

- name: Publish pad-node
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: pad-node
    region: SEOUL-KETI
    cpu_millicores: 1000
    memory_mib: 1024
    price_per_hour: "{{ price }}"
  register: offer

- name: Buyer A reserves pad-node
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: requested
    offer_id: "{{ offer.offer.id }}"
    hours: 1
    buyer_public_key: "{{ buyer_public_key }}"
  register: booking

- name: Seller B accepts with the fingerprint in padded base64
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: accepted
    reservation_id: "{{ booking.reservation.id }}"
    access_endpoint: "198.51.100.4:22"
    host_key_fingerprint: "{{ host_fingerprint }}="
""", "Accept with a padded fingerprint")


# The REB returns fingerprints unpadded; one given with base64 padding must still match on a rerun
# (the amendment is compared by digest, not by text).
def test_accept_rerun_with_a_padded_fingerprint_changes_nothing(reb, ssh_material):
    extra = dict(price=PRICE, buyer_public_key=ssh_material["buyer_public_key"],
                 host_fingerprint=ssh_material["host_fingerprint"])
    accept = "Seller B accepts with the fingerprint in padded base64"
    first = reb.run(PADDED, extra)
    assert first.rc == 0, first
    accepted = first.task(accept)["reservation"]
    assert accepted["state"] == "accepted" and accepted["host_key_fingerprint"] == ssh_material["host_fingerprint"]

    involved = (reb.accounts[A], reb.accounts[B])
    nonces = reb.nonces(*involved)
    rerun = reb.run(PADDED, extra)
    assert reb.nonces(*involved) == nonces
    assert rerun.rc == 0 and rerun.stats["changed"] == 0, rerun
