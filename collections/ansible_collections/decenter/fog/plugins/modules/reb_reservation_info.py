#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_reservation_info
short_description: List REB reservations, with their offers, time left and cost so far
description:
  - Selects reservations by the shared market index (built from the REB's events, see
    M(decenter.fog.reb_offer_info)), then reads only the selected records from the REB, by id, in bounded
    pages; returns those matching every filter. Nothing scans the whole history.
  - O(buyer=self) or O(seller=self) select the reservations of the account of O(private_key).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  reservation_id:
    description: Only this reservation.
    type: int
  offer_id:
    description: Only reservations of this offer.
    type: int
  buyer:
    description: Only reservations of this buyer address (C(self) for the signing account).
    type: str
  seller:
    description: Only reservations of offers of this seller address (C(self) for the signing account).
    type: str
  state:
    description: Only reservations in these states.
    type: list
    elements: str
    choices: [requested, accepted, rejected, cancelled, expired, released, settled]
    default: []
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.info_attributes
'''

EXAMPLES = r'''
- name: My live reservations as a buyer
  decenter.fog.reb_reservation_info:
    buyer: self
    state: [requested, accepted]
  register: mine
'''

RETURN = r'''
reservations:
  description:
    - Matching reservations, oldest first, each with its C(offer), C(time_left) and C(cost_so_far).
    - C(time_left) - seconds of the rental left (accepted), or of the seller's answer window (requested); 0 once ended.
    - C(cost_so_far) - wei the buyer has spent - pro rata of the time used while accepted (what a release would pay
      the seller now), what the seller was paid once released or settled, 0 otherwise.
    - C(reject_reason) - the seller's reason when it rejected the request.
  returned: always
  type: list
  elements: dict
owed:
  description: Wei the signing account may withdraw now (when a key is given).
  returned: when private_key is set
  type: int
'''

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import rental_account
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module


def run(params, check_mode):
    client = get_client(params)
    buyer, seller = (_who(client, params[k], k) for k in ("buyer", "seller"))
    if params["reservation_id"]:
        reservations = [client.reservation(params["reservation_id"])]
    else:  # select by the market index's events first, then read only those records
        index = client.market()
        reservations = client.reservations([
            i for i, r in index.reservations.items()
            if (not params["offer_id"] or r["offer_id"] == params["offer_id"])
            and (not buyer or r["buyer"].lower() == buyer)
            and (not seller or index.offers[r["offer_id"]]["seller"].lower() == seller)
            and (not params["state"] or r["state"] in params["state"])])
    offers = dict((i, client.offer(i)) for i in set(r["offer_id"] for r in reservations))
    now = client.now()
    selected = []
    for r in reservations:
        offer = offers[r["offer_id"]]
        if (params["offer_id"] and r["offer_id"] != params["offer_id"]
                or buyer and r["buyer"].lower() != buyer
                or seller and offer["seller"].lower() != seller
                or params["state"] and r["state"] not in params["state"]):
            continue
        selected.append(enrich(r, offer, now))
    result = dict(changed=False, reservations=selected)
    if client.account:
        result["owed"] = client.owed(client.address)
    return result


def enrich(reservation, offer, now):
    """Adds the offer, seconds left and wei used so far (what release would pay the seller now)."""
    time_left, cost_so_far = rental_account(reservation, now)
    return dict(reservation, offer=offer, time_left=time_left, cost_so_far=cost_so_far)


def _who(client, value, name):
    if not value:
        return None
    if value == "self":
        if client.account is None:
            raise RebError("%s=self needs private_key (or DECENTER_REB_PRIVATE_KEY) to know who you are." % name)
        return client.address.lower()
    return value.lower()


SPEC = dict(
    argument_spec=chain_argument_spec(
        reservation_id=dict(type="int"),
        offer_id=dict(type="int"),
        buyer=dict(type="str"),
        seller=dict(type="str"),
        state=dict(type="list", elements="str", default=[],
                   choices=["requested", "accepted", "rejected", "cancelled", "expired", "released", "settled"]),
    ),
    run=run,
)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
