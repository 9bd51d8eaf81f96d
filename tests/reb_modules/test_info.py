"""reb_offer_info filters and ranking, reb_reservation_info selection and its time_left/cost_so_far (in-process:
the modules' run() as their action plugins call it; tests/reb_modules/test_chain_vars.py and test_secrets.py run
them through ansible-playbook)."""
import pytest

from tests.reb_modules.conftest import A, B
from tests.support.reb_inproc import render

SEOUL_CITY_HALL = "37.5665,126.9780"
SEONGNAM = "37.4000,127.1000"
ELAPSED = 1800  # seconds of chain time between the acceptance and the queries

# (node, seller, fields of its offer): what the market's sellers publish, in this order.
OFFERS = [
    ("info-seoul-1", "b", dict(region="SEOUL-KETI", location="37.5665,126.9780", cpu_millicores=2000, memory_mib=2048,
                               devices=["camkor1:camera"], price_per_hour=1000)),
    ("info-seoul-2", "b", dict(region="SEOUL-KETI", location="37.4000,127.1000", cpu_millicores=4000, memory_mib=8192,
                               devices=["lidar1:lidar"], price_per_hour=1000)),
    ("info-trento-1", "a", dict(region="TRENTO-FBK", location="46.0664,11.1257", cpu_millicores=1000, memory_mib=1024,
                                devices=["camit1:camera"], price_per_hour=500, max_hours=2)),
    ("info-trento-2", "a", dict(region="TRENTO-FBK", cpu_millicores=8000, memory_mib=16384, price_per_hour=3000)),
    ("info-seoul-3", "b", dict(region="SEOUL-KETI", cpu_millicores=2000, memory_mib=2048, architecture="arm64",
                               price_per_hour=2000)),
    ("info-trento-3", "a", dict(region="TRENTO-FBK", cpu_millicores=1000, memory_mib=1024, price_per_hour=700)),
    ("info-seoul-4", "b", dict(region="SEOUL-KETI", cpu_millicores=1000, memory_mib=1024, price_per_hour=1500)),
]
# (node, buyer, hours): the reservations, in this order.
RESERVE = [("info-seoul-3", "a", 2), ("info-trento-3", "b", 3), ("info-seoul-4", "a", 1)]

OFFER_QUERIES = {
    "open": {},
    "near Seoul city hall": {"near": SEOUL_CITY_HALL},
    "near Seongnam": {"near": SEONGNAM},
    "region": {"region": "SEOUL-KETI"},
    "device": {"device": "camkor1"},
    "device kind": {"device_kind": "camera"},
    "min cpu": {"min_cpu_millicores": 3000},
    "min memory": {"min_memory_mib": 2048},
    "max price below the ties": {"max_price_per_hour": 999},
    "max price at the ties": {"max_price_per_hour": 1000},
    "seller": {"seller": "{{ addr_a | lower }}"},
    "any": {"state": "any"},
    "withdrawn": {"state": "withdrawn"},
    "reserved": {"state": "reserved"},
    "bookable for 3 hours": {"hours": 3},
    "architecture": {"architecture": "arm64", "state": "any"},
    "limit": {"limit": 2},
    "camera in Seoul at most 1000": {"region": "SEOUL-KETI", "device_kind": "camera", "max_price_per_hour": 1000},
    "one offer": {"offer_id": "{{ offers['info-seoul-2'] }}", "state": "any"},
}

# Reservation filters; "key" says whose private_key the task carries (None: no key).
RESERVATION_QUERIES = {
    "all": (None, {}),
    "buyer self": ("key_a", {"buyer": "self"}),
    "buyer self, live": ("key_a", {"buyer": "self", "state": ["requested", "accepted"]}),
    "seller self": ("key_a", {"seller": "self"}),
    "seller B": (None, {"seller": "{{ addr_b }}"}),
    "buyer B": (None, {"buyer": "{{ addr_b }}"}),
    "accepted": (None, {"state": ["accepted"]}),
    "requested or cancelled": ("key_b", {"state": ["requested", "cancelled"]}),
    "of info-seoul-3": (None, {"offer_id": "{{ offers['info-seoul-3'] }}"}),
}


