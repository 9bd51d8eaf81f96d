# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Placement of a FogAtlas-like application on fog hosts (pure Python, no Ansible import).

The application descriptor (apps/<app>/app.yml) names external endpoints (devices such as cameras,
each in a region), microservices (resources plus at most one affinity of each kind: ``device``,
``regionrequired``, ``tier``) and data flows (bandwidth and latency between two of them). Hosts
carry a region, a tier, a provider, a capacity and the devices they reach; several hosts may share
a region (capacity is per host). Links give the latency (and optionally the bandwidth) between two
regions.

``place(app, hosts, links)`` places the microservices greedily, most constrained first, and says
for every microservice it cannot place why, in a sentence, with the REB ``offer_filters`` that find
a node that would meet it; with the buyer's rented nodes among the hosts it places there too. Host dicts come
from the host model (fog_host_model: an inventory host's fog_* variables, or a rented node's REB offer).
The result depends only on its input, never on input order of hosts or links.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import numbers

from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import parse_device


class PlacementError(ValueError):
    """An app descriptor, host or link the placement cannot use; the message says what, which and what to do."""


# Constraint kinds, most constraining first: the order in which microservices are placed.
DEVICE, REGION, TIER, ANY = "device", "region", "tier", "any"
# Other kinds of unmet requirement: affinities met by no single host together, no room, data flows not kept.
AFFINITY, CAPACITY, NETWORK = "affinity", "capacity", "network"
_RANK = {DEVICE: 0, REGION: 1, TIER: 2, ANY: 3}

_APP_KEYS = ("name", "description", "version", "externalendpoints", "microservices", "dataflows")
_ENDPOINT_KEYS = ("name", "kind", "region", "location", "description")
_MICROSERVICE_KEYS = ("name", "component", "description", "image", "resources", "regionrequired", "tier", "device",
                      "env", "ports")
_RESOURCE_KEYS = ("cpu_millicores", "memory_mib", "storage_gib")
_DATAFLOW_KEYS = ("source", "destination", "bandwidth_kbps", "latency_ms", "description")
_HOST_KEYS = ("name", "region", "tier", "provider", "cpu_millicores", "memory_mib", "storage_gib", "devices",
              "location", "architecture")
_LINK_KEYS = ("source", "destination", "latency_ms", "bandwidth_kbps")
# Keys people write for a known key, per kind of entry (FogAtlas names are the canonical ones).
_CAPACITY_HINTS = {"cpu": "cpu_millicores", "millicores": "cpu_millicores", "memory": "memory_mib",
                   "mem": "memory_mib", "memorymb": "memory_mib", "ram": "memory_mib", "storage": "storage_gib",
                   "disk": "storage_gib"}
_FLOW_HINTS = {"bandwidth": "bandwidth_kbps", "latency": "latency_ms"}
_HINTS = {
    "app": {"externalendpoint": "externalendpoints", "endpoints": "externalendpoints", "dataflow": "dataflows",
            "flows": "dataflows", "microservice": "microservices", "services": "microservices"},
    "microservice": {"region": "regionrequired", "regions": "regionrequired", "requiredregion": "regionrequired",
                     "devices": "device", "cpu": "resources.cpu_millicores", "memory": "resources.memory_mib",
                     "mem": "resources.memory_mib"},
    "resources": _CAPACITY_HINTS,
    "host": dict(_CAPACITY_HINTS, device="devices"),
    "dataflow": _FLOW_HINTS,
    "link": _FLOW_HINTS,
    "endpoint": {},
}


# ---------------------------------------------------------------------------------------------------------------
# Validation helpers

def _norm_key(key):
    return str(key).lower().replace("_", "").replace("-", "").replace(".", "")


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_keys(data, allowed, where, kind, strict):
    """Unknown keys: always an error when they look like a misspelt known key; any unknown key when `strict`."""
    canonical = dict((_norm_key(k), k) for k in allowed)
    for key in sorted(data, key=str):
        if key in allowed:
            continue
        norm = _norm_key(key)
        hint = canonical.get(norm) or _HINTS[kind].get(norm)
        if hint:
            raise PlacementError("%s has the key %s, which is not a known key: write %r instead."
                                 % (where, _short(key), hint))
        if strict:
            raise PlacementError("%s has the unknown key %s: use only %s." % (where, _short(key), ", ".join(allowed)))


