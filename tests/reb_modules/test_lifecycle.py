"""The whole trade through the REB modules, each step run twice: the second run changes nothing and sends
nothing (no account's nonce moves, no balance moves). The reference trade (book, release, collect) runs as real
playbooks (community.general's rule for integration targets); the other endings and the padded fingerprint run
in-process (tests/support/reb_inproc: run() as the action plugin calls it)."""
import base64

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


def assert_noop_rerun_inproc(reb, steps, involved):
    """Each (module, arguments) of `steps` again: nothing changes, nothing is sent, no funds move."""
    nonces, balances = reb.nonces(*involved), reb.balances(*involved)
    changed = [(module, args) for module, args in steps if reb.ok(module, **args)["changed"]]
    assert changed == [], changed
    assert reb.nonces(*involved) == nonces, "a rerun sent a transaction"
    assert reb.balances(*involved) == balances, "a rerun moved funds"


def test_reject_cancel_expire_settle_twice(reb, ssh_material):
    key_a, key_b, key_c = reb.keys[A], reb.keys[B], reb.keys[C]
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=key_b)
    nodes = ["end-reject", "end-cancel", "end-expire", "end-settle"]
    offers = [reb.ok("reb_offer", private_key=key_b, node_id=node, region="SEOUL-KETI", cpu_millicores=1000,
                     memory_mib=1024, price_per_hour=PRICE)["offer"]["id"] for node in nodes]
    reservations = [reb.ok("reb_reservation", private_key=key_a, state="requested", offer_id=offer_id, hours=1,
                           buyer_public_key=ssh_material["buyer_public_key"])["reservation"]["id"]
                    for offer_id in offers]
    reb.ok("reb_reservation", private_key=key_b, state="accepted", offer_id=offers[3],
           access_endpoint="198.51.100.9:2222", host_key_fingerprint=ssh_material["host_fingerprint"])
    reb.travel(3600 + 120)  # past the accept window and past the one booked hour
    involved = tuple(reb.accounts[i] for i in (A, B, C))
    owed_a, owed_b = reb.owed(reb.accounts[A]), reb.owed(reb.accounts[B])

    endings = [
        ("reb_reservation", dict(private_key=key_b, state="rejected", offer_id=offers[0])),  # seller B rejects
        ("reb_reservation", dict(private_key=key_a, state="cancelled", offer_id=offers[1])),  # buyer A cancels
        # a third party expires the unanswered request, and settles the finished reservation
        ("reb_reservation", dict(private_key=key_c, state="expired", reservation_id=reservations[2])),
        ("reb_reservation", dict(private_key=key_c, state="settled", reservation_id=reservations[3])),
    ]
    collect = [("reb_withdraw", dict(private_key=key_a)),  # buyer A collects its refunds
               ("reb_withdraw", dict(private_key=key_b))]  # seller B collects its pay
    first = [reb.ok(module, **args) for module, args in endings + collect]
    assert [r["changed"] for r in first] == [True] * 6, first
    assert [r["reservation"]["state"] for r in first[:4]] == ["rejected", "cancelled", "expired", "settled"]
    assert first[4]["amount"] == owed_a + 3 * PRICE
    assert first[5]["amount"] == owed_b + PRICE
    for offer_id in offers:  # every node is on the market again
        assert reb.contract.functions.getOffer(offer_id).call()[2] == 1  # OfferState.Open

    assert_noop_rerun_inproc(reb, endings + collect, involved)


