# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The chain options shared by every REB module and the reb inventory plugin.
    DOCUMENTATION = r'''
options:
  rpc_url:
    description:
      - URL of the Ethereum JSON-RPC endpoint (anvil in the lab, a consortium node or testnet in production).
      - If not set (as a task argument or in C(module_defaults)), the variable V(reb_rpc_url) is used, else the
        environment variable E(DECENTER_REB_RPC_URL).
    type: str
    default: http://127.0.0.1:8545
  chain_id:
    description:
      - Chain id the endpoint must serve; the task fails before sending anything if it serves another chain.
      - If not set, the variable V(reb_chain_id) is used, else the environment variable E(DECENTER_REB_CHAIN_ID); if
        none is set any chain is accepted.
    type: int
  contract_address:
    description:
      - Address of the deployed Resource Exchange Broker. The code found there is verified against the REB
        this collection ships before anything is read or sent.
      - If not set, the variable V(reb_contract_address) is used, else the environment variable
        E(DECENTER_REB_CONTRACT).
    type: str
  private_key:
    description:
      - Wallet private key (hex) of the account that signs transactions. Keep it in Ansible Vault or the
        environment; it is never logged, returned or sent anywhere but used to sign locally.
      - If not set, the variable V(reb_private_key) is used (keep it in Vault), else the environment variable
        E(DECENTER_REB_PRIVATE_KEY).
    type: str
  confirmations:
    description:
      - Blocks to wait for after a transaction is mined before reporting success.
      - If not set, the variable V(reb_confirmations) is used.
      - On a chain that mines a block only when it gets a transaction (anvil or Hardhat automine) no block
        would ever confirm it; there a mined transaction counts as final and the task warns so.
    type: int
    default: 0
  timeout:
    description:
      - Seconds to wait for the endpoint to answer and for each transaction to be mined.
      - If not set, the variable V(reb_timeout) is used.
      - A transaction not mined in time stays on its way; a rerun of the same task waits for it (or reports
        it once mined) instead of sending it again.
    type: float
    default: 30
requirements:
  - web3 >= 7 (on the controller)
notes:
  - Runs on the controller as an action plugin; the target host is not contacted.
  - Each chain option the task leaves unset comes from the variable C(reb_<option>) of the host (inventory,
    C(group_vars), C(-e)), so plays need no C(module_defaults) block; a task argument or a C(module_defaults)
    entry wins, and an empty or undefined variable sets nothing.
  - Before the REB is deployed or used, a free C(eth_call) probe checks that the chain has the Cancun opcodes
    the contract needs (TSTORE, TLOAD, MCOPY); a chain without them (for example ganache 7) is refused.
  - Transactions of one wallet are sent one at a time across all processes of the controller (a lock file), with
    nonces from the account's pending state. Sent but not yet reported transactions are journalled (hashes and
    nonces only, never a key) in the directory of the environment variable E(DECENTER_REB_STATE_DIR), by default
    C(~/.ansible/decenter_fog/wallets).
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
