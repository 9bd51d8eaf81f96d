# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The chain options, the one text of them for every REB module and the reb inventory plugin (which adds
    # their env entries: module docs may not carry them, modules read the same variables through env_fallback).
    # What only modules do is in ACTION (doc fragments are plain strings: sanity reads them without running them).
    DOCUMENTATION = r'''
options:
  rpc_url:
    description:
      - URL of the Ethereum JSON-RPC endpoint (anvil in the lab, a consortium node or testnet in production).
      - If not set, the environment variable E(DECENTER_REB_RPC_URL) is used.
    type: str
    default: http://127.0.0.1:8545
  chain_id:
    description:
      - Chain id the endpoint must serve; if it serves another chain, nothing is read or sent and the task (or
        inventory source) fails.
      - If not set, the environment variable E(DECENTER_REB_CHAIN_ID) is used; if neither is set any chain is accepted.
    type: int
  contract_address:
    description:
      - Address of the deployed Resource Exchange Broker. The code found there is verified against the REB
        this collection ships before anything is read or sent.
      - If not set, the environment variable E(DECENTER_REB_CONTRACT) is used.
    type: str
  private_key:
    description:
      - Wallet private key (hex) of the account that signs transactions. Keep it in Ansible Vault or the
        environment; it is never logged, returned or sent anywhere but used to sign locally.
      - If not set, the environment variable E(DECENTER_REB_PRIVATE_KEY) is used.
    type: str
  confirmations:
    description:
      - Blocks to wait for after a transaction is mined before reporting success.
      - On a chain that mines a block only when it gets a transaction (anvil or Hardhat automine) no block
        would ever confirm it; there a mined transaction counts as final and the task warns so.
    type: int
    default: 0
  timeout:
    description:
      - Seconds to wait for the endpoint to answer and for each transaction to be mined.
      - A transaction not mined in time stays on its way; a rerun of the same task waits for it (or reports
        it once mined) instead of sending it again.
    type: float
    default: 30
requirements:
  - web3 >= 7 (on the controller)
notes:
  - Before the REB is deployed or used, a free C(eth_call) probe checks that the chain has the Cancun opcodes
    the contract needs (TSTORE, TLOAD, MCOPY); a chain without them (for example ganache 7) is refused.
'''

    # The REB modules: how their tasks run.
    ACTION = r'''
attributes:
  action:
    description: Runs on the controller as an action plugin; the target host is not contacted.
    support: full
notes:
  - Each chain option the task leaves unset comes from the variable C(reb_<option>) of the host (inventory,
    C(group_vars), C(-e); keep C(reb_private_key) in Vault), before the environment variable; so plays need no
    C(module_defaults) block. A task argument or a C(module_defaults) entry wins, and an empty or undefined
    variable sets nothing.
  - Transactions of one wallet are sent one at a time across all processes of the controller (a lock file), with
    nonces from the account's pending state. Sent but not yet reported transactions are journalled (hashes and
    nonces only, never a key) in the directory of the environment variable E(DECENTER_REB_STATE_DIR), by default
    C(~/.ansible/decenter_fog/wallets).
'''

    # The offer filters of reb_market.OFFER_FILTERS that need no clock (hours does: reb_offer_info documents it),
    # for M(decenter.fog.reb_offer_info) and the market view of the reb inventory plugin.
    OFFER_FILTERS = r'''
options:
  offer_id:
    description: Only this offer.
    type: int
  node_id:
    description: Only offers of this node id.
    type: str
  region:
    description: Only offers in this FogAtlas region.
    type: str
  device:
    description: Only offers whose node has the device with this id, e.g. C(camkor1).
    type: str
  device_kind:
    description: Only offers whose node has a device of this kind, e.g. C(camera).
    type: str
  min_cpu_millicores:
    description: At least this much CPU.
    type: int
  min_memory_mib:
    description: At least this much memory.
    type: int
  min_storage_gib:
    description: At least this much disk.
    type: int
  architecture:
    description: Only this CPU architecture.
    type: str
  max_price_per_hour:
    description: At most this price per hour in wei.
    type: int
  seller:
    description: Only offers of this seller address (case does not matter).
    type: str
  sellers:
    description:
      - Only offers of these seller addresses (the sellers a buyer trusts). Anyone can register a provider
        under any name and list a node of the same name cheaper; only the address tells sellers apart.
    type: list
    elements: str
  state:
    description: Offer state to list; V(any) lists all.
    type: str
    choices: [open, reserved, withdrawn, any]
    default: open
'''

    # Module attributes: check mode, diff and idempotence.
    ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the chain.
    support: full
  diff_mode:
    description: Returns details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: A rerun with the same arguments changes nothing and sends no transaction.
    support: full
'''

    INFO_ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Read-only; reports no differences.
    support: N/A
'''
