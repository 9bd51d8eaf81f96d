#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_contract
short_description: Deploy the Resource Exchange Broker contract, or verify an existing deployment
description:
  - Deploys the REB contract shipped with this collection and returns its address.
  - When O(contract_address) is given and holds the REB, nothing is deployed (the code is verified
    byte for byte, immutables masked). An address holding something else is an error, never overwritten.
  - If a run timed out before its deployment was mined, a rerun without O(contract_address) waits for that
    deployment and reports its address instead of deploying a second REB.
  - A chain that lacks the Cancun opcodes the REB needs (for example ganache 7) is refused before anything
    is deployed or spent, in check mode too.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  accept_window:
    description:
      - Seconds a seller has to accept or reject a reservation request before anyone may expire it.
      - From 60 (one minute) to 2592000 (30 days), the bounds the REB's constructor enforces; 0 would allow
        answers only in the request's own block, a huge value would make every deadline overflow.
    type: int
    default: 3600
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.attributes
'''

EXAMPLES = r'''
- name: Deploy the REB once; later runs verify the recorded address
  decenter.fog.reb_contract:
    rpc_url: http://127.0.0.1:8545
    contract_address: "{{ reb_contract_address | default(omit) }}"
    private_key: "{{ reb_deployer_key }}"
  register: reb
'''

RETURN = r'''
contract_address:
  description: Address of the REB.
  returned: always
  type: str
  sample: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
accept_window:
  description: Seconds a seller has to answer a request, as deployed.
  returned: when deployed or verified (not in check mode before a deployment)
  type: int
chain_id:
  description: Chain id of the endpoint.
  returned: always
  type: int
transaction_hash:
  description: Hash of the transaction sent (0x-prefixed).
  returned: when a transaction was sent
  type: str
'''

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client, tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module


MIN_ACCEPT_WINDOW = 60
MAX_ACCEPT_WINDOW = 30 * 24 * 3600


def run(params, check_mode):
    window = params["accept_window"]
    if not MIN_ACCEPT_WINDOW <= window <= MAX_ACCEPT_WINDOW:
        raise RebError("accept_window=%d is out of bounds: give %d to %d seconds (one minute to 30 days), the time a "
                       "seller has to answer a request." % (window, MIN_ACCEPT_WINDOW, MAX_ACCEPT_WINDOW))
    address = params["contract_address"]
    # with an address the client checks that the REB is there (and fails clearly unless it is)
    client = get_client(params, need_contract=bool(address))
    if address:
        window = client.call("acceptWindow")
        if window != params["accept_window"]:
            raise RebError("the REB at %s was deployed with accept_window=%d, not %d: keep the deployed value or "
                           "deploy a new REB without contract_address." % (address, window, params["accept_window"]))
        return dict(changed=False, contract_address=client.contract_address, accept_window=window,
                    chain_id=client.chain_id)
    before, after = {"contract_address": None}, {"contract_address": "(new)", "accept_window": params["accept_window"]}
    client.check_chain()  # a chain that cannot run the REB is refused before anything is spent
    if check_mode:
        return dict(changed=True, contract_address="", chain_id=client.chain_id, diff=dict(before=before, after=after))
    if client.account is None:
        raise RebError("deploying the REB needs a wallet: set private_key or DECENTER_REB_PRIVATE_KEY.")
    receipt = client.deploy(params["accept_window"])
    after["contract_address"] = receipt["contractAddress"]
    return dict(changed=True, contract_address=receipt["contractAddress"], accept_window=params["accept_window"],
                chain_id=client.chain_id, transaction_hash=tx_hash(receipt),
                gas_used=receipt["gasUsed"], diff=dict(before=before, after=after))


SPEC = dict(argument_spec=chain_argument_spec(accept_window=dict(type="int", default=3600)), run=run)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
