#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: zerotier_member
short_description: Authorize a node on a ZeroTier network and assign its overlay IPs (Central or a self-hosted controller)
description:
  - "Makes a node (a member, named by its 10-digit node id) of a ZeroTier network authorized or not, with the
    managed IP addresses given, through the API of the network's controller - ZeroTier Central
    (O(api_flavor=central), C(Authorization: token ...)) or a self-hosted controller (O(api_flavor=controller),
    C(X-ZT1-Auth), C(/controller/network/{nwid}/member/{node}))."
  - The member may be authorized before the node joins; the node receives its addresses when it asks its
    controller for the network's configuration.
  - Reads the member first and sends nothing when it already is as wanted. In check mode nothing is sent.
  - O(state=absent) deletes the member on Central. A self-hosted controller keeps the member record,
    deauthorized and without addresses (its addresses become free), because a node that still asks for the
    network would re-create it anyway.
  - "Run it where the API is reachable - usually on the Ansible controller (C(delegate_to: localhost)) for
    Central, and on the controller host (with O(api_url=http://127.0.0.1:9993)) for a self-hosted controller,
    whose API listens on loopback."
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  network_id:
    description: The network's 16-digit hexadecimal id.
    type: str
    required: true
  node_id:
    description: The member's 10-digit hexadecimal ZeroTier address (the node id, C(address) in the node's C(/status)).
    type: str
    required: true
  state:
    description:
      - C(present) creates or updates the member as given.
      - C(absent) deletes it (Central) or deauthorizes it and removes its addresses (self-hosted controller).
    type: str
    choices: [present, absent]
    default: present
  authorized:
    description: Whether the member may use the (private) network. Used with O(state=present).
    type: bool
    default: true
  ip_assignments:
    description:
      - The member's managed IP addresses (without prefix length), compared as a set. Omit to leave them as they
        are; an empty list removes them.
      - A controller sends only addresses inside one of the network's managed routes to the node.
    type: list
    elements: str
  name:
    description: Short name of the member. ZeroTier Central only; a self-hosted controller has no member names.
    type: str
  description:
    description: Description of the member. ZeroTier Central only.
    type: str
  api_flavor:
    description:
      - C(central) for ZeroTier Central (API v1), C(controller) for a self-hosted controller (zerotier-one's
        C(/controller) API).
      - If not set, the environment variable E(ZEROTIER_API_FLAVOR) is used.
    type: str
    choices: [central, controller]
    default: central
  api_url:
    description:
      - Base URL of the API. Defaults to C(https://api.zerotier.com/api/v1) for Central and
        C(http://127.0.0.1:9993) for a self-hosted controller.
      - If not set, the environment variable E(ZEROTIER_API_URL) is used.
    type: str
  api_token:
    description:
      - A Central API access token, or the self-hosted controller's C(authtoken.secret). Keep it in Ansible Vault
        or the environment; it is never logged or returned.
      - If not set, the environment variable E(ZEROTIER_API_TOKEN) is used.
    type: str
  validate_certs:
    description: Verify the TLS certificate of an https API.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer of the API.
    type: float
    default: 10
attributes:
  check_mode:
    description: Reads the member and reports what would change without sending a change.
    support: full
  diff_mode:
    description: Returns the member before and after (authorized, addresses, name, description).
    support: full
  idempotent:
    description: A rerun with the same arguments sends nothing and reports no change.
    support: full
notes:
  - Tested against an HTTP stand-in that speaks the documented Central and controller APIs; no ZeroTier
    controller runs in this project's CI.
seealso:
  - module: decenter.fog.zerotier_network
  - name: ZeroTier Central API
    description: Reference of the Central v1 API.
    link: https://docs.zerotier.com/api/central/v1
  - name: Self-hosted controller API
    description: The /controller API of zerotier-one.
    link: https://docs.zerotier.com/controller
'''

EXAMPLES = r'''
- name: Authorize the rented node on provider A's Central network with its overlay IP
  decenter.fog.zerotier_member:
    network_id: 8056c2e21c000001
    node_id: "{{ zerotier_node_id }}"
    ip_assignments: [10.147.17.21]
    name: "{{ inventory_hostname }}"
    api_token: "{{ vault_zerotier_central_token }}"
  delegate_to: localhost

- name: The same on a self-hosted controller, run on the controller host
  decenter.fog.zerotier_member:
    api_flavor: controller
    api_url: http://127.0.0.1:9993
    network_id: 1c33c1ced0000001
    node_id: a1b2c3d4e5
    ip_assignments: [10.147.17.21]
    api_token: "{{ vault_zerotier_controller_token }}"
  delegate_to: zt-controller

- name: Release - deauthorize (and on Central delete) the member
  decenter.fog.zerotier_member:
    network_id: 8056c2e21c000001
    node_id: a1b2c3d4e5
    state: absent
  delegate_to: localhost
  environment:
    ZEROTIER_API_TOKEN: "{{ vault_zerotier_central_token }}"
'''

RETURN = r'''
member:
  description: The member after the task (as it would be, in check mode); C(null) once deleted.
  returned: always
  type: dict
  sample:
    network_id: 8056c2e21c000001
    node_id: a1b2c3d4e5
    authorized: true
    ip_assignments: [10.147.17.21]
    name: seoul-keti
    description: ""
'''

import ipaddress

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import run_as_module
from ansible_collections.decenter.fog.plugins.module_utils.zerotier_api import (
    CONTROLLER_ARGUMENT_SPEC, ControllerApi, ZeroTierError, check_network_id, check_node_id)


def canonical_ips(values):
    """Sorted, canonical IP addresses; ZeroTierError naming the first one that is not an address."""
    out = set()
    for value in values:
        text = to_text(value).strip()
        try:
            out.add(to_text(ipaddress.ip_address(text)))
        except ValueError:
            raise ZeroTierError("ip_assignments entry %r is not an IP address: give the address alone, without a "
                                "prefix length (for example 10.147.17.21)." % text)
    return sorted(out)


def wanted(params, flavor, current):
    """The member as the task wants it, starting from what it is now (None = absent)."""
    fresh = dict(network_id=params["network_id"], node_id=params["node_id"], authorized=False, ip_assignments=[],
                 name="" if flavor == "central" else None, description="" if flavor == "central" else None)
    base = dict(current) if current else fresh
    if params["state"] == "absent":
        if flavor == "central" or current is None:
            return None
        base.update(authorized=False, ip_assignments=[])
        return base
    base["authorized"] = params["authorized"]
    if params["ip_assignments"] is not None:
        base["ip_assignments"] = canonical_ips(params["ip_assignments"])
    for key in ("name", "description"):
        if params[key] is not None:
            base[key] = params[key]
    return base


def resolved(params):
    """The task's parameters with network_id and node_id in canonical form (the given ones are left as they are)."""
    p = dict(params)
    p["network_id"] = check_network_id(p["network_id"])
    p["node_id"] = check_node_id(p["node_id"])
    return p


def run(params, check_mode):
    p = resolved(params)
    flavor = p["api_flavor"]
    if flavor == "controller":
        given = [k for k in ("name", "description") if p[k] is not None]
        if given:
            raise ZeroTierError("%s: a self-hosted controller has no member %s (ZeroTier Central has): leave it "
                                "out with api_flavor=controller." % (", ".join(given), " or ".join(given)))
    api = ControllerApi(flavor, p["api_url"], p["api_token"], p["timeout"], p["validate_certs"])
    current = api.get_member(p["network_id"], p["node_id"])
    desired = wanted(p, flavor, current)
    result = dict(changed=current != desired, member=desired, diff=dict(before=current or {}, after=desired or {}))
    if not result["changed"] or check_mode:
        return result
    if desired is None:
        api.delete_member(p["network_id"], p["node_id"])
        return result
    after = api.set_member(p["network_id"], p["node_id"], authorized=desired["authorized"],
                           ip_assignments=desired["ip_assignments"], name=p["name"], description=p["description"])
    if after != desired:
        raise ZeroTierError("%s accepted the change of member %s on network %s but now reports %r instead of %r."
                            % (api.label, p["node_id"], p["network_id"], after, desired))
    result["member"] = after
    return result


ARGUMENT_SPEC = dict(
    network_id=dict(type="str", required=True),
    node_id=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    authorized=dict(type="bool", default=True),
    ip_assignments=dict(type="list", elements="str"),
    name=dict(type="str"),
    description=dict(type="str"),
)
ARGUMENT_SPEC.update(CONTROLLER_ARGUMENT_SPEC)
SPEC = dict(argument_spec=ARGUMENT_SPEC, run=run)


def main():
    run_as_module(SPEC, errors=(ZeroTierError,))


if __name__ == "__main__":
    main()
