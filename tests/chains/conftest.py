"""The chain matrix: the REB client's transaction side against real nodes on 127.0.0.1.

anvil without and with `--block-time 1` and Hardhat 3 (automine) must run the REB; ganache 7 must be
refused. Every node runs on its own default block gas limit. Clients are built directly (not from the
per-process cache) so that a "rerun" is a fresh client, as a new ansible-playbook process has; the
wallet journal lives in the test's own state directory.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import RebClient  # noqa: E402
from tests.support.chain import CHAIN_ID, Anvil  # noqa: E402
from tests.support.evm_nodes import Hardhat  # noqa: E402
from tests.support.offers import offer_spec as build_offer_spec  # noqa: E402

NODES = {
    "anvil": lambda d: Anvil(d),
    "anvil-1s": lambda d: Anvil(d, block_time=1),
    "hardhat": Hardhat,
}
DEPLOYER, SELLER, BUYER, OTHER = 0, 1, 2, 3


@pytest.fixture(autouse=True)
def wallet_state(tmp_path, monkeypatch):
    """Each test its own journal directory (as each controller has its own)."""
    directory = tmp_path / "wallets"
    monkeypatch.setenv("DECENTER_REB_STATE_DIR", str(directory))
    return directory


def client(node, key_index, contract=None, **params):
    """A fresh RebClient signing with the node's funded key `key_index`."""
    options = dict(rpc_url=node.url, chain_id=CHAIN_ID, contract_address=contract, private_key=node.keys()[key_index],
                   confirmations=0, timeout=30.0)
    options.update(params)
    return RebClient(options, need_contract=contract is not None, need_key=True)


def offer_spec(node_id, price=10 ** 12):
    """The one builder's offer at a small price (the chain tests' buyers pay many of them)."""
    return build_offer_spec(node_id, price=price)


def deploy(node):
    receipt = client(node, DEPLOYER).deploy(3600)
    assert receipt["status"] == 1
    return receipt["contractAddress"]


def gas_paid(w3, receipts):
    return sum(r["gasUsed"] * r["effectiveGasPrice"] for r in receipts)