def _name(value, where, what="name"):
    if not isinstance(value, str) or not value.strip():
        raise PlacementError("%s needs a %s (a non-empty string), got %s." % (where, what, _short(value)))
    return value.strip()


def _optional_str(data, key, where):
    value = data.get(key)
    if value is None:
        return None
    return _name(value, where, key)


def _number(value, where, key, integer=True, positive=False, hint=""):
    """A non-negative (or positive) number; ints may come as integral floats or digit strings (templated)."""
    original = value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        value = None
    elif integer and value != int(value):
        value = None
    if value is None or value < 0 or (positive and value == 0):
        kind = "a whole number" if integer else "a number"
        bound = "> 0" if positive else ">= 0"
        raise PlacementError("%s: %s must be %s %s, got %s%s." % (where, key, kind, bound, _short(original), hint))
    return int(value) if integer else float(value)


def _list(data, key, where, required=False):
    value = data.get(key)
    if value is None:
        if required:
            raise PlacementError("%s has no %s: give a list." % (where, key))
        return []
    if not isinstance(value, (list, tuple)):
        raise PlacementError("%s: %s must be a list, got %s." % (where, key, type(value).__name__))
    return list(value)


def _mapping(value, where):
    if not isinstance(value, dict):
        raise PlacementError("%s must be a mapping, got %s %s." % (where, type(value).__name__, _short(value)))
    return value


# ---------------------------------------------------------------------------------------------------------------
# The app descriptor

def validate_app(app):
    """The descriptor, checked and normalized: {name, externalendpoints, microservices, dataflows}.

    Raises PlacementError with a sentence for the first problem found.
    """
    _mapping(app, "the app descriptor (name, externalendpoints, microservices, dataflows)")
    _check_keys(app, _APP_KEYS, "the app descriptor", "app", strict=False)
    name = _name(app.get("name"), "the app descriptor")
    where_app = "app %s" % name

    endpoints = {}
    for i, raw in enumerate(_list(app, "externalendpoints", where_app)):
        where = "%s: externalendpoints[%d]" % (where_app, i)
        _mapping(raw, where)
        ep_name = _name(raw.get("name"), where)
        where = "%s: external endpoint %s" % (where_app, ep_name)
        _check_keys(raw, _ENDPOINT_KEYS, where, "endpoint", strict=False)
        if ep_name in endpoints:
            raise PlacementError("%s: the external endpoint name %s is used twice; give each device its own name."
                                 % (where_app, ep_name))
        endpoints[ep_name] = dict(name=ep_name, kind=_optional_str(raw, "kind", where),
                                  region=_optional_str(raw, "region", where),
                                  location=_optional_str(raw, "location", where))

    microservices = []
    seen = {}
    raw_services = _list(app, "microservices", where_app, required=True)
    if not raw_services:
        raise PlacementError("%s has no microservices: list at least one under microservices." % where_app)
    for i, raw in enumerate(raw_services):
        where = "%s: microservices[%d]" % (where_app, i)
        _mapping(raw, where)
        ms_name = _name(raw.get("name"), where)
        where = "%s: microservice %s" % (where_app, ms_name)
        _check_keys(raw, _MICROSERVICE_KEYS, where, "microservice", strict=False)
        if ms_name in seen:
            raise PlacementError("%s: the microservice name %s is used twice; give each instance its own name "
                                 "(e.g. processor-cam1, processor-camkor1)." % (where_app, ms_name))
        if ms_name in endpoints:
            raise PlacementError("%s: %s names both an external endpoint and a microservice; rename one of them."
                                 % (where_app, ms_name))
        seen[ms_name] = True
        microservices.append(_microservice(raw, ms_name, where, endpoints))

    names = set(seen) | set(endpoints)
    dataflows = []
    pairs = set()
    for i, raw in enumerate(_list(app, "dataflows", where_app)):
        where = "%s: dataflows[%d]" % (where_app, i)
        _mapping(raw, where)
        _check_keys(raw, _DATAFLOW_KEYS, where, "dataflow", strict=False)
        source = _name(raw.get("source"), where, "source")
        destination = _name(raw.get("destination"), where, "destination")
        for end in (source, destination):
            if end not in names:
                raise PlacementError("%s: %s is neither a microservice nor an external endpoint of the app; "
                                     "known names: %s." % (where, end, ", ".join(sorted(names))))
        if source == destination:
            raise PlacementError("%s goes from %s to itself; a data flow joins two different parts of the app."
                                 % (where, source))
        if source in endpoints and destination in endpoints:
            raise PlacementError("%s joins two external endpoints (%s, %s); a data flow must have a microservice "
                                 "at one end at least." % (where, source, destination))
        if (source, destination) in pairs:
            raise PlacementError("%s: the data flow %s -> %s is declared twice; merge the two into one."
                                 % (where_app, source, destination))
        pairs.add((source, destination))
        where = "%s: data flow %s -> %s" % (where_app, source, destination)
        flow = dict(source=source, destination=destination, bandwidth_kbps=None, latency_ms=None)
        if raw.get("bandwidth_kbps") is not None:
            flow["bandwidth_kbps"] = _number(raw["bandwidth_kbps"], where, "bandwidth_kbps", integer=False)
        if raw.get("latency_ms") is not None:
            flow["latency_ms"] = _number(raw["latency_ms"], where, "latency_ms", integer=False, positive=True)
        dataflows.append(flow)

    return dict(name=name, externalendpoints=[endpoints[k] for k in endpoints], microservices=microservices,
                dataflows=dataflows)


