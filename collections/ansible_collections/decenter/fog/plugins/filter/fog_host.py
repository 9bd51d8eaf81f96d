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

FIELDS = ("region", "tier", "provider", "cpu_millicores", "memory_mib", "storage_gib", "devices", "location")
REQUIRED = ("region", "tier", "cpu_millicores", "memory_mib")


def fog_host(hostvars):
    name = hostvars.get("inventory_hostname")
    missing = [f for f in REQUIRED if hostvars.get("fog_" + f) is None]
    if missing:
        raise AnsibleFilterError("fog_host: host %s lacks %s; set them in its host_vars."
                                 % (name, ", ".join("fog_" + f for f in missing)))
    host = dict(name=name)
    host.update((f, hostvars["fog_" + f]) for f in FIELDS if hostvars.get("fog_" + f) is not None)
    return host


class FilterModule(object):
    def filters(self):
        return {"fog_host": fog_host}
