# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: fog_host
short_description: A host's FogAtlas description for decenter.fog.fog_placement, from its fog_* variables
description:
  - Maps the host variables C(inventory_hostname), C(fog_region), C(fog_tier), C(fog_provider),
    C(fog_cpu_millicores), C(fog_memory_mib), C(fog_storage_gib), C(fog_devices) and C(fog_location)
    to the O(decenter.fog.fog_placement#module:hosts) entry of that host.
  - For a node rented through the REB (C(reb_offer) set by the P(decenter.fog.reb#inventory) inventory), what
    those variables leave out comes from its offer; its provider is then its seller's address.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
positional: _input
options:
  _input:
    description: The host's variables (for example C(hostvars[host])).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Place on provider A's hosts
  decenter.fog.fog_placement:
    app: "{{ app }}"
    hosts: "{{ groups['provider_a'] | map('extract', hostvars) | map('decenter.fog.fog_host') }}"
'''

RETURN = r'''
_value:
  description: C({name, region, tier, provider, cpu_millicores, memory_mib, storage_gib, devices, location}).
  type: dict
'''

from ansible.errors import AnsibleFilterError
from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import REQUIRED_FIELDS, host_from_hostvars


def fog_host(hostvars):
    name = hostvars.get("inventory_hostname")
    host = host_from_hostvars(name, hostvars)
    missing = [f for f in REQUIRED_FIELDS if host.get(f) is None]
    if missing:
        raise AnsibleFilterError("fog_host: host %s lacks %s; set them in its host_vars."
                                 % (name, ", ".join("fog_" + f for f in missing)))
    return host


class FilterModule(object):
    def filters(self):
        return {"fog_host": fog_host}
