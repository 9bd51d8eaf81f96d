"""reb_provider and reb_offer: publish, rerun (no-op), update in place with a diff, withdraw, withdraw again."""
from tests.reb_modules.conftest import A, B, play

PUBLISH = play("""
- name: Register provider B
  decenter.fog.reb_provider:
    name: Provider B (KETI)
    private_key: "{{ key_b }}"

- name: Offer edge-1
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: edge-1
    region: SEOUL-KETI
    tier: 2
    location: "37.5665,126.9780"
    cpu_millicores: 4000
    memory_mib: 4096
    devices: ["camkor1:camera", "lidar1:lidar"]
    price_per_hour: "{{ price }}"
""")

UPDATE_AND_WITHDRAW = play("""
- name: Rename provider B
  decenter.fog.reb_provider:
    name: Provider B (KETI Seoul)
    private_key: "{{ key_b }}"

- name: Rename provider B again
  decenter.fog.reb_provider:
    name: Provider B (KETI Seoul)
    private_key: "{{ key_b }}"

- name: Offer edge-1 at a new price
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: edge-1
    region: SEOUL-KETI
    tier: 2
    location: "37.5665,126.9780"
    cpu_millicores: 4000
    memory_mib: 4096
    devices: ["camkor1:camera", "lidar1:lidar"]
    price_per_hour: "{{ new_price }}"

- name: Another seller withdraws its own edge-1, which does not exist
  decenter.fog.reb_offer:
    private_key: "{{ key_a }}"
    node_id: edge-1
    state: absent

- name: Withdraw edge-1
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: edge-1
    state: absent

- name: Withdraw edge-1 again
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: edge-1
    state: absent

- name: Read edge-1
  decenter.fog.reb_offer_info:
    node_id: edge-1
    seller: "{{ addr_b }}"
    state: any
  register: edge

- name: Offer edge-1 anew, once withdrawn
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: edge-1
    region: SEOUL-KETI
    cpu_millicores: 1000
    memory_mib: 1024
    price_per_hour: "{{ new_price }}"
""")


def test_offer_publish_update_withdraw(reb):
    seller = reb.accounts[B]
    first = reb.run(PUBLISH, dict(price=1000))
    assert first.rc == 0, first
    assert first.changed_tasks() == ["Register provider B", "Offer edge-1"]
    offer = first.task("Offer edge-1")["offer"]
    assert (offer["price_per_hour"], offer["state"], offer["tier"]) == (1000, "open", 2)

    nonces = reb.nonces(seller)
    again = reb.run(PUBLISH, dict(price=1000))
    assert again.rc == 0 and again.stats["changed"] == 0, again
    assert again.task("Offer edge-1")["offer"]["id"] == offer["id"]
    assert again.task("Offer edge-1").get("changed_fields") == []
    assert "diff" not in again.task("Offer edge-1")  # diff only with --diff
    assert reb.nonces(seller) == nonces

    count = reb.offer_count()
    other_nonces = reb.nonces(reb.accounts[A])
    run = reb.run(UPDATE_AND_WITHDRAW, dict(new_price=1500), args=["--diff"])
    assert run.rc == 0, run
    renamed = run.task("Rename provider B")
    assert renamed["changed"] is True and renamed["name"] == "Provider B (KETI Seoul)"
    assert renamed["diff"] == {"before": {"name": "Provider B (KETI)"}, "after": {"name": "Provider B (KETI Seoul)"}}
    assert run.task("Rename provider B again")["changed"] is False
    assert reb.contract.functions.providerOf(seller).call() == ["Provider B (KETI Seoul)", True]
    updated = run.task("Offer edge-1 at a new price")
    assert updated["changed"] is True and updated["changed_fields"] == ["price_per_hour"]
    assert updated["offer"]["id"] == offer["id"] and updated["offer"]["price_per_hour"] == 1500
    assert updated["diff"] == {"before": {"price_per_hour": 1000}, "after": {"price_per_hour": 1500}}
    # Offers are keyed by (signing account, node_id): another seller cannot reach B's node, and
    # "absent" for a node it never offered is already true (nothing sent, B's offer untouched).
    assert run.task("Another seller withdraws its own edge-1, which does not exist")["changed"] is False
    assert reb.nonces(reb.accounts[A]) == other_nonces
    withdrawn = run.task("Withdraw edge-1")
    assert withdrawn["changed"] is True and withdrawn["offer"] == {}
    assert withdrawn["diff"]["before"]["id"] == offer["id"] and withdrawn["diff"]["after"] == {}
    assert run.task("Withdraw edge-1 again")["changed"] is False
    assert [(o["id"], o["state"], o["price_per_hour"]) for o in run.task("Read edge-1")["offers"]] \
        == [(offer["id"], "withdrawn", 1500)]
    # The node id is free again once withdrawn: publishing it anew makes a new offer.
    assert run.task("Offer edge-1 anew, once withdrawn")["offer"]["id"] == count + 1
    assert reb.offer_count() == count + 1  # the update was in place: no other offer appeared
    assert reb.nonces(seller)[seller] == nonces[seller] + 4  # rename, update, withdrawal, new offer: nothing else