def run_queries(reb, facts):
    """Every query of OFFER_QUERIES and RESERVATION_QUERIES in check mode (read-only: the same as a real run);
    {"offers: <query>" or "reservations: <query>": result}."""
    variables = reb.vars(**facts)
    results = {}
    for name, filters in OFFER_QUERIES.items():
        results["offers: " + name] = reb.ok("reb_offer_info", check_mode=True, **render(filters, variables))
    for name, (key, filters) in RESERVATION_QUERIES.items():
        args = dict(filters, private_key="{{ %s }}" % key) if key else filters
        results["reservations: " + name] = reb.ok("reb_reservation_info", check_mode=True,
                                                  **render(args, variables))
    assert not [n for n, r in results.items() if r["changed"]], results
    return results


@pytest.fixture(scope="module")
def market(reb, ssh_material):
    """A market to search: two providers, seven offers (one withdrawn), three reservations (one accepted, one
    cancelled)."""
    key = {"a": reb.keys[A], "b": reb.keys[B]}
    for who, name in (("a", "Provider A (FBK)"), ("b", "Provider B (KETI)")):
        reb.ok("reb_provider", name=name, private_key=key[who])
    offers = dict((node, reb.ok("reb_offer", private_key=key[who], node_id=node, **fields)["offer"]["id"])
                  for node, who, fields in OFFERS)
    reb.ok("reb_offer", private_key=key["a"], node_id="info-trento-2", state="absent")
    reservations = [reb.ok("reb_reservation", private_key=key[who], state="requested", offer_id=offers[node],
                           hours=hours, buyer_public_key=ssh_material["buyer_public_key"])["reservation"]["id"]
                    for node, who, hours in RESERVE]
    reb.ok("reb_reservation", private_key=key["b"], state="accepted", reservation_id=reservations[0],
           access_endpoint="198.51.100.4:22", host_key_fingerprint=ssh_material["host_fingerprint"])
    reb.ok("reb_reservation", private_key=key["a"], state="cancelled", reservation_id=reservations[2])
    facts = dict(offers=offers, reservations=reservations)
    reb.travel(ELAPSED)
    names = dict((v, k) for k, v in facts["offers"].items())
    return dict(facts, run=run_queries(reb, facts), names=names)


def offer_names(market, query):
    result = market["run"]["offers: " + query]
    assert result["total"] == 7, result
    return [market["names"][o["id"]] for o in result["offers"]]


@pytest.mark.parametrize("query, expected", [
    # cheapest first; the two offers at 1000 wei tie, and without `near` the older one comes first
    ("open", ["info-trento-1", "info-seoul-1", "info-seoul-2", "info-seoul-4"]),
    ("near Seoul city hall", ["info-trento-1", "info-seoul-1", "info-seoul-2", "info-seoul-4"]),
    ("near Seongnam", ["info-trento-1", "info-seoul-2", "info-seoul-1", "info-seoul-4"]),  # the tie goes to the nearest
    ("region", ["info-seoul-1", "info-seoul-2", "info-seoul-4"]),
    ("device", ["info-seoul-1"]),
    ("device kind", ["info-trento-1", "info-seoul-1"]),
    ("min cpu", ["info-seoul-2"]),
    ("min memory", ["info-seoul-1", "info-seoul-2"]),
    ("max price below the ties", ["info-trento-1"]),
    ("max price at the ties", ["info-trento-1", "info-seoul-1", "info-seoul-2"]),
    ("seller", ["info-trento-1"]),
    ("any", ["info-trento-1", "info-trento-3", "info-seoul-1", "info-seoul-2", "info-seoul-4", "info-seoul-3",
             "info-trento-2"]),
    ("withdrawn", ["info-trento-2"]),
    ("reserved", ["info-trento-3", "info-seoul-3"]),
    ("bookable for 3 hours", ["info-seoul-1", "info-seoul-2", "info-seoul-4"]),
    ("architecture", ["info-seoul-3"]),
    ("limit", ["info-trento-1", "info-seoul-1"]),
    ("camera in Seoul at most 1000", ["info-seoul-1"]),
])
def test_offer_info_filters_and_ranking(market, query, expected):
    assert offer_names(market, query) == expected