def _microservice(raw, name, where, endpoints):
    resources = raw.get("resources")
    if resources is None:
        raise PlacementError("%s has no resources: give resources: {cpu_millicores: 500, memory_mib: 512} "
                             "(storage_gib optional)." % where)
    _mapping(resources, "%s: resources" % where)
    _check_keys(resources, _RESOURCE_KEYS, "%s: resources" % where, "resources", strict=True)
    for key in ("cpu_millicores", "memory_mib"):
        if resources.get(key) is None:
            raise PlacementError("%s: resources has no %s; give both cpu_millicores (1000 = one CPU) and "
                                 "memory_mib." % (where, key))
    ms = dict(name=name, component=_optional_str(raw, "component", where),
              cpu_millicores=_number(resources["cpu_millicores"], where, "resources.cpu_millicores",
                                     hint=" (1000 millicores = one CPU)"),
              memory_mib=_number(resources["memory_mib"], where, "resources.memory_mib"),
              storage_gib=0, device=None, regionrequired=None, tier=None)
    if resources.get("storage_gib") is not None:
        ms["storage_gib"] = _number(resources["storage_gib"], where, "resources.storage_gib")
    if raw.get("env") is not None:
        _mapping(raw["env"], "%s: env" % where)
    device = _optional_str(raw, "device", where)
    if device is not None:
        if device not in endpoints:
            known = ", ".join(sorted(endpoints)) or "none declared"
            raise PlacementError("%s needs device %s, which is not an external endpoint of the app (%s); declare "
                                 "it under externalendpoints with its kind and region." % (where, device, known))
        ms["device"] = device
    region = _optional_str(raw, "regionrequired", where)
    if region is not None:
        if device is not None and endpoints[device]["region"] not in (None, region):
            raise PlacementError("%s requires region %s but its device %s is in region %s; drop regionrequired "
                                 "(the device decides) or fix the endpoint's region."
                                 % (where, region, device, endpoints[device]["region"]))
        ms["regionrequired"] = region
    if raw.get("tier") is not None:
        ms["tier"] = _number(raw["tier"], where, "tier", hint=" (0 is the cloud, higher tiers are nearer the edge)")
    return ms


# ---------------------------------------------------------------------------------------------------------------
# Hosts and links

