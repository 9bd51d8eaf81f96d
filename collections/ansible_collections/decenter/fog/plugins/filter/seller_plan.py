# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: seller_plan
short_description: The Resource Seller's answers to its reservations, from its sale policy
description:
  - Takes the seller's reservations (the C(reservations) of M(decenter.fog.reb_reservation_info) with C(seller=self))
    and returns what to do now - accept (and on which inventory host), reject (with the reason), expire (a request
    too late to accept - the buyer is refunded), settle (a rental whose time is up) - and the reservation ids whose
    buyer keys each host may keep.
  - A request is rejected when its node is not in the seller's inventory, its buyer is in C(refused_buyers) or not in
    a non-empty C(allowed_buyers), its hours are outside C(min_hours)..C(max_hours), it pays less than
    C(min_price_per_hour), or its node already serves C(max_rentals_per_node) rentals.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
positional: _input, policy, hosts, now
options:
  _input:
    description: The seller's reservations, each with its C(offer).
    type: list
    elements: dict
    required: true
  policy:
    description:
      - The sale policy, C({allowed_buyers, refused_buyers, min_hours, max_hours, min_price_per_hour,
        max_rentals_per_node}); missing or empty fields do not restrict.
    type: dict
    required: true
  hosts:
    description: Node id (as offered on the REB) to the seller's inventory host.
    type: dict
    required: true
  now:
    description: Unix time (seconds).
    type: int
    required: true
'''

EXAMPLES = r'''
- name: Plan the answers
  ansible.builtin.set_fact:
    plan: "{{ mine.reservations | decenter.fog.seller_plan(fog_sale_policy, {'seoul-keti': 'seoul-keti'}, now(utc=true).timestamp() | int) }}"
'''

RETURN = r'''
_value:
  description: C({accept, reject, expire, settle, live}); C(live) maps each host to the reservation ids it serves.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.decenter.fog.plugins.module_utils.fog_sale_policy import PolicyError
from ansible_collections.decenter.fog.plugins.module_utils.fog_sale_policy import seller_plan as plan


def seller_plan(reservations, policy, hosts, now):
    try:
        return plan(reservations, policy, hosts, int(now))
    except PolicyError as e:
        raise AnsibleFilterError("seller_plan: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"seller_plan": seller_plan}
