# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Can this chain run the REB? Asked once per endpoint with free eth_calls, before deploying or using it.

The REB is compiled for `prague` and uses Cancun's TSTORE/TLOAD (its re-entrancy guard) and MCOPY; a
chain without them (ganache 7, pre-Cancun geth or Besu) accepts the deployment and then fails every call
with `invalid opcode`. The probe runs tiny init code through eth_call (nothing is signed, nothing spent).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_revert import node_message

# TSTORE 1 at slot 0, TLOAD it, MSTORE it at 0, MCOPY 32 bytes from 0 to 32, RETURN memory[32:64] (= 1).
CANCUN_PROBE = "0x600160005d60005c600052602060006020 5e60206020f3".replace(" ", "")
# What a page of the REB's views may need (see reb_client.PAGE_SIZE) and the tx gas cap of Osaka (EIP-7825).
WANTED_CALL_GAS = 30000000
OSAKA_TX_GAS_CAP = 2 ** 24
_CHECKED = {}


def check_chain(w3, rpc_url, chain_id):
    """Raises RebError with one sentence when the chain cannot run the REB; returns what was learnt.

    The answer is a dict: `call_gas_cap`, the gas one eth_call may use (WANTED_CALL_GAS when not capped
    below it). Cached per endpoint and chain in this process.
    """
    key = (rpc_url, chain_id)
    if key not in _CHECKED:
        _CHECKED[key] = _probe(w3, rpc_url, chain_id)
    return _CHECKED[key]


def _probe(w3, rpc_url, chain_id):
    try:
        answer = bytes(w3.eth.call({"data": CANCUN_PROBE, "gas": WANTED_CALL_GAS}))
        cap = WANTED_CALL_GAS
    except Exception as e:
        text = node_message(e)
        if "gas" not in text.lower() or "opcode" in text.lower():
            raise _unfit(rpc_url, chain_id, text)
        # The endpoint caps eth_call gas (Osaka's transaction cap, geth's rpc.gascap): probe under it.
        try:
            answer = bytes(w3.eth.call({"data": CANCUN_PROBE, "gas": OSAKA_TX_GAS_CAP}))
        except Exception as e2:
            raise _unfit(rpc_url, chain_id, node_message(e2))
        cap = OSAKA_TX_GAS_CAP
    if int.from_bytes(answer[-32:] or b"\0", "big") != 1:
        raise _unfit(rpc_url, chain_id, "the probe returned 0x%s instead of 1" % answer.hex())
    return {"call_gas_cap": cap}


def _unfit(rpc_url, chain_id, detail):
    return RebError("the chain at %s (chain id %d) cannot run the REB: it lacks the Cancun opcodes TSTORE/TLOAD/MCOPY "
                    "the contract needs (probe: %s); use a node with the Cancun fork or later (e.g. anvil or "
                    "Hardhat 3, geth/Besu with Cancun active). Nothing was deployed or spent."
                    % (rpc_url, chain_id, detail))
