"""Unit tests of fog_placement_core on the lab's Table I and on the simple_ocr descriptor."""
import copy
import random

import pytest

from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import host_from_hostvars, offer_hostvars
from ansible_collections.decenter.fog.plugins.module_utils.fog_placement_core import (
    PlacementError, first_offer_filters, place, validate_app)

CAMKOR1_FILTERS = {"device": "camkor1", "region": "SEOUL-KETI", "min_cpu_millicores": 600, "min_memory_mib": 512,
                   "min_storage_gib": 1}
LINKS = [
    {"source": "CLOUD", "destination": "POVO", "latency_ms": 5, "bandwidth_kbps": 100000},
    {"source": "CLOUD", "destination": "SEOUL", "latency_ms": 250},
    {"source": "CLOUD", "destination": "SEOUL-KETI", "latency_ms": 260, "bandwidth_kbps": 10000},
    {"source": "SEOUL", "destination": "SEOUL-KETI", "latency_ms": 5},
]


def ms_named(app, name):
    return next(m for m in app["microservices"] if m["name"] == name)


# ----------------------------------------------------------------------------------------------------------------
# The reference story

def test_the_descriptor_is_valid_and_has_two_processors(app):
    valid = validate_app(app)
    processors = [m for m in valid["microservices"] if m["component"] == "processor"]
    assert [(m["name"], m["device"]) for m in processors] == [("processor-cam1", "cam1"),
                                                              ("processor-camkor1", "camkor1")]
    assert {e["name"]: e["region"] for e in valid["externalendpoints"]} == {"cam1": "POVO", "camkor1": "SEOUL-KETI"}


def test_provider_a_alone_cannot_place_processor_camkor1(app, provider_a):
    result = place(app, provider_a, LINKS)
    assert result["feasible"] is False
    assert result["placement"] == {
        "repository": {"host": "cloud", "region": "CLOUD", "provider": "provider_a", "tier": 0},
        "webserver": {"host": "cloud", "region": "CLOUD", "provider": "provider_a", "tier": 0},
        "processor-cam1": {"host": "povo", "region": "POVO", "provider": "provider_a", "tier": 1},
    }
    [unmet] = result["unmet"]
    assert unmet["microservice"] == "processor-camkor1"
    assert unmet["requirement"] == "device"
    assert unmet["offer_filters"] == CAMKOR1_FILTERS
    assert first_offer_filters(result) == CAMKOR1_FILTERS
    assert unmet["reason"].startswith("processor-camkor1 needs the region of camkor1")
    assert "camera camkor1 in region SEOUL-KETI" in unmet["reason"]
    assert "provider_a has none" in unmet["reason"]
    assert result["regions"]["POVO"]["free_cpu_millicores"] == 400
    assert result["regions"]["CLOUD"]["free_cpu_millicores"] == 6000 - 500 - 250


def test_a_rented_seoul_keti_node_takes_processor_camkor1(app, provider_a, hosts):
    result = place(app, provider_a + [hosts["seoul-keti"]], LINKS)
    assert result["feasible"] is True and result["unmet"] == [] and first_offer_filters(result) == {}
    assert result["placement"]["processor-camkor1"] == {"host": "seoul-keti", "region": "SEOUL-KETI",
                                                         "provider": "provider_b", "tier": 1}
    assert result["placement"]["processor-cam1"]["host"] == "povo"
    assert result["placement"]["repository"]["host"] == "cloud"


OFFER = {"id": 1, "seller": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "node_id": "seoul-keti",
         "region": "SEOUL-KETI", "tier": 1, "location": "37.5665,126.9780", "cpu_millicores": 2000,
         "memory_mib": 2048, "storage_gib": 10, "architecture": "amd64",
         "devices": [{"id": "camkor1", "kind": "camera"}], "price_per_hour": 10 ** 15}


@pytest.mark.parametrize("hostvars", [
    {"reb_offer": OFFER},                                # the offer alone
    dict(offer_hostvars(OFFER), reb_offer=OFFER),         # what the reb inventory's buyer view sets
], ids=["offer", "buyer-view"])
def test_a_rented_node_is_the_host_its_reb_offer_describes(app, provider_a, hostvars):
    host = host_from_hostvars("seoul-keti", hostvars)
    assert host["devices"] in ([{"id": "camkor1", "kind": "camera"}], ["camkor1:camera"])
    result = place(app, provider_a + [host], LINKS)
    assert result["feasible"]
    assert result["placement"]["processor-camkor1"]["host"] == "seoul-keti"
    # no fog_provider from the buyer's group_vars: the node's provider is its seller
    assert result["placement"]["processor-camkor1"]["provider"] == OFFER["seller"]
    named = host_from_hostvars("seoul-keti", dict(hostvars, fog_provider="provider_b"))
    assert place(app, provider_a + [named], LINKS)["placement"]["processor-camkor1"]["provider"] == "provider_b"


