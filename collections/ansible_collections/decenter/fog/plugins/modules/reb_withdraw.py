#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_withdraw
short_description: Collect the funds the REB owes the signing account
description:
  - Funds leave the REB only by pull. Sellers collect payments for time used, buyers their refunds.
  - Does nothing (and sends nothing) when nothing is owed, so reruns are safe.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.attributes
'''

EXAMPLES = r'''
- name: Collect what the REB owes us
  decenter.fog.reb_withdraw:
  register: payout
'''

RETURN = r'''
amount:
  description: Wei withdrawn (or that would be, in check mode).
  returned: always
  type: int
address:
  description: The account paid.
  returned: always
  type: str
transaction_hash:
  description: Hash of the transaction sent (0x-prefixed).
  returned: when a transaction was sent
  type: str
'''

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client, tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module


def run(params, check_mode):
    client = get_client(params, need_key=True)
    amount, receipt = client.collect(check_mode)
    result = dict(changed=amount > 0, amount=amount, address=client.address,
                  diff=dict(before={"owed": amount}, after={"owed": 0}))
    if receipt:
        result["transaction_hash"] = tx_hash(receipt)
    return result


SPEC = dict(argument_spec=chain_argument_spec(), run=run)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
