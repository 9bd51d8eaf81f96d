# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The host model: what placement knows of a fog host, and the one device parser (pure Python, no Ansible import).

A host is ``{name, region, tier, provider, location, cpu_millicores, memory_mib, storage_gib, devices}``. An
inventory host says it with its ``fog_*`` variables; a rented node's REB offer says it too (the reb inventory
plugin's buyer view writes the offer's ``fog_*`` variables, and whatever the variables leave out comes from the
offer). Everything that builds a host dict goes through here: the ``fog_host`` filter, the Resource Selector GUI,
the inventory plugin and the tests. ``fog_placement_core.validate_hosts`` then checks and normalizes it.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The fog_* variables of a host, without their prefix.
HOST_FIELDS = ("region", "tier", "provider", "location", "cpu_millicores", "memory_mib", "storage_gib", "devices")
# What placement cannot do without.
REQUIRED_FIELDS = ("region", "tier", "cpu_millicores", "memory_mib")
# Written by the inventory plugin for a rented node: its provider is the buyer's to name (group_vars of
# reb_rented), so it is not among them; a host without one gets its seller's address (host_from_offer).
OFFER_VARS = ("region", "tier", "location", "cpu_millicores", "memory_mib", "storage_gib", "devices")
# Optional strings whose empty value means "unknown" (an offer's location is "" when its seller gave none).
_UNKNOWN_IF_EMPTY = ("provider", "location")


def parse_device(value):
    """{id, kind} of a device written ``camkor1:camera``, ``camkor1`` or ``{id: camkor1, kind: camera}``, both
    stripped, kind None when not given; None when the value names no device (no id, or neither text nor mapping)."""
    if isinstance(value, dict):
        dev_id, kind = value.get("id"), value.get("kind")
    elif isinstance(value, str):
        dev_id, _sep, kind = value.partition(":")
    else:
        return None
    if not isinstance(dev_id, str) or not dev_id.strip() or (kind is not None and not isinstance(kind, str)):
        return None
    return dict(id=dev_id.strip(), kind=(kind or "").strip() or None)


def device_text(device):
    """``camkor1:camera`` (``camkor1`` without a kind) from a device dict: how host_vars and the REB write it."""
    return "%s:%s" % (device["id"], device["kind"]) if device.get("kind") else device["id"]


def host_from_offer(name, offer):
    """A host dict of a node from its REB offer (reb_offer_info's shape); its provider is its seller."""
    host = dict(name=name, provider=offer.get("seller"))
    host.update((f, offer.get(f)) for f in OFFER_VARS)
    return _known(host)


def offer_hostvars(offer):
    """The fog_* variables of a rented node, from its REB offer (the reb inventory plugin's buyer view)."""
    hostvars = dict(("fog_" + f, offer.get(f)) for f in OFFER_VARS)
    hostvars["fog_devices"] = [device_text(d) for d in offer.get("devices") or []]
    return hostvars


def host_from_hostvars(name, hostvars):
    """A host dict from an inventory host's fog_* variables; for a rented node (reb_offer set) what they leave
    out comes from its offer. Fields nobody gave are left out: validate_hosts says which a host needs."""
    offer = hostvars.get("reb_offer")
    host = host_from_offer(name, offer) if offer else dict(name=name)
    host.update(_known(dict((f, hostvars.get("fog_" + f)) for f in HOST_FIELDS)))
    return host


def _known(host):
    return dict((k, v) for k, v in host.items()
                if v is not None and not (k in _UNKNOWN_IF_EMPTY and v == ""))