def test_a_rented_node_whose_offer_has_no_location_is_placed(app, provider_a):
    offer = dict(OFFER, location="")  # a seller may leave it out: "" on the chain
    host = host_from_hostvars("seoul-keti", dict(offer_hostvars(offer), reb_offer=offer))
    assert "location" not in host
    assert place(app, provider_a + [host], LINKS)["feasible"]


def test_the_cloud_tier_prefers_the_buyers_roomier_cloud_and_latency_keeps_the_webserver_near(app, hosts):
    # With every lab host, tier 0 has CLOUD (6 CPU) and SEOUL (4 CPU): the roomier CLOUD wins.
    result = place(app, list(hosts.values()), LINKS)
    assert result["feasible"]
    assert {m: p["host"] for m, p in result["placement"].items()} == {
        "repository": "cloud", "webserver": "cloud", "processor-cam1": "povo", "processor-camkor1": "seoul-keti"}


def test_an_unconstrained_microservice_goes_to_the_lowest_tier(app, provider_a):
    app["microservices"].append({"name": "metrics", "resources": {"cpu_millicores": 100, "memory_mib": 64}})
    result = place(app, provider_a)
    assert result["placement"]["metrics"]["host"] == "cloud"
    # Even when an edge host has more room.
    big_edge = dict(provider_a[1], cpu_millicores=64000, memory_mib=65536)
    assert place(app, [provider_a[0], big_edge])["placement"]["metrics"]["host"] == "cloud"


def test_several_hosts_per_region_share_out_capacity_per_host(app):
    edge = [{"name": "povo-%d" % i, "region": "POVO", "tier": 1, "provider": "provider_a", "cpu_millicores": 700,
             "memory_mib": 600, "devices": ["cam1:camera"]} for i in (1, 2)]
    cloud = {"name": "cloud", "region": "CLOUD", "tier": 0, "provider": "provider_a", "cpu_millicores": 6000,
             "memory_mib": 6144}
    app["microservices"].append(dict(copy.deepcopy(ms_named(app, "processor-cam1")), name="processor-cam1-b"))
    result = place(app, [cloud] + edge)
    # 600m each: one per 700m host, never both on one.
    assert sorted([result["placement"]["processor-cam1"]["host"], result["placement"]["processor-cam1-b"]["host"]]) \
        == ["povo-1", "povo-2"]
    assert result["regions"]["POVO"]["hosts"] == ["povo-1", "povo-2"]
    assert result["regions"]["POVO"]["cpu_millicores"] == 1400


# ----------------------------------------------------------------------------------------------------------------
# Capacity, latency and bandwidth

def test_capacity_exhaustion_of_the_camera_host(app, provider_a, hosts):
    # A third processor for cam1 no longer fits on POVO (1 CPU: 600m used, 400m left).
    app["microservices"].append(dict(copy.deepcopy(ms_named(app, "processor-cam1")), name="processor-cam1-hd"))
    result = place(app, provider_a + [hosts["seoul-keti"]], LINKS)
    [unmet] = result["unmet"]
    assert unmet["microservice"] in ("processor-cam1", "processor-cam1-hd")
    assert unmet["requirement"] == "capacity"
    assert "needs 600m CPU and 512 MiB of memory and 1 GiB of disk" in unmet["reason"]
    assert "povo, has 400m CPU and 512 MiB and 9 GiB of disk free" in unmet["reason"]
    assert unmet["offer_filters"] == {"device": "cam1", "region": "POVO", "min_cpu_millicores": 600,
                                      "min_memory_mib": 512, "min_storage_gib": 1}


def test_capacity_exhaustion_of_the_cloud_tier(app, provider_a):
    ms_named(app, "repository")["resources"]["memory_mib"] = 6000
    result = place(app, provider_a)
    assert result["placement"]["repository"]["host"] == "cloud"
    webserver = next(u for u in result["unmet"] if u["microservice"] == "webserver")
    assert webserver["requirement"] == "capacity"
    assert "the hosts that meet tier 0 are full" in webserver["reason"]
    assert webserver["offer_filters"] == {"min_cpu_millicores": 250, "min_memory_mib": 256}


