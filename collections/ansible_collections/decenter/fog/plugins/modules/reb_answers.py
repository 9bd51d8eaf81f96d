#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_answers
short_description: Seller - accept or reject many REB reservation requests at once
description:
  - The seller's answers to a burst of reservation requests in one task - each accepted (with the node's access
    endpoint and SSH host-key fingerprint) or rejected (the buyer is refunded in full), as
    M(decenter.fog.reb_reservation) does for one.
  - Every transaction is sent first, each with its own nonce, and only then are their receipts waited for, so the
    answers of one run share a block instead of taking one block each.
  - The same guarantees as M(decenter.fog.reb_reservation) - a reservation already answered this way sends nothing, a
    rerun after a timeout or a killed run waits for the transaction sent before instead of sending another, check
    mode sends nothing.
  - An answer that cannot be sent (the request was cancelled, its deadline passed) or that reverts does not stop the
    others; the task then fails with a sentence for each such answer, after the others are mined.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  answers:
    description: The answers, sent in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      reservation_id:
        description: The reservation requested of the signing account's offer.
        type: int
        required: true
      state:
        description: The answer.
        type: str
        required: true
        choices: [accepted, rejected]
      access_endpoint:
        description: C(host:port) of the node's SSH server as the buyer reaches it (O(answers[].state=accepted)).
        type: str
      host_key_fingerprint:
        description: OpenSSH C(SHA256:...) fingerprint of the node's SSH host key (O(answers[].state=accepted)).
        type: str
      reason:
        description:
          - Why the seller declines (O(answers[].state=rejected)), for the buyer; at most 256 bytes, public on chain.
            Never put anything secret in it.
        type: str
        default: ""
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.attributes
'''

EXAMPLES = r'''
- name: Seller answers two requests; both transactions go out before either is waited for
  decenter.fog.reb_answers:
    answers:
      - reservation_id: 7
        state: accepted
        access_endpoint: "198.51.100.4:22"
        host_key_fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
      - reservation_id: 8
        state: rejected
        reason: buyer is in refused_buyers
'''

RETURN = r'''
answers:
  description: Each answer, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    reservation_id:
      description: The reservation.
      type: int
    state:
      description: The answer asked for (C(accepted) or C(rejected)).
      type: str
    changed:
      description: Whether a transaction was sent for it (or would be, in check mode).
      type: bool
    transaction_hash:
      description: Hash of the transaction sent (0x-prefixed).
      type: str
      returned: when a transaction was sent and mined
    msg:
      description: Why this answer failed (the task then fails).
      type: str
      returned: when it failed
  sample: [{reservation_id: 7, state: accepted, changed: true, transaction_hash: "0x5b0a..."},
           {reservation_id: 8, state: rejected, changed: false}]
'''

import time

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client, tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_transition import transition


def run(params, check_mode):
    items = params["answers"]
    ids = [a["reservation_id"] for a in items]
    twice = sorted(set(i for i in ids if ids.count(i) > 1))
    if twice:
        raise RebError("answers name reservation %s more than once; give each reservation one answer."
                       % ", ".join(str(i) for i in twice))
    client = get_client(params, need_key=True)
    found = dict((r["id"], r) for r in client.reservations(ids)) if ids else {}
    results = [dict(reservation_id=a["reservation_id"], state=a["state"], changed=False) for a in items]
    sent = []
    # Every transaction out first (each takes the wallet's lock for its nonce only), then every receipt.
    for item, one in zip(items, results):
        try:
            call = transition(client, found[item["reservation_id"]], item["state"], item)
            if call is None:
                continue  # answered so already: nothing to send
            handle = client.submit(call[0], *call[1], check_mode=check_mode)
            one["changed"] = True
            if handle is not None:
                sent.append((one, handle))
        except RebError as e:
            one["msg"] = str(e)
    deadline = time.monotonic() + client.timeout  # one timeout for the run's answers, not one each
    for number, (one, handle) in enumerate(sent):
        try:
            # the first waits for the block due; the others were sent with it, so their receipts are there by then
            one["transaction_hash"] = tx_hash(client.finish(handle, look_first=number > 0, deadline=deadline))
        except RebError as e:
            one["msg"] = str(e)
    failed = [one for one in results if "msg" in one]
    result = dict(changed=any(one["changed"] and "msg" not in one for one in results), answers=results)
    if failed:
        result.update(failed=True, msg="%d of %d answers failed (the others are %s): %s" % (
            len(failed), len(results), "checked" if check_mode else "sent and mined",
            " ".join("reservation %d (%s): %s" % (one["reservation_id"], one["state"], one["msg"]) for one in failed)))
    return result


SPEC = dict(
    argument_spec=chain_argument_spec(
        answers=dict(type="list", elements="dict", required=True, options=dict(
            reservation_id=dict(type="int", required=True),
            state=dict(type="str", required=True, choices=["accepted", "rejected"]),
            access_endpoint=dict(type="str"),
            host_key_fingerprint=dict(type="str", no_log=False),  # a public fingerprint, recorded on chain
            reason=dict(type="str", default=""),
        )),
    ),
    run=run,
)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
