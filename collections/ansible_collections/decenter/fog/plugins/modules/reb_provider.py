#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_provider
short_description: Register the signing account as a fog provider on the REB
description:
  - Registers the account of O(private_key) in the REB provider registry under O(name), or renames it.
  - A provider must be registered before it can publish offers.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  name:
    description: Human readable provider name, e.g. C(Provider B (KETI)).
    type: str
    required: true
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.attributes
'''

EXAMPLES = r'''
- name: Register provider B
  decenter.fog.reb_provider:
    name: Provider B (KETI)
'''

RETURN = r'''
address:
  description: Account address of the provider.
  returned: always
  type: str
name:
  description: Registered name.
  returned: always
  type: str
transaction_hash:
  description: Hash of the transaction sent (0x-prefixed).
  returned: when a transaction was sent
  type: str
'''

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client, tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module


def run(params, check_mode):
    name = params["name"].strip()
    if not name:
        raise RebError("name must not be empty: give the provider's display name.")
    client = get_client(params, need_key=True)
    current = client.provider_name(client.address)
    result = dict(changed=current != name, address=client.address, name=name,
                  diff=dict(before={"name": current}, after={"name": name}))
    receipt = client.transact("registerProvider", name, check_mode=check_mode) if result["changed"] else None
    if receipt:
        result["transaction_hash"] = tx_hash(receipt)
    return result


SPEC = dict(argument_spec=chain_argument_spec(name=dict(type="str", required=True)), run=run)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
