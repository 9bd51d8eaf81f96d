#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: zerotier_network
short_description: Join or leave a ZeroTier network on a node, through the local zerotier-one service
description:
  - Runs on the node. Talks to the zerotier-one service through its local JSON API (C(http://127.0.0.1:9993),
    header C(X-ZT1-Auth) with the service's own C(authtoken.secret)), so the token never leaves the node.
  - Waits (bounded by O(wait_timeout)) until the service answers with its node id, returned as RV(node_id) -
    the member id to authorize with M(decenter.fog.zerotier_member).
  - O(state=present) joins the network (C(POST /network/{nwid})) unless the node already has. With O(wait),
    it then waits until the node reports the network C(OK) with every address of O(addresses) assigned, and
    fails with the reason the node gives (for example C(ACCESS_DENIED) - not authorized yet) when that does
    not happen within O(wait_timeout).
  - O(state=absent) leaves the network (C(DELETE /network/{nwid})) if the node is on it.
  - Authorization and IP assignment happen on the network's controller, not here; see
    M(decenter.fog.zerotier_member).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  network_id:
    description: The network's 16-digit hexadecimal id.
    type: str
    required: true
  state:
    description: C(present) joins the network, C(absent) leaves it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - With O(state=present), wait until the network is C(OK) on the node with every address of O(addresses).
      - Not done in check mode.
    type: bool
    default: false
  addresses:
    description:
      - IP addresses (without prefix length) the node must have on the network before O(wait) is satisfied,
        usually the ones given to M(decenter.fog.zerotier_member) O(decenter.fog.zerotier_member#module:ip_assignments).
    type: list
    elements: str
    default: []
  wait_timeout:
    description:
      - Seconds to wait for the service to answer with its node id (it may be starting), and with O(wait) for
        the network to become ready.
    type: int
    default: 60
  api_url:
    description: URL of the local zerotier-one service API.
    type: str
    default: http://127.0.0.1:9993
  api_token:
    description:
      - Token of the local service. Normally left unset; the token is read from O(authtoken_file) on the node.
      - If not set, the environment variable E(ZEROTIER_LOCAL_API_TOKEN) is used.
    type: str
  authtoken_file:
    description: The service's token file, written by zerotier-one at its first start; read when O(api_token) is not set.
    type: path
    default: /var/lib/zerotier-one/authtoken.secret
  timeout:
    description: Seconds to wait for each answer of the service.
    type: float
    default: 10
attributes:
  check_mode:
    description: Reads the node's state and reports whether it would join or leave, without doing it.
    support: full
  diff_mode:
    description: Returns whether the node was on the network before and after.
    support: full
  idempotent:
    description: A rerun with the same arguments changes nothing.
    support: full
notes:
  - Tested against an HTTP stand-in that speaks the documented zerotier-one local service API; no zerotier-one
    runs in this project's CI.
seealso:
  - module: decenter.fog.zerotier_member
  - name: zerotier-one service API
    description: The local JSON API of zerotier-one.
    link: https://docs.zerotier.com/api/service/v1
'''

EXAMPLES = r'''
- name: Join provider A's network and learn the node id
  decenter.fog.zerotier_network:
    network_id: 8056c2e21c000001
  register: zerotier_join

- name: Authorize the node with its overlay IP
  decenter.fog.zerotier_member:
    network_id: 8056c2e21c000001
    node_id: "{{ zerotier_join.node_id }}"
    ip_assignments: [10.147.17.21]
  delegate_to: localhost

- name: Wait until the node is on the network with its address
  decenter.fog.zerotier_network:
    network_id: 8056c2e21c000001
    wait: true
    addresses: [10.147.17.21]
    wait_timeout: 120

- name: Leave the network
  decenter.fog.zerotier_network:
    network_id: 8056c2e21c000001
    state: absent
'''

RETURN = r'''
node_id:
  description: The node's 10-digit ZeroTier address, its member id on every network.
  returned: always
  type: str
  sample: a1b2c3d4e5
joined:
  description: Whether the node is on the network after the task (as it would be, in check mode).
  returned: always
  type: bool
  sample: true
network:
  description: The network as the node reports it; C(null) when it is not on it (or only would be, in check mode).
  returned: always
  type: dict
  sample:
    id: 8056c2e21c000001
    name: provider-a
    status: OK
    assigned_addresses: [10.147.17.21/24]
    port_device_name: ztabcdef12
'''

import ipaddress
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import run_as_module
from ansible_collections.decenter.fog.plugins.module_utils.zerotier_api import (
    LOCAL_URL, LocalService, ZeroTierError, check_network_id, read_token_file)

POLL = 1.0  # seconds between two looks at the service

# What a node's network status means, and what to do about it.
STATUS_HINTS = {
    "REQUESTING_CONFIGURATION": "it has no answer from the network's controller yet: check that the controller "
                                "(node %(controller)s) is running and reachable from this node",
    "ACCESS_DENIED": "the controller refuses it: authorize member %(node)s on network %(nwid)s "
                     "(decenter.fog.zerotier_member)",
    "NOT_FOUND": "its controller says network %(nwid)s does not exist: check network_id",
    "PORT_ERROR": "zerotier-one could not create the virtual network port: check /dev/net/tun and the "
                  "service's permissions",
    "CLIENT_TOO_OLD": "the controller needs a newer zerotier-one: upgrade the zerotier-one package",
    "AUTHENTICATION_REQUIRED": "the network requires SSO authentication, which this module cannot do",
}


def view(raw):
    """The parts of the service's network object the module reports."""
    if not raw:
        return None
    return dict(id=raw.get("id") or raw.get("nwid"), name=raw.get("name") or "", status=raw.get("status"),
                assigned_addresses=list(raw.get("assignedAddresses") or []),
                port_device_name=raw.get("portDeviceName") or "")


def canonical(values):
    out = []
    for value in values:
        try:
            out.append(to_text(ipaddress.ip_address(to_text(value).strip())))
        except ValueError:
            raise ZeroTierError("addresses entry %r is not an IP address: give it without a prefix length "
                                "(for example 10.147.17.21)." % to_text(value))
    return sorted(set(out))


def missing_addresses(net, wanted):
    have = set(to_text(a).split("/")[0] for a in (net or {}).get("assigned_addresses", []))
    return [a for a in wanted if a not in have]


def local_service(params, deadline):
    """The service client once the token is readable and /status answers; bounded by the deadline."""
    while True:
        try:
            token = params["api_token"] or read_token_file(params["authtoken_file"])
            service = LocalService(params["api_url"], token, params["timeout"])
            return service, service.status()
        except ZeroTierError as exc:
            # A starting service refuses connections and may not have written its token yet; a rejected
            # token (HTTP 401/403) will not get better by waiting.
            if exc.status is not None or time.time() >= deadline:
                raise ZeroTierError("%s (waited up to %d s for zerotier-one)" % (exc.msg, params["wait_timeout"]),
                                    status=exc.status)
        time.sleep(POLL)


def wait_ready(service, params, node_id, deadline):
    """Poll the node's view of the network until OK with the addresses, or fail with the node's reason."""
    nwid = params["network_id"]
    while True:
        net = view(service.network(nwid))
        if net and net["status"] == "OK" and not missing_addresses(net, params["addresses"]):
            return net
        if time.time() >= deadline:
            break
        time.sleep(POLL)
    if net is None:
        raise ZeroTierError("node %s left network %s while waiting for it: something else manages its networks."
                            % (node_id, nwid))
    hint = STATUS_HINTS.get(net["status"], "see `zerotier-cli listnetworks` on the node")
    if net["status"] == "OK":
        hint = ("the controller has not assigned %s to it: check the member's ip_assignments and that each "
                "address lies inside a managed route of the network" % ", ".join(missing_addresses(net, params["addresses"])))
    raise ZeroTierError("node %s is not ready on network %s after %d s: status %s, addresses %s; %s."
                        % (node_id, nwid, params["wait_timeout"], net["status"],
                           net["assigned_addresses"] or "none", hint % dict(node=node_id, nwid=nwid,
                                                                            controller=nwid[:10])))


def resolved(params):
    """The task's parameters with network_id and addresses in canonical form (the given ones are left as they are)."""
    p = dict(params)
    p["network_id"] = check_network_id(p["network_id"])
    p["addresses"] = canonical(p["addresses"])
    return p


def run(params, check_mode):
    p = resolved(params)
    deadline = time.time() + max(p["wait_timeout"], 0)
    service, status = local_service(p, deadline)
    node_id = to_text(status["address"])
    before = view(service.network(p["network_id"]))
    want_joined = p["state"] == "present"
    changed = (before is not None) != want_joined
    result = dict(changed=changed, node_id=node_id, joined=want_joined, network=before if want_joined else None,
                  diff=dict(before=dict(joined=before is not None), after=dict(joined=want_joined)))
    if check_mode:
        return result
    if changed and want_joined:
        result["network"] = view(service.join(p["network_id"]))
    elif changed:
        service.leave(p["network_id"])
    if want_joined and p["wait"]:
        deadline = time.time() + max(p["wait_timeout"], 0)  # a fresh bound for the network itself
        result["network"] = wait_ready(service, p, node_id, deadline)
    return result


SPEC = dict(
    argument_spec=dict(
        network_id=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=False),
        addresses=dict(type="list", elements="str", default=[]),
        wait_timeout=dict(type="int", default=60),
        api_url=dict(type="str", default=LOCAL_URL),
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["ZEROTIER_LOCAL_API_TOKEN"])),
        authtoken_file=dict(type="path", default="/var/lib/zerotier-one/authtoken.secret"),
        timeout=dict(type="float", default=10.0),
    ),
    run=run,
)


def main():
    run_as_module(SPEC, errors=(ZeroTierError,))


if __name__ == "__main__":
    main()