def test_storage_is_checked_only_when_the_host_declares_it(app, provider_a):
    ms_named(app, "repository")["resources"]["storage_gib"] = 501
    result = place(app, provider_a)
    assert [u["microservice"] for u in result["unmet"]] == ["processor-camkor1", "repository"]
    assert result["unmet"][1]["offer_filters"]["min_storage_gib"] == 501
    no_disk = [dict(h, storage_gib=None) for h in provider_a]
    assert place(app, no_disk)["placement"]["repository"]["host"] == "cloud"


def test_no_host_in_a_required_region(app, provider_a):
    ms_named(app, "webserver")["regionrequired"] = "TRENTO"
    del ms_named(app, "webserver")["tier"]
    unmet = next(u for u in place(app, provider_a)["unmet"] if u["microservice"] == "webserver")
    assert unmet["requirement"] == "region"
    assert unmet["reason"].startswith("webserver needs region TRENTO; provider_a has none.")
    assert unmet["offer_filters"] == {"region": "TRENTO", "min_cpu_millicores": 250, "min_memory_mib": 256}


def test_no_host_of_a_required_tier_and_no_hosts_at_all(app, provider_a):
    ms_named(app, "webserver")["tier"] = 2
    unmet = next(u for u in place(app, provider_a)["unmet"] if u["microservice"] == "webserver")
    assert unmet["requirement"] == "tier" and "needs tier 2; provider_a has none" in unmet["reason"]
    assert unmet["offer_filters"] == {"min_cpu_millicores": 250, "min_memory_mib": 256}

    empty = place(app, [])
    assert empty["placement"] == {} and not empty["feasible"]
    assert len(empty["unmet"]) == 4 and all("no host was given" in u["reason"] for u in empty["unmet"])
    # Most constrained first: the device-bound processors head the list.
    assert [u["microservice"] for u in empty["unmet"][:2]] == ["processor-cam1", "processor-camkor1"]


def test_latency_of_a_link_keeps_a_flow_in_bounds(app, hosts):
    # The repository must be in CLOUD and fills it; the webserver needs it within 50 ms, and the only other
    # cloud-tier host, SEOUL, is 250 ms away.
    app["microservices"] = [m for m in app["microservices"] if m["name"] in ("repository", "webserver")]
    ms_named(app, "repository")["regionrequired"] = "CLOUD"
    app["dataflows"] = [f for f in app["dataflows"] if f["source"] == "repository"]
    small_cloud = dict(hosts["cloud"], cpu_millicores=500)
    result = place(app, [small_cloud, hosts["seoul"]], LINKS)
    assert result["placement"]["repository"]["host"] == "cloud"
    [unmet] = result["unmet"]
    assert unmet["requirement"] == "network"
    assert unmet["reason"] == ("webserver is too far from repository: seoul (SEOUL) is 250 ms from CLOUD, the data "
                               "flow repository -> webserver allows 50 ms. Add a faster link, or rent a node with "
                               "region=CLOUD min_cpu_millicores=250 min_memory_mib=256.")
    assert unmet["offer_filters"] == {"region": "CLOUD", "min_cpu_millicores": 250, "min_memory_mib": 256}
    # Without links, latency is not known and not checked.
    assert place(app, [small_cloud, hosts["seoul"]])["placement"]["webserver"]["host"] == "seoul"


def test_latency_to_an_external_endpoint(app, hosts):
    # A processor with only a tier affinity must still be within 20 ms of its camera's region.
    app["microservices"] = [{"name": "p", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "tier": 1}]
    app["dataflows"] = [{"source": "camkor1", "destination": "p", "latency_ms": 20}]
    result = place(app, [hosts["povo"], hosts["seoul-keti"]], LINKS + [
        {"source": "POVO", "destination": "SEOUL-KETI", "latency_ms": 270}])
    assert result["placement"]["p"]["host"] == "seoul-keti"  # povo is roomier but 270 ms from camkor1


