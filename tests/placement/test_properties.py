"""Properties of the placement on random fog infrastructures and apps (hypothesis)."""
import copy
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.decenter.fog.plugins.module_utils.fog_placement_core import (
    PlacementError, place, validate_app)

REGIONS = ["CLOUD", "POVO", "SEOUL-KETI", "TRENTO"]
DEVICES = ["cam1", "camkor1", "lidar1"]
# Generation dominates the cost (placing takes ~2 ms): enough examples to find the corner cases, under a few seconds.
# Values from small sets: collisions (full hosts, slow links, saturated links) are what the properties are about.
SIZES = st.sampled_from([0, 500, 1000, 2000, 6000]) | st.integers(0, 6000)
DEMANDS = st.sampled_from([0, 100, 250, 600, 1500]) | st.integers(0, 1500)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(SETTINGS, max_examples=50)


@st.composite
def infrastructures(draw, roomy=False):
    """(app, hosts, links): usually one or two hosts per region, each device on a host of its endpoint's region
    (sometimes on none, or elsewhere), random affinities, data flows and links between most regions.

    `roomy`: hosts much bigger than microservices, so that links (latency, bandwidth) are what binds."""
    sizes, demands = (st.integers(4000, 6000), st.integers(0, 500)) if roomy else (SIZES, DEMANDS)
    region_tier = dict((r, draw(st.integers(0, 2))) for r in REGIONS)
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=0, max_size=8))
    if roomy or draw(st.integers(0, 3)):  # mostly every region has a host
        regions = REGIONS + regions
    hosts = [dict(name="h%d" % i, region=region, tier=region_tier[region], provider=draw(st.sampled_from(["pa", "pb"])),
                  cpu_millicores=draw(sizes), memory_mib=draw(sizes),
                  storage_gib=draw(st.one_of(st.none(), st.integers(0, 20))), devices=[])
             for i, region in enumerate(regions)]
    endpoints = []
    for device in draw(st.lists(st.sampled_from(DEVICES), unique=True, max_size=3)):
        region = draw(st.sampled_from(REGIONS) if roomy else st.one_of(st.none(), st.sampled_from(REGIONS)))
        endpoints.append(dict(name=device, kind="camera", region=region))
        near = [h for h in hosts if h["region"] == region] if region and draw(st.integers(0, 4)) else hosts
        for host in draw(st.lists(st.sampled_from(near), unique_by=lambda h: h["name"], min_size=int(roomy),
                                  max_size=2)) if near else []:
            host["devices"].append("%s:camera" % device)
    microservices = []
    for i in range(draw(st.integers(1, 7))):
        ms = dict(name="m%d" % i, resources=dict(cpu_millicores=draw(demands), memory_mib=draw(demands),
                                                  storage_gib=draw(st.integers(0, 8))))
        affinity = draw(st.sampled_from(["device", "region", "tier", "none", "none"]))
        if affinity == "device" and endpoints:
            endpoint = draw(st.sampled_from(endpoints))
            ms["device"] = endpoint["name"]
            if endpoint["region"] and draw(st.integers(0, 3)) == 0:
                ms["regionrequired"] = endpoint["region"]
        elif affinity == "region":
            ms["regionrequired"] = draw(st.sampled_from(REGIONS))
        if not roomy and (affinity == "tier" or draw(st.integers(0, 5)) == 0):
            ms["tier"] = draw(st.integers(0, 2))
        microservices.append(ms)
    ms_names = [m["name"] for m in microservices]
    names = ms_names + [e["name"] for e in endpoints]
    dataflows, pairs = [], set()
    for _ in range(draw(st.integers(0, 10))):
        source, destination = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if source == destination or (source, destination) in pairs or (
                source not in ms_names and destination not in ms_names):
            continue
        pairs.add((source, destination))
        dataflows.append(dict(source=source, destination=destination,
                              bandwidth_kbps=draw(st.sampled_from([None, 0, 500, 3000, 8000])),
                              latency_ms=draw(st.sampled_from([None, 10, 100, 2000]))))
    links = []
    for i, a in enumerate(REGIONS):
        for b in REGIONS[i + 1:]:
            if draw(st.integers(0, 3)):
                links.append(dict(source=a, destination=b, latency_ms=draw(st.sampled_from([1, 5, 50, 250])),
                                  bandwidth_kbps=draw(st.sampled_from([None, 0, 1000, 5000, 20000]))))
    app = dict(name="random", externalendpoints=endpoints, microservices=microservices, dataflows=dataflows)
    return app, hosts, links


@SETTINGS
@given(infrastructures())
def test_a_placement_never_exceeds_capacity_and_respects_every_affinity(case):
    check_placement(*case)


@SETTINGS
@given(infrastructures(roomy=True))
def test_a_placement_keeps_every_data_flow_within_its_links(case):
    check_placement(*case)