# The REB returns fingerprints unpadded; one given with base64 padding must still match on a rerun
# (the amendment is compared by digest, not by text).
def test_accept_rerun_with_a_padded_fingerprint_changes_nothing(reb, ssh_material):
    key_a, key_b = reb.keys[A], reb.keys[B]
    register = ("reb_provider", dict(name="Provider B (KETI)", private_key=key_b))
    publish = ("reb_offer", dict(private_key=key_b, node_id="pad-node", region="SEOUL-KETI", cpu_millicores=1000,
                                 memory_mib=1024, price_per_hour=PRICE))
    reb.ok(register[0], **register[1])
    offer = reb.ok(publish[0], **publish[1])["offer"]
    reserve = ("reb_reservation", dict(private_key=key_a, state="requested", offer_id=offer["id"], hours=1,
                                       buyer_public_key=ssh_material["buyer_public_key"]))
    booking = reb.ok(reserve[0], **reserve[1])["reservation"]
    accept = ("reb_reservation", dict(private_key=key_b, state="accepted", reservation_id=booking["id"],
                                      access_endpoint="198.51.100.4:22",
                                      host_key_fingerprint=ssh_material["host_fingerprint"] + "="))
    accepted = reb.ok(accept[0], **accept[1])["reservation"]
    assert accepted["state"] == "accepted" and accepted["host_key_fingerprint"] == ssh_material["host_fingerprint"]

    # the whole play again (register, publish, reserve, accept with the padded fingerprint): nothing changes
    assert_noop_rerun_inproc(reb, [register, publish, reserve, accept], (reb.accounts[A], reb.accounts[B]))


def test_release_with_withdraw_collects_the_refund_and_a_rerun_changes_nothing(reb, ssh_material):
    key_a, key_b = reb.keys[A], reb.keys[B]
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=key_b)
    offer_id = reb.ok("reb_offer", private_key=key_b, node_id="end-collect", region="SEOUL-KETI", cpu_millicores=1000,
                      memory_mib=1024, price_per_hour=PRICE)["offer"]["id"]
    reservation_id = reb.ok("reb_reservation", private_key=key_a, state="requested", offer_id=offer_id, hours=2,
                            buyer_public_key=ssh_material["buyer_public_key"])["reservation"]["id"]
    reb.ok("reb_reservation", private_key=key_b, state="accepted", reservation_id=reservation_id,
           access_endpoint="198.51.100.9:2222", host_key_fingerprint=ssh_material["host_fingerprint"])
    refused = reb.do("reb_reservation", private_key=key_a, state="accepted", reservation_id=reservation_id,
                     access_endpoint="198.51.100.9:2222", host_key_fingerprint=ssh_material["host_fingerprint"],
                     withdraw=True)
    assert refused["failed"] and refused["msg"].startswith("withdraw=true collects what ending a reservation leaves"), \
        refused
    reb.travel(1800)
    owed_before = reb.owed(reb.accounts[A])  # refunds of earlier tests, collected too
    release = dict(private_key=key_a, state="released", reservation_id=reservation_id, withdraw=True)
    checked = reb.ok("reb_reservation", check_mode=True, **release)
    assert checked["changed"] and checked["withdrawn"] == owed_before and "transaction_hash" not in checked
    involved = (reb.accounts[A], reb.accounts[B])
    first = reb.ok("reb_reservation", **release)
    assert first["changed"] and first["reservation"]["state"] == "released", first
    [event] = reb.contract.events.ReservationReleased().get_logs(from_block=0, argument_filters={
        "reservationId": reservation_id})
    assert first["withdrawn"] == owed_before + event["args"]["toBuyer"] and event["args"]["toBuyer"] > 0
    assert first["withdraw_transaction_hash"] != first["transaction_hash"]
    assert reb.owed(reb.accounts[A]) == 0
    assert_noop_rerun_inproc(reb, [("reb_reservation", release)], involved)
    # A refund left owed (a withdraw that failed after the release was mined) is collected by a rerun.
    reb.ok("reb_reservation", private_key=key_b, state="rejected", reservation_id=reb.ok(
        "reb_reservation", private_key=key_a, state="requested", offer_id=offer_id, hours=1,
        buyer_public_key=ssh_material["buyer_public_key"])["reservation"]["id"])
    again = reb.ok("reb_reservation", **release)
    assert again["changed"] and again["withdrawn"] == PRICE and "transaction_hash" not in again, again
    assert reb.owed(reb.accounts[A]) == 0