def test_bandwidth_of_a_link_is_shared_by_the_flows_over_it(app, hosts):
    app["microservices"] = [
        {"name": "store", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "regionrequired": "CLOUD"},
        {"name": "a", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "device": "camkor1"},
        {"name": "b", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "tier": 1},
    ]
    app["dataflows"] = [{"source": "a", "destination": "store", "bandwidth_kbps": 6000},
                        {"source": "b", "destination": "store", "bandwidth_kbps": 6000}]
    # Placed in this order: a (device), store (region; a -> store takes 6000 of CLOUD - SEOUL-KETI's 10000 kbps),
    # then b (tier 1: only seoul-keti), whose 6000 kbps no longer fit.
    result = place(app, [hosts["cloud"], hosts["seoul-keti"]], LINKS)
    assert sorted(result["placement"]) == ["a", "store"]
    [unmet] = result["unmet"]
    assert unmet["microservice"] == "b" and unmet["requirement"] == "network"
    assert "the link SEOUL-KETI - CLOUD has 4000 kbps left, the data flows of b need 6000" in unmet["reason"]
    assert unmet["offer_filters"] == {"region": "CLOUD", "min_cpu_millicores": 100, "min_memory_mib": 100}


def test_flows_over_a_link_are_summed_even_when_placed_together(app, hosts):
    app["microservices"] = [
        {"name": "store", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "regionrequired": "CLOUD"},
        {"name": "a", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "device": "camkor1"},
        {"name": "b", "resources": {"cpu_millicores": 100, "memory_mib": 100}, "device": "camkor1"},
    ]
    app["dataflows"] = [{"source": "a", "destination": "store", "bandwidth_kbps": 6000},
                        {"source": "b", "destination": "store", "bandwidth_kbps": 6000}]
    # a and b go first (device); store would then pull 12000 kbps over a 10000 kbps link.
    result = place(app, [hosts["cloud"], hosts["seoul-keti"]], LINKS)
    assert sorted(result["placement"]) == ["a", "b"]
    [unmet] = result["unmet"]
    assert unmet["microservice"] == "store" and unmet["requirement"] == "network"
    assert unmet["reason"].startswith("store cannot reach b with enough bandwidth: the link CLOUD - SEOUL-KETI has "
                                      "10000 kbps left, the data flows of store need 12000. Add bandwidth, or rent "
                                      "a node with region=CLOUD")
    # The device-bound end is not what moves: the filters ask for the required region.
    assert unmet["offer_filters"]["region"] == "CLOUD"


# ----------------------------------------------------------------------------------------------------------------
# Determinism

def test_the_result_does_not_depend_on_input_order(app, hosts):
    expected = place(app, list(hosts.values()), LINKS)
    rng = random.Random(7)
    for _ in range(20):
        shuffled_hosts = list(hosts.values())
        rng.shuffle(shuffled_hosts)
        links = [dict(link, source=link["destination"], destination=link["source"]) if rng.random() < 0.5 else link
                 for link in LINKS]
        rng.shuffle(links)
        shuffled_app = copy.deepcopy(app)
        rng.shuffle(shuffled_app["dataflows"])
        assert place(app, shuffled_hosts, links) == expected
        result = place(shuffled_app, shuffled_hosts, links)
        assert result["unmet"] == expected["unmet"] and result["regions"] == expected["regions"]


def test_the_input_is_not_modified(app, provider_a):
    before = (copy.deepcopy(app), copy.deepcopy(provider_a), copy.deepcopy(LINKS))
    place(app, provider_a, LINKS)
    assert (app, provider_a, LINKS) == before


# ----------------------------------------------------------------------------------------------------------------
# Invalid input: a PlacementError whose sentence says what, which and what to do

def mutate(path_value):
    """A mutation of the simple_ocr descriptor."""
    def apply(app):
        path, value = path_value
        target = app
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return app
    return apply


DELETE = object()
MS = {"repository": 0, "webserver": 1, "processor-cam1": 2, "processor-camkor1": 3}

