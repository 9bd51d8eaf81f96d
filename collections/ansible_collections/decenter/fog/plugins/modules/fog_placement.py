#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fog_placement
short_description: Place a FogAtlas-like application on fog hosts and list the requirements no host meets
description:
  - Reads an application descriptor (external endpoints with their regions, microservices with resources and
    C(device), C(regionrequired) or C(tier) affinity, data flows with bandwidth and latency; see
    C(apps/simple_ocr/app.yml)) and places every microservice on one of O(hosts).
  - Microservices are placed most constrained first (device, then region, then tier, then the rest), each on a
    host meeting all its affinities with enough free CPU, memory and disk, and whose region keeps every data flow
    within its latency (and the link's bandwidth) where O(links) name the pair of regions. Among suitable hosts
    the lowest tier wins (the cloud before the edge), then the host with the most free capacity, then the name.
    The result depends only on the input, never on the order of hosts or links.
  - Every microservice it cannot place is returned in RV(unmet) with a sentence saying why and the REB offer
    filters (for M(decenter.fog.reb_offer_info) or the O(decenter.fog.reb_reservation#module:offer_filters))
    that find a node meeting it, for instance a node with camera C(camkor1) in region C(SEOUL-KETI).
    Rerun with the rented node added to O(hosts) to place it there.
  - Reads nothing but its input and changes nothing. Invalid input fails with a message naming the problem.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  app:
    description:
      - The application descriptor as a dictionary, for example C(apps/simple_ocr/app.yml) read on the controller
        with the P(ansible.builtin.file#lookup) lookup and the P(ansible.builtin.from_yaml#filter) filter.
      - Exactly one of O(app) and O(app_file) is required.
    type: dict
  app_file:
    description:
      - "Path of the application descriptor (YAML or JSON) on the host the task runs on; use
        C(delegate_to: localhost) to read it from the controller."
    type: path
  hosts:
    description:
      - The hosts the application may use, usually the buyer's own hosts built from their C(fog_*) host
        variables, plus the nodes it rents.
      - Several hosts may share a region; capacity is per host.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Host name (the inventory host name).
        type: str
        required: true
      region:
        description: FogAtlas region id of the host (C(fog_region)).
        type: str
        required: true
      tier:
        description: FogAtlas tier of the region (C(fog_tier)), 0 for the cloud.
        type: int
        required: true
      provider:
        description: Provider owning the host (C(fog_provider)); named in the reasons of unmet requirements.
        type: str
      cpu_millicores:
        description: CPU capacity in millicores (C(fog_cpu_millicores)).
        type: int
        required: true
      memory_mib:
        description: Memory capacity in MiB (C(fog_memory_mib)).
        type: int
        required: true
      storage_gib:
        description: Disk capacity in GiB (C(fog_storage_gib)); when omitted, disk is not checked.
        type: int
      devices:
        description: Devices the host reaches (C(fog_devices)), as C(id:kind) strings or C({id, kind}).
        type: list
        elements: raw
        default: []
      location:
        description: C(lat,lon) of the host (C(fog_location)).
        type: str
      architecture:
        description: CPU architecture of the host.
        type: str
  links:
    description:
      - FogAtlas links between regions; symmetric. Data flows between two regions with a link must stay within
        its latency and, when given, the link's bandwidth (shared by every flow over it). Pairs of regions
        without a link, and hosts of the same region, are not checked.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: One region.
        type: str
        required: true
      destination:
        description: The other region.
        type: str
        required: true
      latency_ms:
        description: Latency between the two regions in milliseconds.
        type: float
        required: true
      bandwidth_kbps:
        description: Bandwidth of the link in kbit/s.
        type: float
  require_feasible:
    description:
      - When true, any unmet requirement fails the task with the reasons (the results are still returned).
    type: bool
    default: false
extends_documentation_fragment:
  - decenter.fog.reb.info_attributes
notes:
  - The placement is greedy (most constrained first) and does not backtrack.
'''

EXAMPLES = r'''
- name: Which requirements of simple_ocr can provider A's own hosts not meet?
  decenter.fog.fog_placement:
    app: "{{ lookup('ansible.builtin.file', playbook_dir ~ '/../apps/simple_ocr/app.yml') | from_yaml }}"
    hosts: "{{ fog_own_hosts }}"
    links:
      - {source: CLOUD, destination: POVO, latency_ms: 5}
      - {source: CLOUD, destination: SEOUL-KETI, latency_ms: 250}
  register: fog_plan
  vars:
    # One host dict per inventory host of the buyer, from its fog_* host variables (the fog_host filter).
    fog_own_hosts: "{{ groups['provider_a'] | map('extract', hostvars) | map('decenter.fog.fog_host') }}"

- name: The same with the hosts written out and the descriptor read on the controller
  decenter.fog.fog_placement:
    app_file: apps/simple_ocr/app.yml
    hosts:
      - {name: cloud, region: CLOUD, tier: 0, provider: provider_a, cpu_millicores: 6000, memory_mib: 6144}
      - {name: povo, region: POVO, tier: 1, provider: provider_a, cpu_millicores: 1000, memory_mib: 1024,
         devices: ["cam1:camera"]}
  delegate_to: localhost
  register: fog_plan

- name: Reserve a node for the first unmet requirement
  decenter.fog.reb_reservation:
    state: requested
    offer_filters: "{{ fog_plan.reb_filters }}"
    hours: 2
    buyer_public_key: "{{ fog_keypair.public_key }}"
  when: not fog_plan.feasible

- name: After renting, everything must fit (fails with the reasons otherwise)
  decenter.fog.fog_placement:
    app_file: apps/simple_ocr/app.yml
    # the rented nodes (group reb_rented of the decenter.fog.reb inventory, buyer view) are hosts like the others
    hosts: "{{ (groups['provider_a'] + groups['reb_rented']) | map('extract', hostvars) | map('decenter.fog.fog_host') }}"
    require_feasible: true
  delegate_to: localhost
  register: fog_plan
'''

RETURN = r'''
app_name:
  description: Name of the application.
  returned: always
  type: str
  sample: simple_ocr
placement:
  description: Where each placed microservice runs, in descriptor order.
  returned: always
  type: dict
  sample: {repository: {host: cloud, region: CLOUD, provider: provider_a, tier: 0},
           processor-cam1: {host: povo, region: POVO, provider: provider_a, tier: 1}}
unmet:
  description:
    - The microservices no host can take, most constrained first, each with C(requirement) (C(device),
      C(region), C(tier), C(affinity) (no host has them all together), C(capacity) or C(network)), a C(reason)
      sentence and the C(offer_filters)
      that find an REB offer meeting it.
  returned: always
  type: list
  elements: dict
  sample: [{microservice: processor-camkor1, requirement: device,
            reason: "processor-camkor1 needs the region of camkor1 (a host with camera camkor1 in region SEOUL-KETI);
                     provider_a has none. Rent a node that has it, e.g. an REB offer with device=camkor1
                     region=SEOUL-KETI min_cpu_millicores=600 min_memory_mib=512 min_storage_gib=1.",
            offer_filters: {device: camkor1, region: SEOUL-KETI, min_cpu_millicores: 600, min_memory_mib: 512,
                            min_storage_gib: 1}}]
feasible:
  description: True when every microservice is placed.
  returned: always
  type: bool
reb_filters:
  description: The C(offer_filters) of the first unmet requirement; C({}) when everything is placed.
  returned: always
  type: dict
  sample: {device: camkor1, region: SEOUL-KETI, min_cpu_millicores: 600, min_memory_mib: 512, min_storage_gib: 1}
regions:
  description: Per region, its tiers, providers, hosts, devices, capacity and what is left free after placement.
  returned: always
  type: dict
  sample: {POVO: {tiers: [1], providers: [provider_a], hosts: [povo], devices: [cam1], cpu_millicores: 1000,
                  memory_mib: 1024, free_cpu_millicores: 400, free_memory_mib: 512}}
'''

import io
import json
import os

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError, run_as_module
from ansible_collections.decenter.fog.plugins.module_utils.fog_placement_core import (
    PlacementError, first_offer_filters, place)

try:
    import yaml
except ImportError:  # the module may run on a host without PyYAML: JSON descriptors still work
    yaml = None

HOST_OPTIONS = dict(
    name=dict(type="str", required=True),
    region=dict(type="str", required=True),
    tier=dict(type="int", required=True),
    provider=dict(type="str"),
    cpu_millicores=dict(type="int", required=True),
    memory_mib=dict(type="int", required=True),
    storage_gib=dict(type="int"),
    devices=dict(type="list", elements="raw", default=[]),
    location=dict(type="str"),
    architecture=dict(type="str"),
)
LINK_OPTIONS = dict(
    source=dict(type="str", required=True),
    destination=dict(type="str", required=True),
    latency_ms=dict(type="float", required=True),
    bandwidth_kbps=dict(type="float"),
)
ARGUMENT_SPEC = dict(
    app=dict(type="dict"),
    app_file=dict(type="path"),
    hosts=dict(type="list", elements="dict", default=[], options=HOST_OPTIONS),
    links=dict(type="list", elements="dict", default=[], options=LINK_OPTIONS),
    require_feasible=dict(type="bool", default=False),
)


def read_app_file(path):
    """The descriptor in `path` (YAML, or JSON without PyYAML); PlacementError with a sentence otherwise."""
    if not os.path.exists(path):
        raise PlacementError("app_file %s does not exist (it is read on the host the task runs on; add "
                             "delegate_to: localhost to read it from the controller)." % path)
    if not os.path.isfile(path):
        raise PlacementError("app_file %s is not a file: give the path of the descriptor, e.g. "
                             "apps/simple_ocr/app.yml." % path)
    try:
        with io.open(path, encoding="utf-8") as f:
            text = f.read()
    except (IOError, OSError) as e:
        raise PlacementError("app_file %s cannot be read: %s." % (path, e.strerror or e))
    except UnicodeDecodeError:
        raise PlacementError("app_file %s is not UTF-8 text: save the descriptor as UTF-8 YAML." % path)
    if yaml is None:
        try:
            return json.loads(text)
        except ValueError as e:
            raise PlacementError("app_file %s is not valid JSON (PyYAML is not installed here, so only JSON is "
                                 "read): %s." % (path, e))
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else ""
        raise PlacementError("app_file %s is not valid YAML%s: %s; fix the descriptor."
                             % (path, where, getattr(e, "problem", None) or e))


def run(params, check_mode):
    """Placement only reads, so check mode changes nothing."""
    app = params["app"] if params["app"] is not None else read_app_file(params["app_file"])
    result = place(app, params["hosts"], params["links"])
    result["reb_filters"] = first_offer_filters(result)
    if params["require_feasible"] and not result["feasible"]:
        raise FogError("%s cannot be placed on the given hosts: %s"
                       % (result["app_name"], " ".join(u["reason"] for u in result["unmet"])),
                       changed=False, **result)
    return dict(changed=False, **result)


SPEC = dict(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("app", "app_file")],
            required_one_of=[("app", "app_file")], run=run)


def main():
    run_as_module(SPEC, errors=(PlacementError, FogError))


if __name__ == "__main__":
    main()
