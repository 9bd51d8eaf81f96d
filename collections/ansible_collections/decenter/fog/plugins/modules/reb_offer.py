#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_offer
short_description: Publish, update or withdraw a node offer on the REB
description:
  - A seller offers one whole node (FogAtlas DynamicNode fields) for rent by the hour.
  - The offer is found by the seller's account and O(node_id). A rerun with the same data changes
    nothing; changed data updates the offer in place; O(state=absent) withdraws it.
  - An offer cannot change while a reservation holds it; the task then fails and says so.
  - O(state=absent) also withdraws an offer with a request waiting for an answer, in one transaction that
    rejects the request and refunds its buyer in full, so nobody can keep a node listed by reserving it
    again between a reject and a withdrawal. An accepted rental must end (release or settle) first.
  - The offer's terms are stored on chain as a hash (C(terms_hash)); the descriptive fields travel in the
    REB's events and are read back through the shared market index. Strings are capped by the REB
    (node id, region, location, architecture 64 bytes; devices 256 bytes).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  node_id:
    description: Node name, unique among the seller's live offers.
    type: str
    required: true
  state:
    description: C(present) publishes or updates, C(absent) withdraws.
    type: str
    choices: [present, absent]
    default: present
  region:
    description: FogAtlas region id of the node, e.g. C(SEOUL-KETI). Required when O(state=present).
    type: str
  tier:
    description: FogAtlas tier of the region (0 cloud, higher numbers closer to the edge).
    type: int
    default: 0
  location:
    description: C(lat,lon) in decimal degrees; used to prefer the nearest of equally priced offers.
    type: str
    default: ""
  cpu_millicores:
    description: CPU offered, in millicores (2 CPUs = 2000). Required when O(state=present).
    type: int
  memory_mib:
    description: Memory offered in MiB. Required when O(state=present).
    type: int
  storage_gib:
    description: Disk offered in GiB.
    type: int
    default: 0
  architecture:
    description: CPU architecture as Kubernetes names it.
    type: str
    default: amd64
  devices:
    description: Devices attached to the node as C(<id>:<kind>), e.g. C(camkor1:camera).
    type: list
    elements: str
    default: []
  price_per_hour:
    description: Price per hour in wei. Required when O(state=present).
    type: int
  min_hours:
    description: Shortest booking accepted.
    type: int
    default: 1
  max_hours:
    description: Longest booking accepted.
    type: int
    default: 720
  available_from:
    description: Unix time from which the node may be booked.
    type: int
    default: 0
  available_until:
    description: Unix time by which every booking must end. The default means no end.
    type: int
    default: 1099511627775
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.attributes
'''

EXAMPLES = r'''
- name: Offer SEOUL-KETI with its camera
  decenter.fog.reb_offer:
    node_id: seoul-keti
    region: SEOUL-KETI
    tier: 1
    location: "37.5665,126.9780"
    cpu_millicores: 2000
    memory_mib: 2048
    storage_gib: 10
    devices: ["camkor1:camera"]
    price_per_hour: 1000000000000000

- name: Withdraw it
  decenter.fog.reb_offer:
    node_id: seoul-keti
    state: absent
'''

RETURN = r'''
offer:
  description: The offer as stored after the task (empty when withdrawn or never published).
  returned: always
  type: dict
  sample: {id: 1, node_id: seoul-keti, region: SEOUL-KETI, state: open, price_per_hour: 1000000000000000,
           devices: [{id: camkor1, kind: camera}]}
rejected_reservation:
  description: Id of the waiting request that the withdrawal rejected (its buyer refunded in full).
  returned: when O(state=absent) withdrew an offer with a waiting request
  type: int
changed_fields:
  description: Fields an update changed.
  returned: when an existing offer was updated
  type: list
  elements: str
transaction_hash:
  description: Hash of the transaction sent (0x-prefixed).
  returned: when a transaction was sent
  type: str
'''

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client, tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import (
    AVAILABLE_FOREVER, offer_differences, offer_spec)
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module


def run(params, check_mode):
    if not params["node_id"].strip():
        raise RebError("node_id must not be empty.")
    client = get_client(params, need_key=True)
    offer_id = client.offer_id_of(client.address, params["node_id"])
    current = client.offer(offer_id) if offer_id else None
    if params["state"] == "absent":
        return _absent(client, current, check_mode)
    spec = offer_spec(params)
    if current is None:
        if client.provider_name(client.address) is None:
            raise RebError("account %s is not a registered provider: register it first with "
                           "decenter.fog.reb_provider." % client.address)
        result = dict(changed=True, diff=dict(before={}, after=_spec_view(spec)), offer={})
        receipt = client.transact("publishOffer", spec, check_mode=check_mode)
        if receipt:
            result["offer"] = client.offer(client.event_args(receipt, "OfferPublished")["offerId"])
            result["transaction_hash"] = tx_hash(receipt)
        return result
    changed_fields, wanted = offer_differences(current, spec)
    result = dict(changed=bool(changed_fields), offer=current, changed_fields=changed_fields,
                  diff=dict(before=dict((k, current[k]) for k in changed_fields),
                            after=dict((k, wanted[k]) for k in changed_fields)))
    if changed_fields and current["state"] != "open":
        raise RebError("offer %d (%s) is %s: it cannot be updated until its reservation ends (fields that would "
                       "change: %s)." % (offer_id, params["node_id"], current["state"], ", ".join(changed_fields)))
    receipt = client.transact("updateOffer", offer_id, spec, check_mode=check_mode) if changed_fields else None
    if receipt:
        result["offer"] = client.offer(offer_id)
        result["transaction_hash"] = tx_hash(receipt)
    return result


def _absent(client, current, check_mode):
    if current is None:
        return dict(changed=False, offer={})
    result = dict(changed=True, offer={}, diff=dict(before=current, after={}))
    if current["state"] == "reserved":
        held = client.reservation(current["active_reservation"])
        if held["state"] != "requested":
            raise RebError("offer %d (%s) is rented (reservation %d is %s): it can be withdrawn when that rental "
                           "ends (released or settled)."
                           % (current["id"], current["node_id"], held["id"], held["state"]))
        result["rejected_reservation"] = held["id"]  # withdrawOffer rejects it and refunds its buyer
    receipt = client.transact("withdrawOffer", current["id"], check_mode=check_mode)
    if receipt:
        result["transaction_hash"] = tx_hash(receipt)
    return result


def _spec_view(spec):
    names = ("node_id", "region", "tier", "location", "cpu_millicores", "memory_mib", "storage_gib", "architecture",
             "devices", "price_per_hour", "min_hours", "max_hours", "available_from", "available_until")
    return dict(zip(names, spec))


SPEC = dict(
    argument_spec=chain_argument_spec(
        node_id=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        region=dict(type="str"),
        tier=dict(type="int", default=0),
        location=dict(type="str", default=""),
        cpu_millicores=dict(type="int"),
        memory_mib=dict(type="int"),
        storage_gib=dict(type="int", default=0),
        architecture=dict(type="str", default="amd64"),
        devices=dict(type="list", elements="str", default=[]),
        price_per_hour=dict(type="int"),
        min_hours=dict(type="int", default=1),
        max_hours=dict(type="int", default=720),
        available_from=dict(type="int", default=0),
        available_until=dict(type="int", default=AVAILABLE_FOREVER),
    ),
    required_if=[("state", "present", ("region", "cpu_millicores", "memory_mib", "price_per_hour"))],
    run=run,
)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