def _device(value, where):
    """`camkor1:camera`, `camkor1` or {id, kind} -> {id, kind} (fog_host_model.parse_device), or a PlacementError."""
    device = parse_device(value)
    if device is None:
        raise PlacementError("%s: device %s is not understood; write it as id:kind (e.g. camkor1:camera) or "
                             "{id: camkor1, kind: camera}." % (where, _short(value)))
    return device


def validate_hosts(hosts):
    """Hosts checked and normalized (sorted by name): name, region, tier, provider, capacity, devices."""
    if hosts is None:
        return []
    if not isinstance(hosts, (list, tuple)):
        raise PlacementError("hosts must be a list of hosts, got %s." % type(hosts).__name__)
    result = {}
    for i, raw in enumerate(hosts):
        where = "hosts[%d]" % i
        _mapping(raw, where)
        name = _name(raw.get("name"), where)
        where = "host %s" % name
        _check_keys(raw, _HOST_KEYS, where, "host", strict=False)
        if name in result:
            raise PlacementError("host %s is given twice; each host must appear once." % name)
        region = _name(raw.get("region"), where, "region")
        if raw.get("tier") is None:
            raise PlacementError("host %s has no tier: give its FogAtlas tier (0 for the cloud, 1 for the edge)."
                                 % name)
        host = dict(name=name, region=region, tier=_number(raw["tier"], where, "tier"),
                    provider=_optional_str(raw, "provider", where),
                    location=_optional_str(raw, "location", where),
                    architecture=_optional_str(raw, "architecture", where))
        for key in ("cpu_millicores", "memory_mib"):
            if raw.get(key) is None:
                raise PlacementError("host %s has no %s: give its capacity (cpu_millicores, memory_mib)."
                                     % (name, key))
            host[key] = _number(raw[key], where, key)
        storage = raw.get("storage_gib")
        host["storage_gib"] = None if storage is None else _number(storage, where, "storage_gib")
        devices = raw.get("devices") or []
        if not isinstance(devices, (list, tuple)):
            raise PlacementError("host %s: devices must be a list such as [\"cam1:camera\"], got %s."
                                 % (name, _short(devices)))
        host["devices"] = sorted((_device(d, where) for d in devices), key=lambda d: d["id"])
        result[name] = host
    return [result[k] for k in sorted(result)]


def validate_links(links):
    """{frozenset({a, b}): {latency_ms, bandwidth_kbps}}; links are symmetric."""
    result = {}
    if links is None:
        return result
    if not isinstance(links, (list, tuple)):
        raise PlacementError("links must be a list of {source, destination, latency_ms}, got %s."
                             % type(links).__name__)
    for i, raw in enumerate(links):
        where = "links[%d]" % i
        _mapping(raw, where)
        _check_keys(raw, _LINK_KEYS, where, "link", strict=True)
        a = _name(raw.get("source"), where, "source (a region)")
        b = _name(raw.get("destination"), where, "destination (a region)")
        if a == b:
            raise PlacementError("%s joins region %s to itself; a link joins two regions (a region's own hosts "
                                 "are always near each other)." % (where, a))
        key = frozenset((a, b))
        if key in result:
            raise PlacementError("%s: the link between %s and %s is given twice; give each pair of regions once."
                                 % (where, min(a, b), max(a, b)))
        if raw.get("latency_ms") is None:
            raise PlacementError("%s (%s - %s) has no latency_ms." % (where, a, b))
        result[key] = dict(latency_ms=_number(raw["latency_ms"], where, "latency_ms", integer=False),
                           bandwidth_kbps=None if raw.get("bandwidth_kbps") is None else
                           _number(raw["bandwidth_kbps"], where, "bandwidth_kbps", integer=False))
    return result


# ---------------------------------------------------------------------------------------------------------------
# Placement

