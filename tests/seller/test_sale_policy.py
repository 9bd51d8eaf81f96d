"""seller_plan: the seller's answer to each reservation from its sale policy (pure function)."""
import sys

import pytest

from tests.support.chain import ROOT

sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.decenter.fog.plugins.module_utils.fog_sale_policy import (  # noqa: E402
    CLOCK_MARGIN, PolicyError, seller_plan)

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
D = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
NOW = 1_800_000_000
HOSTS = {"seoul-keti": "seoul-keti", "seoul": "seoul"}


def request(rid, buyer=A, node="seoul-keti", hours=2, price=10 ** 15, state="requested", **extra):
    r = {"id": rid, "buyer": buyer, "hours": hours, "escrow": price * hours, "state": state,
         "accept_deadline": NOW + 3600, "ends_at": 0, "buyer_public_key": "ssh-ed25519 AAAA decenter-reb-%d" % rid,
         "offer": {"node_id": node}}
    r.update(extra)
    return r


def verdict(policy, *reservations):
    plan = seller_plan(list(reservations), policy, HOSTS, NOW)
    return ([a["id"] for a in plan["accept"]], dict((r["id"], r["reason"]) for r in plan["reject"]), plan)


@pytest.mark.parametrize("policy, reason", [
    ({"refused_buyers": [D.lower()]}, "buyer %s is in refused_buyers" % D),
    ({"allowed_buyers": [A]}, "buyer %s is not in allowed_buyers" % D),
    ({"min_hours": 3}, "2 hours is below min_hours=3"),
    ({"max_hours": 1}, "2 hours is above max_hours=1"),
    ({"min_price_per_hour": 10 ** 15 + 1}, "1000000000000000 wei per hour is below min_price_per_hour=1000000000000001"),
    ({"max_rentals_per_node": 0}, "node seoul-keti already serves 0 rental(s), max_rentals_per_node=0"),
])
def test_each_policy_field_refuses_with_its_reason(policy, reason):
    accepted, rejected, _ = verdict(policy, request(1, buyer=D))
    assert accepted == [] and rejected == {1: reason}


def test_an_empty_policy_accepts_and_the_node_counts_as_live():
    accepted, rejected, plan = verdict({}, request(1), request(2, node="seoul", buyer=D))
    assert accepted == [1, 2] and rejected == {}
    assert plan["live"] == {"seoul-keti": [1], "seoul": [2]} and plan["accept"][0]["host"] == "seoul-keti"


def test_rentals_per_node_counts_live_rentals():
    live = request(1, state="accepted", ends_at=NOW + 3600)
    accepted, rejected, plan = verdict({"max_rentals_per_node": 1}, live, request(2))
    assert accepted == [] and "already serves 1 rental(s)" in rejected[2]
    assert plan["live"]["seoul-keti"] == [1]


def test_a_node_not_in_the_inventory_is_refused():
    _, rejected, _ = verdict({}, request(1, node="busan"))
    assert rejected == {1: "node busan is not a host of this seller's inventory"}


def test_deadlines_and_ends_with_a_margin_for_the_clocks():
    near = request(1, accept_deadline=NOW + CLOCK_MARGIN - 1)          # too close to accept, not yet expirable
    late = request(2, accept_deadline=NOW - CLOCK_MARGIN - 1)          # expirable
    over = request(3, state="accepted", ends_at=NOW - CLOCK_MARGIN)    # time is up: settle
    running = request(4, state="accepted", ends_at=NOW)                # just ended: not yet (the chain's clock)
    accepted, rejected, plan = verdict({}, near, late, over, running)
    assert accepted == [] and rejected == {}
    assert plan["expire"] == [2] and plan["settle"] == [3] and plan["live"]["seoul-keti"] == [4]


def test_ended_reservations_are_not_answered():
    _, _, plan = verdict({}, *(request(i, state=s) for i, s in enumerate(
        ("rejected", "cancelled", "expired", "released", "settled"), 1)))
    assert plan == {"accept": [], "reject": [], "expire": [], "settle": [], "live": {"seoul-keti": [], "seoul": []}}


@pytest.mark.parametrize("policy, message", [
    ({"max_price": 1}, "unknown fields max_price"),
    ({"refused_buyers": "0xabc"}, "refused_buyers must be a list of addresses"),
    ({"min_hours": "two"}, "min_hours must be a whole number, not 'two'"),
    ({"min_hours": 5, "max_hours": 2}, "max_hours=2 is below min_hours=5"),
    ({"max_rentals_per_node": -1}, "must not be negative"),
])
def test_a_bad_policy_says_which_field(policy, message):
    with pytest.raises(PolicyError, match=message):
        seller_plan([request(1)], policy, HOSTS, NOW)
