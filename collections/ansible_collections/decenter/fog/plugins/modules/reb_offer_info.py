#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_offer_info
short_description: List and filter offers of the REB market
description:
  - Reads the market from the shared market index, which is built from the REB's events and kept on the
    controller's disk with its block cursor (C($DECENTER_REB_INDEX_DIR), default C(~/.cache/decenter-fog/reb-index));
    each run reads only the blocks mined since the last one, so a market of 100,000 offers costs a few
    JSON-RPC calls and no contract call at all.
  - Returns the offers matching all given filters, cheapest first (ties go to the offer nearest O(near)).
  - Every offer carries C(terms_hash), the hash of its terms that M(decenter.fog.reb_reservation) binds the
    reservation to, and C(seller_name), the name its seller registered. Names are not unique; trust sellers by
    address with O(sellers).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  hours:
    description: Only offers that can be booked now for this many hours.
    type: int
  near:
    description: C(lat,lon) of the buyer; among equal prices the nearest offer comes first.
    type: str
  limit:
    description: Return at most this many offers (0 for all).
    type: int
    default: 0
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.offer_filters
  - decenter.fog.reb.info_attributes
'''

EXAMPLES = r'''
- name: Offers in SEOUL-KETI with camera camkor1, cheapest first
  decenter.fog.reb_offer_info:
    region: SEOUL-KETI
    device: camkor1
    max_price_per_hour: 2000000000000000
  register: market

- name: The same, from trusted sellers only
  decenter.fog.reb_offer_info:
    region: SEOUL-KETI
    sellers: ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
  register: trusted_market
'''

RETURN = r'''
offers:
  description: Matching offers, best first.
  returned: always
  type: list
  elements: dict
  sample: [{id: 1, seller: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", seller_name: "Provider B (KETI)",
            node_id: seoul-keti, region: SEOUL-KETI,
            terms_hash: "0x5b0a6f3c5d1f8e2b7c4a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c",
            tier: 1, location: "37.5665,126.9780", cpu_millicores: 2000, memory_mib: 2048, storage_gib: 10,
            architecture: amd64, devices: [{id: camkor1, kind: camera}], price_per_hour: 1000000000000000,
            min_hours: 1, max_hours: 720, available_from: 0, available_until: 1099511627775, state: open,
            active_reservation: 0}]
total:
  description: Number of offers on the REB before filtering.
  returned: always
  type: int
'''

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_market import (
    OFFER_FILTERS, check_sellers, matcher, offer_matches, rank_offers)
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module


def run(params, check_mode):
    try:
        check_sellers(params["sellers"])
    except ValueError as e:
        raise RebError(str(e))
    client = get_client(params)
    now = client.now() if params["hours"] else None
    if params["offer_id"]:
        offers = [client.offer(params["offer_id"])]
        total = len(offers)
        matching = [o for o in offers if offer_matches(o, params, now)]
    else:
        index = client.market()
        total = len(index.offers)
        matching = index.select(matcher(params, now))
    matching = rank_offers(matching, params["near"])
    if params["limit"]:
        matching = matching[:params["limit"]]
    return dict(changed=False, offers=matching, total=total)


SPEC = dict(argument_spec=chain_argument_spec(near=dict(type="str"), limit=dict(type="int", default=0),
                                              **OFFER_FILTERS), run=run)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
