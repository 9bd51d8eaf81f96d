"""reb_provider and reb_offer: publish, rerun (no-op), update in place with a diff, withdraw, withdraw again
(in-process; tests/reb_modules/test_lifecycle.py and test_check_mode.py run them through ansible-playbook)."""
from tests.reb_modules.conftest import A, B

EDGE_1 = dict(node_id="edge-1", region="SEOUL-KETI", tier=2, location="37.5665,126.9780", cpu_millicores=4000,
              memory_mib=4096, devices=["camkor1:camera", "lidar1:lidar"])


def publish(reb, price):
    """Register provider B, offer edge-1: the two tasks' results."""
    key_b = reb.keys[B]
    return (reb.ok("reb_provider", name="Provider B (KETI)", private_key=key_b),
            reb.ok("reb_offer", private_key=key_b, price_per_hour=price, **EDGE_1))


def test_offer_publish_update_withdraw(reb):
    seller, key_a, key_b = reb.accounts[B], reb.keys[A], reb.keys[B]
    registered, published = publish(reb, 1000)
    assert (registered["changed"], published["changed"]) == (True, True)
    offer = published["offer"]
    assert (offer["price_per_hour"], offer["state"], offer["tier"]) == (1000, "open", 2)

    nonces = reb.nonces(seller)
    registered, again = publish(reb, 1000)
    assert (registered["changed"], again["changed"]) == (False, False)
    assert again["offer"]["id"] == offer["id"]
    assert again.get("changed_fields") == []
    assert "diff" not in again  # diff only with --diff
    assert reb.nonces(seller) == nonces

    count = reb.offer_count()
    other_nonces = reb.nonces(reb.accounts[A])
    renamed = reb.ok("reb_provider", diff=True, name="Provider B (KETI Seoul)", private_key=key_b)
    assert renamed["changed"] is True and renamed["name"] == "Provider B (KETI Seoul)"
    assert renamed["diff"] == {"before": {"name": "Provider B (KETI)"}, "after": {"name": "Provider B (KETI Seoul)"}}
    assert reb.ok("reb_provider", diff=True, name="Provider B (KETI Seoul)", private_key=key_b)["changed"] is False
    assert reb.contract.functions.providerOf(seller).call() == ["Provider B (KETI Seoul)", True]
    updated = reb.ok("reb_offer", diff=True, private_key=key_b, price_per_hour=1500, **EDGE_1)
    assert updated["changed"] is True and updated["changed_fields"] == ["price_per_hour"]
    assert updated["offer"]["id"] == offer["id"] and updated["offer"]["price_per_hour"] == 1500
    assert updated["diff"] == {"before": {"price_per_hour": 1000}, "after": {"price_per_hour": 1500}}
    # Offers are keyed by (signing account, node_id): another seller cannot reach B's node, and
    # "absent" for a node it never offered is already true (nothing sent, B's offer untouched).
    assert reb.ok("reb_offer", diff=True, private_key=key_a, node_id="edge-1", state="absent")["changed"] is False
    assert reb.nonces(reb.accounts[A]) == other_nonces
    withdrawn = reb.ok("reb_offer", diff=True, private_key=key_b, node_id="edge-1", state="absent")
    assert withdrawn["changed"] is True and withdrawn["offer"] == {}
    assert withdrawn["diff"]["before"]["id"] == offer["id"] and withdrawn["diff"]["after"] == {}
    assert reb.ok("reb_offer", diff=True, private_key=key_b, node_id="edge-1", state="absent")["changed"] is False
    read = reb.ok("reb_offer_info", diff=True, node_id="edge-1", seller=reb.accounts[B], state="any")
    assert [(o["id"], o["state"], o["price_per_hour"]) for o in read["offers"]] == [(offer["id"], "withdrawn", 1500)]
    # The node id is free again once withdrawn: publishing it anew makes a new offer.
    anew = reb.ok("reb_offer", diff=True, private_key=key_b, node_id="edge-1", region="SEOUL-KETI",
                  cpu_millicores=1000, memory_mib=1024, price_per_hour=1500)
    assert anew["offer"]["id"] == count + 1
    assert reb.offer_count() == count + 1  # the update was in place: no other offer appeared
    assert reb.nonces(seller)[seller] == nonces[seller] + 4  # rename, update, withdrawal, new offer: nothing else
