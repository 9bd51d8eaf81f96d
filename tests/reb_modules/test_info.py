"""reb_offer_info filters and ranking, reb_reservation_info selection and its time_left/cost_so_far."""
import json

import pytest

from tests.reb_modules.conftest import A, B, play

SEOUL_CITY_HALL = "37.5665,126.9780"
SEONGNAM = "37.4000,127.1000"
ELAPSED = 1800  # seconds of chain time between the acceptance and the queries

SETUP = play("""
- name: Register the providers
  decenter.fog.reb_provider:
    name: "{{ item.name }}"
    private_key: "{{ lookup('vars', 'key_' + item.who) }}"  # keys stay out of loop items
  loop:
    - {name: Provider A (FBK), who: a}
    - {name: Provider B (KETI), who: b}
  loop_control:
    label: "{{ item.name }}"

- name: Publish the offers
  decenter.fog.reb_offer:
    private_key: "{{ lookup('vars', 'key_' + item.who) }}"  # keys stay out of loop items
    node_id: "{{ item.node }}"
    region: "{{ item.region }}"
    location: "{{ item.location | default('') }}"
    cpu_millicores: "{{ item.cpu }}"
    memory_mib: "{{ item.memory }}"
    architecture: "{{ item.arch | default('amd64') }}"
    devices: "{{ item.devices | default([]) }}"
    price_per_hour: "{{ item.price }}"
    max_hours: "{{ item.max_hours | default(720) }}"
  loop:
    - {node: info-seoul-1, who: b, region: SEOUL-KETI, location: "37.5665,126.9780", cpu: 2000,
       memory: 2048, devices: ["camkor1:camera"], price: 1000}
    - {node: info-seoul-2, who: b, region: SEOUL-KETI, location: "37.4000,127.1000", cpu: 4000,
       memory: 8192, devices: ["lidar1:lidar"], price: 1000}
    - {node: info-trento-1, who: a, region: TRENTO-FBK, location: "46.0664,11.1257", cpu: 1000,
       memory: 1024, devices: ["camit1:camera"], price: 500, max_hours: 2}
    - {node: info-trento-2, who: a, region: TRENTO-FBK, cpu: 8000, memory: 16384, price: 3000}
    - {node: info-seoul-3, who: b, region: SEOUL-KETI, cpu: 2000, memory: 2048, arch: arm64, price: 2000}
    - {node: info-trento-3, who: a, region: TRENTO-FBK, cpu: 1000, memory: 1024, price: 700}
    - {node: info-seoul-4, who: b, region: SEOUL-KETI, cpu: 1000, memory: 1024, price: 1500}
  loop_control:
    label: "{{ item.node }}"
  register: published

- name: Provider A withdraws info-trento-2
  decenter.fog.reb_offer:
    private_key: "{{ key_a }}"
    node_id: info-trento-2
    state: absent

- name: Reserve
  decenter.fog.reb_reservation:
    private_key: "{{ lookup('vars', 'key_' + item.who) }}"  # keys stay out of loop items
    state: requested
    offer_id: "{{ (published.results | selectattr('item.node', 'eq', item.node) | first).offer.id }}"
    hours: "{{ item.hours }}"
    buyer_public_key: "{{ buyer_public_key }}"
  loop:
    - {node: info-seoul-3, who: a, hours: 2}
    - {node: info-trento-3, who: b, hours: 3}
    - {node: info-seoul-4, who: a, hours: 1}
  loop_control:
    label: "{{ item.node }}"
  register: reserved

- name: Seller B accepts info-seoul-3
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: accepted
    reservation_id: "{{ reserved.results[0].reservation.id }}"
    access_endpoint: "198.51.100.4:22"
    host_key_fingerprint: "{{ host_fingerprint }}"

- name: Buyer A cancels info-seoul-4
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: cancelled
    reservation_id: "{{ reserved.results[2].reservation.id }}"
""", "A market to search")

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


def queries_playbook():
    tasks = []
    for name, filters in OFFER_QUERIES.items():
        tasks.append({"name": "offers: " + name, "decenter.fog.reb_offer_info": filters})
    for name, (key, filters) in RESERVATION_QUERIES.items():
        args = dict(filters, private_key="{{ %s }}" % key) if key else filters
        tasks.append({"name": "reservations: " + name, "decenter.fog.reb_reservation_info": args})
    # JSON is YAML: no quoting surprises for the filter values
    return play("\n".join("- " + json.dumps(t) for t in tasks), "Search the market")


@pytest.fixture(scope="module")
def market(reb, ssh_material):
    setup = reb.run(SETUP, dict(buyer_public_key=ssh_material["buyer_public_key"],
                                host_fingerprint=ssh_material["host_fingerprint"]))
    assert setup.rc == 0, setup
    published = setup.task("Publish the offers")["results"]
    facts = dict(offers=dict((r["item"]["node"], r["offer"]["id"]) for r in published),
                 reservations=[r["reservation"]["id"] for r in setup.task("Reserve")["results"]])
    reb.travel(ELAPSED)
    run = reb.run(queries_playbook(), facts, args=["--check"])  # read-only: the same in check mode
    assert run.rc == 0 and run.stats["changed"] == 0, run
    names = dict((v, k) for k, v in facts["offers"].items())
    return dict(facts, run=run, names=names)


def offer_names(market, query):
    result = market["run"].task("offers: " + query)
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
    result = market["run"].task("offers: one offer")
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
    return market["run"].task("reservations: " + query)


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