def test_offer_info_returns_the_offer_as_published(market, reb):
    result = market["run"]["offers: one offer"]
    assert result["total"] == 1
    (offer,) = result["offers"]
    assert offer == {
        "id": market["offers"]["info-seoul-2"], "seller": reb.accounts[B], "node_id": "info-seoul-2",
        "region": "SEOUL-KETI", "tier": 0, "location": SEONGNAM, "cpu_millicores": 4000, "memory_mib": 8192,
        "storage_gib": 0, "architecture": "amd64", "devices": [{"id": "lidar1", "kind": "lidar"}],
        "price_per_hour": 1000, "min_hours": 1, "max_hours": 720, "available_from": 0,
        "available_until": 2 ** 40 - 1, "state": "open", "active_reservation": 0,
        "seller_name": "Provider B (KETI)",
        "terms_hash": "0x" + reb.contract.functions.getOffer(offer["id"]).call()[-1].hex()}


def reservations(market, query):
    return market["run"]["reservations: " + query]


@pytest.mark.parametrize("query, expected", [
    ("all", [0, 1, 2]),  # oldest first
    ("buyer self", [0, 2]),
    ("buyer self, live", [0]),
    ("seller self", [1]),
    ("seller B", [0, 2]),
    ("buyer B", [1]),
    ("accepted", [0]),
    ("requested or cancelled", [1, 2]),
    ("of info-seoul-3", [0]),
])
def test_reservation_info_selection(market, query, expected):
    ids = [r["id"] for r in reservations(market, query)["reservations"]]
    assert ids == [market["reservations"][i] for i in expected]


def test_reservation_info_time_left_cost_so_far_and_owed(market, reb, ssh_material):
    by_id = dict((r["id"], r) for r in reservations(market, "all")["reservations"])
    accepted, requested, cancelled = (by_id[i] for i in market["reservations"])

    assert accepted["state"] == "accepted" and accepted["offer"]["node_id"] == "info-seoul-3"
    assert accepted["buyer"] == reb.accounts[A] and accepted["escrow"] == 2 * 2000
    assert accepted["host_key_fingerprint"] == ssh_material["host_fingerprint"]
    assert accepted["ends_at"] - accepted["accepted_at"] == 2 * 3600
    assert accepted["accept_deadline"] == accepted["requested_at"] + 3600
    slack = 300  # wall-clock seconds the test itself may take between the acceptance and the query
    assert 2 * 3600 - ELAPSED - slack <= accepted["time_left"] <= 2 * 3600 - ELAPSED
    assert 4000 * ELAPSED // 7200 <= accepted["cost_so_far"] <= 4000 * (ELAPSED + slack) // 7200
    assert accepted["cost_so_far"] == 4000 * (7200 - accepted["time_left"]) // 7200  # consistent with time_left

    assert requested["state"] == "requested" and requested["buyer"] == reb.accounts[B]
    now = accepted["ends_at"] - accepted["time_left"]  # the chain time of the query
    assert requested["cost_so_far"] == 0, "a request costs nothing until accepted"
    assert requested["time_left"] == max(0, requested["accept_deadline"] - now), "the seller's answer window left"
    assert requested["offer"]["node_id"] == "info-trento-3" and requested["offer"]["state"] == "reserved"
    assert cancelled["state"] == "cancelled" and (cancelled["time_left"], cancelled["cost_so_far"]) == (0, 0)
    assert cancelled["offer"]["state"] == "open"

    assert "owed" not in reservations(market, "all")  # no key: nobody to be owed anything
    assert reservations(market, "buyer self")["owed"] == reb.owed(reb.accounts[A]) == 1500  # the cancelled hour
    assert reservations(market, "requested or cancelled")["owed"] == reb.owed(reb.accounts[B]) == 0