def check_placement(app, hosts, links):
    result = place(app, hosts, links)
    by_name = dict((h["name"], h) for h in hosts)
    services = dict((m["name"], m) for m in app["microservices"])
    placed, unmet = result["placement"], [u["microservice"] for u in result["unmet"]]

    # Every microservice is either placed or unmet, once.
    assert sorted(list(placed) + unmet) == sorted(services)
    assert result["feasible"] == (not unmet)

    # Capacity per host.
    for host in hosts:
        mine = [services[m] for m, p in placed.items() if p["host"] == host["name"]]
        assert sum(m["resources"]["cpu_millicores"] for m in mine) <= host["cpu_millicores"]
        assert sum(m["resources"]["memory_mib"] for m in mine) <= host["memory_mib"]
        if host["storage_gib"] is not None:
            assert sum(m["resources"]["storage_gib"] for m in mine) <= host["storage_gib"]

    # Affinities.
    for name, where in placed.items():
        ms, host = services[name], by_name[where["host"]]
        assert (where["region"], where["tier"], where["provider"]) == (host["region"], host["tier"], host["provider"])
        if ms.get("device"):
            assert "%s:camera" % ms["device"] in host["devices"]
        if ms.get("regionrequired"):
            assert host["region"] == ms["regionrequired"]
        if ms.get("tier") is not None:
            assert host["tier"] == ms["tier"]

    # Latency and bandwidth of every link between the regions of two placed ends.
    link_of = dict((frozenset((li["source"], li["destination"])), li) for li in links)
    endpoint_region = dict((e["name"], e["region"]) for e in app["externalendpoints"])
    used = {}
    for flow in app["dataflows"]:
        regions = [placed[n]["region"] if n in placed else endpoint_region.get(n)
                   for n in (flow["source"], flow["destination"])]
        if None in regions or regions[0] == regions[1] or frozenset(regions) not in link_of:
            continue
        link = link_of[frozenset(regions)]
        if flow["latency_ms"] is not None:
            assert link["latency_ms"] <= flow["latency_ms"]
        if link["bandwidth_kbps"] is not None and flow["bandwidth_kbps"]:
            used[frozenset(regions)] = used.get(frozenset(regions), 0) + flow["bandwidth_kbps"]
            assert used[frozenset(regions)] <= link["bandwidth_kbps"]

    # Each unmet requirement is true of the hosts and carries filters that describe it.
    for u in result["unmet"]:
        ms = services[u["microservice"]]
        f = u["offer_filters"]
        assert u["reason"].startswith(ms["name"]) and u["reason"].endswith(".")
        assert f["min_cpu_millicores"] == ms["resources"]["cpu_millicores"]
        assert f["min_memory_mib"] == ms["resources"]["memory_mib"]
        assert f.get("device") == ms.get("device")
        if ms.get("regionrequired"):
            assert f["region"] == ms["regionrequired"]
        if u["requirement"] == "device":
            assert not any("%s:camera" % ms["device"] in h["devices"] for h in hosts)
        if u["requirement"] == "region":
            assert not any(h["region"] == ms["regionrequired"] for h in hosts)
        assert set(f) <= {"device", "region", "min_cpu_millicores", "min_memory_mib", "min_storage_gib"}

    # Deterministic, whatever the order of hosts and links.
    rng = random.Random(len(hosts) * 31 + len(links))
    hosts2, links2 = copy.deepcopy(hosts), copy.deepcopy(links)
    rng.shuffle(hosts2)
    rng.shuffle(links2)
    assert place(app, hosts2, links2) == result


# Anything JSON/YAML can hold, for the fuzzing of the validator.
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@st.composite
def damaged_apps(draw):
    """The simple_ocr-like app from `infrastructures` with one value somewhere replaced by junk."""
    app, hosts, links = draw(infrastructures())
    app = copy.deepcopy(app)
    containers = []

    def walk(node):
        if isinstance(node, dict):
            containers.extend((node, k) for k in node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            containers.extend((node, i) for i in range(len(node)))
            for v in node:
                walk(v)
    walk(app)
    container, key = draw(st.sampled_from(containers))
    container[key] = draw(JUNK)
    return app, hosts, links


@FUZZ
@given(st.one_of(damaged_apps(), st.tuples(JUNK, st.just([]), st.just([]))))
def test_bad_input_raises_only_placement_errors_with_a_sentence(case):
    app, hosts, links = case
    try:
        validate_app(app)
        place(app, hosts, links)
    except PlacementError as e:
        message = str(e)
        assert message.endswith(".") and len(message) > 20 and "Traceback" not in message


@FUZZ
@given(st.lists(st.one_of(JUNK, st.fixed_dictionaries({"name": JUNK, "region": JUNK, "tier": JUNK,
                                                        "cpu_millicores": JUNK, "memory_mib": JUNK,
                                                        "devices": JUNK})), max_size=3),
       st.one_of(st.none(), st.lists(st.one_of(JUNK, st.fixed_dictionaries(
           {"source": JUNK, "destination": JUNK, "latency_ms": JUNK})), max_size=3)))
def test_bad_hosts_and_links_raise_only_placement_errors(hosts, links):
    app = {"name": "a", "microservices": [{"name": "m", "resources": {"cpu_millicores": 1, "memory_mib": 1}}]}
    try:
        place(app, hosts, links)
    except PlacementError as e:
        assert str(e).endswith(".")
