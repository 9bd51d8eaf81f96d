# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Filtering and ranking of offers and reservations (pure Python, shared by modules and inventory)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import math

from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import parse_location, location_string
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import contract_sentence

OFFER_FILTERS = dict(
    offer_id=dict(type="int"),
    node_id=dict(type="str"),
    region=dict(type="str"),
    device=dict(type="str"),
    device_kind=dict(type="str"),
    min_cpu_millicores=dict(type="int"),
    min_memory_mib=dict(type="int"),
    min_storage_gib=dict(type="int"),
    architecture=dict(type="str"),
    max_price_per_hour=dict(type="int"),
    seller=dict(type="str"),
    sellers=dict(type="list", elements="str"),
    state=dict(type="str", choices=["open", "reserved", "withdrawn", "any"], default="open"),
    hours=dict(type="int"),
)


def offer_matches(offer, f, now=None):
    """True if `offer` (dict) passes every filter set in `f` (unset filters are ignored)."""
    checks = (
        f.get("offer_id") is None or offer["id"] == f["offer_id"],
        not f.get("node_id") or offer["node_id"] == f["node_id"],
        not f.get("region") or offer["region"] == f["region"],
        not f.get("device") or any(d["id"] == f["device"] for d in offer["devices"]),
        not f.get("device_kind") or any(d["kind"] == f["device_kind"] for d in offer["devices"]),
        f.get("min_cpu_millicores") is None or offer["cpu_millicores"] >= f["min_cpu_millicores"],
        f.get("min_memory_mib") is None or offer["memory_mib"] >= f["min_memory_mib"],
        f.get("min_storage_gib") is None or offer["storage_gib"] >= f["min_storage_gib"],
        not f.get("architecture") or offer["architecture"] == f["architecture"],
        f.get("max_price_per_hour") is None or offer["price_per_hour"] <= f["max_price_per_hour"],
        not f.get("seller") or offer["seller"].lower() == f["seller"].lower(),
        not f.get("sellers") or offer["seller"].lower() in trusted_set(tuple(f["sellers"])),
        f.get("state", "open") in ("any", None) or offer["state"] == f.get("state", "open"),
        f.get("hours") is None or _bookable(offer, f["hours"], now),
    )
    return all(checks)


def matcher(f, now=None):
    """offer_matches(offer, f, now) as a function of the offer that checks only the filters set in `f`
    (what a scan of 100,000 offers wants). Agrees with offer_matches (tested)."""
    checks = []
    if f.get("offer_id") is not None:
        checks.append(lambda o, v=f["offer_id"]: o["id"] == v)
    for name, field in (("node_id", "node_id"), ("region", "region"), ("architecture", "architecture")):
        if f.get(name):
            checks.append(lambda o, v=f[name], k=field: o[k] == v)
    if f.get("device"):
        checks.append(lambda o, v=f["device"]: any(d["id"] == v for d in o["devices"]))
    if f.get("device_kind"):
        checks.append(lambda o, v=f["device_kind"]: any(d["kind"] == v for d in o["devices"]))
    for name, field in (("min_cpu_millicores", "cpu_millicores"), ("min_memory_mib", "memory_mib"),
                        ("min_storage_gib", "storage_gib")):
        if f.get(name) is not None:
            checks.append(lambda o, v=f[name], k=field: o[k] >= v)
    if f.get("max_price_per_hour") is not None:
        checks.append(lambda o, v=f["max_price_per_hour"]: o["price_per_hour"] <= v)
    if f.get("seller"):
        checks.append(lambda o, v=f["seller"].lower(): o["seller"].lower() == v)
    if f.get("sellers"):
        checks.append(lambda o, v=trusted_set(tuple(f["sellers"])): o["seller"].lower() in v)
    state = f.get("state", "open")
    if state not in ("any", None):
        checks.append(lambda o, v=state: o["state"] == v)
    if f.get("hours") is not None:
        checks.append(lambda o, v=f["hours"]: _bookable(o, v, now))
    return lambda offer: all(check(offer) for check in checks)


@functools.lru_cache(maxsize=16)
def trusted_set(sellers):
    """Lower-case addresses of a trusted-sellers list (names are not unique: only addresses identify sellers)."""
    return frozenset(str(s).strip().lower() for s in sellers)


def check_sellers(sellers):
    """A clear error for an entry of a trusted-sellers list that is not an address."""
    for seller in sellers or ():
        text = str(seller).strip()
        if len(text) != 42 or not text.startswith("0x") or not all(c in "0123456789abcdefABCDEF" for c in text[2:]):
            raise ValueError("sellers entry %r is not a seller address (0x followed by 40 hex digits): providers are "
                             "trusted by address, since names are not unique." % text[:60])


def _bookable(offer, hours, now):
    return _hours_refused(offer, hours, now) is None


def _hours_refused(offer, hours, now):
    """'hours' or 'availability' when the offer cannot be booked for `hours` (at `now`, when given), else None."""
    if not offer["min_hours"] <= hours <= offer["max_hours"]:
        return "hours"
    if now is not None and not (offer["available_from"] <= now and now + hours * 3600 <= offer["available_until"]):
        return "availability"
    return None


def refusal(offer, buyer, hours=None, now=None):
    """Why `buyer` cannot reserve `offer` (for `hours` at chain time `now`, when given), as (kind, sentence) in the
    REB's own words (the revert the transaction would meet), or None. kind: own, not_open, hours or availability.
    An offer reserved by the buyer itself is not_open too; callers that let a rerun finish it look first."""
    if buyer and offer["seller"].lower() == buyer.lower():
        return "own", contract_sentence("SelfDealing", offerId=offer["id"])
    if offer["state"] != "open":
        return "not_open", contract_sentence("OfferNotOpen", offerId=offer["id"], state=offer["state"])
    kind = _hours_refused(offer, hours, now) if hours is not None else None
    if kind == "hours":
        return "hours", "offer %d: %s" % (offer["id"], contract_sentence(
            "HoursOutOfRange", hoursBooked=hours, minHours=offer["min_hours"], maxHours=offer["max_hours"]))
    if kind == "availability":
        return "availability", contract_sentence("OutsideAvailability", offerId=offer["id"],
                                                 availableFrom=offer["available_from"],
                                                 availableUntil=offer["available_until"])
    return None


def distance_km(a, b):
    """Great-circle distance between two (lat, lon) pairs."""
    lat1, lon1, lat2, lon2 = (math.radians(x) for x in (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def rank_offers(offers, near=None):
    """Cheapest first; equal prices go to the nearest to `near` ('lat,lon'), then the oldest offer."""
    origin = parse_location(location_string(near)) if near else None

    def key(offer):
        where = parse_location(offer["location"])
        distance = distance_km(origin, where) if origin and where else float("inf")
        return (offer["price_per_hour"], distance, offer["id"])
    return sorted(offers, key=key)