INVALID_APPS = [
    ("unknown microservice in a data flow", mutate((["dataflows", 2, "destination"], "repo")),
     ["app simple_ocr: dataflows[2]: repo is neither a microservice nor an external endpoint of the app",
      "known names: cam1, camkor1, processor-cam1"]),
    ("missing resources", mutate((["microservices", MS["webserver"], "resources"], DELETE)),
     ["microservice webserver has no resources: give resources: {cpu_millicores: 500, memory_mib: 512}"]),
    ("missing memory", mutate((["microservices", MS["webserver"], "resources", "memory_mib"], DELETE)),
     ["microservice webserver: resources has no memory_mib; give both cpu_millicores"]),
    ("negative cpu", mutate((["microservices", MS["processor-cam1"], "resources", "cpu_millicores"], -600)),
     ["microservice processor-cam1: resources.cpu_millicores must be a whole number >= 0, got -600 "
      "(1000 millicores = one CPU)"]),
    ("cpu as a word", mutate((["microservices", MS["processor-cam1"], "resources", "cpu_millicores"], "half")),
     ["resources.cpu_millicores must be a whole number >= 0, got 'half'"]),
    ("cpu as a boolean", mutate((["microservices", MS["processor-cam1"], "resources", "cpu_millicores"], True)),
     ["resources.cpu_millicores must be a whole number >= 0, got True"]),
    ("fractional memory", mutate((["microservices", MS["processor-cam1"], "resources", "memory_mib"], 0.5)),
     ["resources.memory_mib must be a whole number >= 0, got 0.5"]),
    ("unknown resource", mutate((["microservices", MS["webserver"], "resources", "gpus"], 1)),
     ["microservice webserver: resources has the unknown key 'gpus': use only cpu_millicores, memory_mib, "
      "storage_gib"]),
    ("device that is no external endpoint", mutate((["microservices", MS["processor-camkor1"], "device"], "camkor2")),
     ["microservice processor-camkor1 needs device camkor2, which is not an external endpoint of the app "
      "(cam1, camkor1); declare it under externalendpoints"]),
    ("duplicate microservice", mutate((["microservices", MS["processor-camkor1"], "name"], "processor-cam1")),
     ["the microservice name processor-cam1 is used twice; give each instance its own name"]),
    ("duplicate endpoint", mutate((["externalendpoints", 1, "name"], "cam1")),
     ["the external endpoint name cam1 is used twice"]),
    ("microservice named like an endpoint", mutate((["microservices", MS["webserver"], "name"], "cam1")),
     ["cam1 names both an external endpoint and a microservice; rename one of them"]),
    ("misspelt regionrequired", mutate((["microservices", MS["webserver"], "regionRequired"], "CLOUD")),
     ["microservice webserver has the key 'regionRequired', which is not a known key: "
      "write 'regionrequired' instead"]),
    ("region instead of regionrequired", mutate((["microservices", MS["webserver"], "region"], "CLOUD")),
     ["write 'regionrequired' instead"]),
    ("misspelt dataflows", mutate((["data_flows"], [])), ["write 'dataflows' instead"]),
    ("tier as a word", mutate((["microservices", MS["webserver"], "tier"], "cloud")),
     ["microservice webserver: tier must be a whole number >= 0, got 'cloud' (0 is the cloud"]),
    ("region contradicting the device", mutate((["microservices", MS["processor-camkor1"], "regionrequired"],
                                                "CLOUD")),
     ["requires region CLOUD but its device camkor1 is in region SEOUL-KETI"]),
    ("data flow to itself", mutate((["dataflows", 2, "destination"], "processor-cam1")),
     ["dataflows[2] goes from processor-cam1 to itself"]),
    ("data flow between two endpoints", mutate((["dataflows", 0, "destination"], "camkor1")),
     ["dataflows[0] joins two external endpoints (cam1, camkor1); a data flow must have a microservice"]),
    ("duplicate data flow", mutate((["dataflows", 3], {"source": "processor-cam1", "destination": "repository"})),
     ["the data flow processor-cam1 -> repository is declared twice; merge the two into one"]),
    ("zero latency", mutate((["dataflows", 0, "latency_ms"], 0)),
     ["data flow cam1 -> processor-cam1: latency_ms must be a number > 0, got 0"]),
    ("negative bandwidth", mutate((["dataflows", 0, "bandwidth_kbps"], -1)),
     ["data flow cam1 -> processor-cam1: bandwidth_kbps must be a number >= 0, got -1"]),
    ("no microservices", mutate((["microservices"], [])),
     ["app simple_ocr has no microservices: list at least one under microservices"]),
    ("microservices not a list", mutate((["microservices"], {"repository": {}})),
     ["app simple_ocr: microservices must be a list, got dict"]),
    ("nameless microservice", mutate((["microservices", MS["webserver"], "name"], "")),
     ["app simple_ocr: microservices[1] needs a name (a non-empty string), got ''"]),
    ("nameless app", mutate((["name"], DELETE)), ["the app descriptor needs a name"]),
    ("env not a mapping", mutate((["microservices", MS["webserver"], "env"], ["A=1"])),
     ["microservice webserver: env must be a mapping, got list"]),
]