def place(app, hosts, links=None):
    """Place `app` on `hosts`; see the module docstring. Returns a dict:

    app_name: the app's name;
    placement: {microservice: {host, region, provider, tier}} for those placed, in descriptor order;
    unmet: [{microservice, requirement, reason, offer_filters}] in placement order (most constrained first),
      requirement one of device, region, tier, affinity (each met somewhere, never together), capacity, network;
    feasible: True when nothing is unmet;
    regions: per region its tiers, providers, hosts, devices, capacity and what is left free.

    Raises PlacementError for an invalid descriptor, host or link.
    """
    app = validate_app(app)
    hosts = validate_hosts(hosts)
    links = validate_links(links)
    return _Placer(app, hosts, links).run()


def first_offer_filters(result):
    """The REB offer filters of the first unmet requirement, {} when everything is placed."""
    return dict(result["unmet"][0]["offer_filters"]) if result["unmet"] else {}


def _fmt(number):
    return ("%d" % number) if float(number) == int(number) else ("%g" % number)


def _filter_words(filters):
    return " ".join("%s=%s" % (k, v) for k, v in filters.items())


def _names(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return "%s and %s" % (", ".join(items[:-1]), items[-1])


class _Placer(object):
    def __init__(self, app, hosts, links):
        self.app = app
        self.hosts = hosts
        self.links = links
        self.endpoints = dict((e["name"], e) for e in app["externalendpoints"])
        self.free = dict((h["name"], dict(cpu_millicores=h["cpu_millicores"], memory_mib=h["memory_mib"],
                                          storage_gib=h["storage_gib"])) for h in hosts)
        self.link_used = dict((k, 0.0) for k in links)
        self.where = {}  # microservice -> host dict

    # -- candidates -------------------------------------------------------------------------------------------
    @staticmethod
    def kind(ms):
        if ms["device"]:
            return DEVICE
        if ms["regionrequired"]:
            return REGION
        if ms["tier"] is not None:
            return TIER
        return ANY

    def affine(self, ms, host):
        """Hosts meeting every affinity of `ms` (device, region, tier), whatever their load."""
        if ms["device"] and ms["device"] not in [d["id"] for d in host["devices"]]:
            return False
        if ms["regionrequired"] and host["region"] != ms["regionrequired"]:
            return False
        return ms["tier"] is None or host["tier"] == ms["tier"]

    def fits(self, ms, host):
        free = self.free[host["name"]]
        return (ms["cpu_millicores"] <= free["cpu_millicores"] and ms["memory_mib"] <= free["memory_mib"]
                and (free["storage_gib"] is None or ms["storage_gib"] <= free["storage_gib"]))

    def region_of(self, name):
        """Region of a placed microservice or of an external endpoint; None when not known yet."""
        if name in self.where:
            return self.where[name]["region"]
        if name in self.endpoints:
            return self.endpoints[name]["region"]
        return None

    def flows_of(self, ms):
        """(peer, flow) for every data flow with `ms` at one end."""
        for flow in self.app["dataflows"]:
            if flow["source"] == ms["name"]:
                yield flow["destination"], flow
            elif flow["destination"] == ms["name"]:
                yield flow["source"], flow

    def network_problem(self, ms, host):
        """None, or (peer, peer region, latency|bandwidth, sentence) for the first data flow this host breaks.

        Only pairs of regions with a known link are checked: within a region hosts are near each other.
        """
        extra = {}
        for peer, flow in self.flows_of(ms):
            peer_region = self.region_of(peer)
            if peer_region is None or peer_region == host["region"]:
                continue
            key = frozenset((peer_region, host["region"]))
            link = self.links.get(key)
            if link is None:
                continue
            if flow["latency_ms"] is not None and link["latency_ms"] > flow["latency_ms"]:
                why = ("%s (%s) is %s ms from %s, the data flow %s -> %s allows %s ms"
                       % (host["name"], host["region"], _fmt(link["latency_ms"]), peer_region, flow["source"],
                          flow["destination"], _fmt(flow["latency_ms"])))
                return peer, peer_region, "latency", why
            if link["bandwidth_kbps"] is not None and flow["bandwidth_kbps"]:
                extra[key] = extra.get(key, 0.0) + flow["bandwidth_kbps"]
                left = link["bandwidth_kbps"] - self.link_used[key]
                if extra[key] > left:
                    why = ("the link %s - %s has %s kbps left, the data flows of %s need %s"
                           % (host["region"], peer_region, _fmt(left), ms["name"], _fmt(extra[key])))
                    return peer, peer_region, "bandwidth", why
        return None

    # -- placing ------------------------------------------------------------------------------------------------
    def order(self):
        def key(ms):
            candidates = sum(1 for h in self.hosts if self.affine(ms, h))
            return (_RANK[self.kind(ms)], candidates, -ms["cpu_millicores"], -ms["memory_mib"], ms["name"])
        return sorted(self.app["microservices"], key=key)

    def choose(self, hosts):
        """Lower tier first (the cloud before the edge), then the most free CPU, then memory, then name."""
        return min(hosts, key=lambda h: (h["tier"], -self.free[h["name"]]["cpu_millicores"],
                                         -self.free[h["name"]]["memory_mib"], h["name"]))

    def commit(self, ms, host):
        free = self.free[host["name"]]
        free["cpu_millicores"] -= ms["cpu_millicores"]
        free["memory_mib"] -= ms["memory_mib"]
        if free["storage_gib"] is not None:
            free["storage_gib"] -= ms["storage_gib"]
        for peer, flow in self.flows_of(ms):
            peer_region = self.region_of(peer)
            key = frozenset((peer_region, host["region"])) if peer_region else None
            if key in self.links and peer_region != host["region"] and flow["bandwidth_kbps"]:
                self.link_used[key] += flow["bandwidth_kbps"]
        self.where[ms["name"]] = host

    def run(self):
        unmet = []
        for ms in self.order():
            affine = [h for h in self.hosts if self.affine(ms, h)]
            roomy = [h for h in affine if self.fits(ms, h)]
            near = [h for h in roomy if self.network_problem(ms, h) is None]
            if near:
                self.commit(ms, self.choose(near))
            elif roomy:
                unmet.append(self.unmet_network(ms, roomy))
            elif affine:
                unmet.append(self.unmet_capacity(ms, affine))
            else:
                unmet.append(self.unmet_affinity(ms))
        placement = {}
        for ms in self.app["microservices"]:
            host = self.where.get(ms["name"])
            if host:
                placement[ms["name"]] = dict(host=host["name"], region=host["region"], provider=host["provider"],
                                             tier=host["tier"])
        return dict(app_name=self.app["name"], placement=placement, unmet=unmet, feasible=not unmet,
                    regions=self.regions())

    def regions(self):
        result = {}
        for h in self.hosts:
            r = result.setdefault(h["region"], dict(tiers=[], providers=[], hosts=[], devices=[], cpu_millicores=0,
                                                    memory_mib=0, free_cpu_millicores=0, free_memory_mib=0))
            r["hosts"].append(h["name"])
            for key, value in (("tiers", h["tier"]), ("providers", h["provider"])):
                if value is not None and value not in r[key]:
                    r[key].append(value)
            r["devices"].extend(d["id"] for d in h["devices"] if d["id"] not in r["devices"])
            r["cpu_millicores"] += h["cpu_millicores"]
            r["memory_mib"] += h["memory_mib"]
            r["free_cpu_millicores"] += self.free[h["name"]]["cpu_millicores"]
            r["free_memory_mib"] += self.free[h["name"]]["memory_mib"]
        for r in result.values():
            for key in ("tiers", "providers", "devices"):
                r[key].sort()
        return dict((k, result[k]) for k in sorted(result))

    # -- unmet requirements -------------------------------------------------------------------------------------
    def needs(self, ms):
        text = "%sm CPU and %s MiB of memory" % (ms["cpu_millicores"], ms["memory_mib"])
        if ms["storage_gib"]:
            text += " and %s GiB of disk" % ms["storage_gib"]
        return text

    def filters(self, ms, region=None):
        """REB offer filters (reb_offer_info / reb_reservation offer_filters) for a node that meets `ms`."""
        f = {}
        if ms["device"]:
            f["device"] = ms["device"]
            region = self.endpoints[ms["device"]]["region"]  # the device decides where the node is
        region = ms["regionrequired"] or region
        if region:
            f["region"] = region
        f["min_cpu_millicores"] = ms["cpu_millicores"]
        f["min_memory_mib"] = ms["memory_mib"]
        if ms["storage_gib"]:
            f["min_storage_gib"] = ms["storage_gib"]
        return f

    def owners(self):
        providers = sorted(set(h["provider"] for h in self.hosts if h["provider"]))
        if not self.hosts:
            return "no host was given"
        if not providers:
            return "none of the given hosts (%s) has it" % _names([h["name"] for h in self.hosts])
        return "%s %s none" % (_names(providers), "has" if len(providers) == 1 else "have")

    def wants(self, ms):
        """What the affinity of `ms` asks for, as words."""
        parts = []
        if ms["device"]:
            ep = self.endpoints[ms["device"]]
            what = "%s %s" % (ep["kind"] or "device", ep["name"])
            parts.append("the region of %s (a host with %s%s)" % (
                ep["name"], what, " in region %s" % ep["region"] if ep["region"] else ""))
        if ms["regionrequired"]:
            parts.append("region %s" % ms["regionrequired"])
        if ms["tier"] is not None:
            parts.append("tier %d" % ms["tier"])
        return _names(parts)

    def unmet_affinity(self, ms):
        """No host meets the affinities of `ms` (or no host at all): which one fails, alone, if any does."""
        kind = self.kind(ms)
        failing = [name for name, alone in (
            (DEVICE, ms["device"] and dict(ms, regionrequired=None, tier=None)),
            (REGION, ms["regionrequired"] and dict(ms, device=None, tier=None)),
            (TIER, ms["tier"] is not None and dict(ms, device=None, regionrequired=None)))
            if alone and not any(self.affine(alone, h) for h in self.hosts)]
        kind = failing[0] if failing else AFFINITY if kind != ANY else CAPACITY
        if kind == CAPACITY:
            reason = "%s has no host to run on: %s; add hosts or rent a node with %s." % (
                ms["name"], self.owners(), self.needs(ms))
        elif kind == AFFINITY:
            reason = "%s needs %s together, which no given host offers. Rent a node that does, e.g. an REB offer " \
                     "with %s." % (ms["name"], self.wants(ms), _filter_words(self.filters(ms)))
        else:
            reason = "%s needs %s; %s. Rent a node that has it, e.g. an REB offer with %s." % (
                ms["name"], self.wants(ms), self.owners(), _filter_words(self.filters(ms)))
        return dict(microservice=ms["name"], requirement=kind, reason=reason, offer_filters=self.filters(ms))

    def unmet_capacity(self, ms, affine):
        best = max(affine, key=lambda h: (self.free[h["name"]]["cpu_millicores"],
                                          self.free[h["name"]]["memory_mib"], h["name"]))
        free = self.free[best["name"]]
        space = "%sm CPU and %s MiB" % (free["cpu_millicores"], free["memory_mib"])
        if free["storage_gib"] is not None and ms["storage_gib"]:
            space += " and %s GiB of disk" % free["storage_gib"]
        scope = ("the hosts that meet %s" % self.wants(ms)) if self.kind(ms) != ANY else "the given hosts"
        reason = ("%s needs %s, but %s are full: the roomiest, %s, has %s free. Free capacity there or rent "
                  "a bigger node." % (ms["name"], self.needs(ms), scope, best["name"], space))
        return dict(microservice=ms["name"], requirement=CAPACITY, reason=reason, offer_filters=self.filters(ms))

    def unmet_network(self, ms, roomy):
        peer, peer_region, kind, sentence = self.network_problem(ms, roomy[0])
        filters = self.filters(ms, region=peer_region)
        if kind == "latency":
            reason = "%s is too far from %s: %s. Add a faster link, or rent a node with %s." % (
                ms["name"], peer, sentence, _filter_words(filters))
        else:
            reason = "%s cannot reach %s with enough bandwidth: %s. Add bandwidth, or rent a node with %s." % (
                ms["name"], peer, sentence, _filter_words(filters))
        return dict(microservice=ms["name"], requirement=NETWORK, reason=reason, offer_filters=filters)