@pytest.mark.parametrize("change, expected", [(c, e) for _, c, e in INVALID_APPS],
                         ids=[i for i, _, _ in INVALID_APPS])
def test_invalid_descriptor(app, provider_a, change, expected):
    with pytest.raises(PlacementError) as err:
        place(change(app), provider_a)
    for text in expected:
        assert text in str(err.value)


def test_a_descriptor_that_is_not_a_mapping(provider_a):
    with pytest.raises(PlacementError, match=r"the app descriptor \(name, externalendpoints, microservices, "
                                             r"dataflows\) must be a mapping, got list"):
        place([{"name": "x"}], provider_a)


INVALID_HOSTS = [
    ("twice", lambda h: h + [dict(h[0])], "host cloud is given twice; each host must appear once."),
    ("no tier", lambda h: [dict(h[0], tier=None)], "host cloud has no tier: give its FogAtlas tier (0 for the cloud"),
    ("no region", lambda h: [dict(h[0], region="")], "host cloud needs a region (a non-empty string), got ''."),
    ("negative memory", lambda h: [dict(h[0], memory_mib=-1)], "host cloud: memory_mib must be a whole number >= 0"),
    ("no cpu", lambda h: [{k: v for k, v in h[0].items() if k != "cpu_millicores"}],
     "host cloud has no cpu_millicores: give its capacity"),
    ("bad device", lambda h: [dict(h[1], devices=[":camera"])],
     "host povo: device ':camera' is not understood; write it as id:kind (e.g. camkor1:camera)"),
    ("devices not a list", lambda h: [dict(h[1], devices="cam1:camera")],
     "host povo: devices must be a list such as [\"cam1:camera\"]"),
    ("not a list", lambda h: {"cloud": h[0]}, "hosts must be a list of hosts, got dict."),
    ("cpu instead of cpu_millicores", lambda h: [dict(h[0], cpu=6)],
     "host cloud has the key 'cpu', which is not a known key: write 'cpu_millicores' instead."),
]


@pytest.mark.parametrize("change, expected", [(c, e) for _, c, e in INVALID_HOSTS],
                         ids=[i for i, _, _ in INVALID_HOSTS])
def test_invalid_hosts(app, provider_a, change, expected):
    with pytest.raises(PlacementError) as err:
        place(app, change(provider_a))
    assert expected in str(err.value)


INVALID_LINKS = [
    ([{"source": "CLOUD", "destination": "CLOUD", "latency_ms": 1}], "links[0] joins region CLOUD to itself"),
    ([{"source": "CLOUD", "destination": "POVO", "latency_ms": 1}, {"source": "POVO", "destination": "CLOUD",
                                                                   "latency_ms": 2}],
     "links[1]: the link between CLOUD and POVO is given twice"),
    ([{"source": "CLOUD", "destination": "POVO"}], "links[0] (CLOUD - POVO) has no latency_ms."),
    ([{"source": "CLOUD", "destination": "POVO", "latency": 3}],
     "links[0] has the key 'latency', which is not a known key: write 'latency_ms' instead."),
    ([{"source": "CLOUD", "destination": "POVO", "latency_ms": 3, "jitter_ms": 1}],
     "links[0] has the unknown key 'jitter_ms': use only source, destination, latency_ms, bandwidth_kbps."),
]


@pytest.mark.parametrize("links, expected", INVALID_LINKS)
def test_invalid_links(app, provider_a, links, expected):
    with pytest.raises(PlacementError) as err:
        place(app, provider_a, links)
    assert expected in str(err.value)


def test_numbers_written_as_strings_are_accepted(app, provider_a):
    # Templated values may arrive as strings.
    ms_named(app, "webserver")["resources"] = {"cpu_millicores": "250", "memory_mib": "256"}
    hosts = [dict(h, cpu_millicores=str(h["cpu_millicores"])) for h in provider_a]
    assert place(app, hosts)["placement"]["webserver"]["host"] == "cloud"


def test_rented_nodes_are_checked_like_hosts(app, provider_a):
    offer = {"node_id": "seoul-keti", "tier": 1, "cpu_millicores": 2000, "memory_mib": 2048}
    with pytest.raises(PlacementError, match=r"^host seoul-keti needs a region \(a non-empty string\), got None\.$"):
        place(app, provider_a + [host_from_hostvars("seoul-keti", {"reb_offer": offer})])
    with pytest.raises(PlacementError, match=r"^host povo is given twice"):
        place(app, provider_a + [provider_a[1]])
