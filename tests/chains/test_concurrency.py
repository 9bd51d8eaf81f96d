"""Two processes, one key, 10 transactions each, at the same time: all mined, nonces contiguous, balances exact.

Before the wallet lock, two runs with one key picked the same nonce: `replacement transaction underpriced`
(anvil at 5 s blocks) or `Nonce too low` (Hardhat), and a higher-fee second transaction could replace the first.
"""
import json
import os
import subprocess
import sys

import pytest

from tests.chains.conftest import NODES, SELLER, client, deploy, gas_paid
from tests.support.chain import ROOT

PER_PROCESS = 10


@pytest.fixture(scope="module", params=["anvil-1s", "hardhat"])
def node(request, tmp_path_factory):
    chain = NODES[request.param](tmp_path_factory.mktemp(request.param))
    yield chain
    chain.stop()


def test_two_processes_share_one_wallet(node, tmp_path, wallet_state):
    reb = deploy(node)
    seller = client(node, SELLER, reb)
    seller.transact("registerProvider", "Provider B")
    w3 = node.w3
    start_nonce, start_balance, start_offers = seller.nonce(), w3.eth.get_balance(seller.address), seller.call(
        "offerCount")
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT), DECENTER_REB_PRIVATE_KEY=node.keys()[SELLER],
               DECENTER_REB_STATE_DIR=str(wallet_state))
    workers = [subprocess.Popen([sys.executable, "-m", "tests.chains.wallet_worker", node.url, reb, "p%d" % n,
                                 str(PER_PROCESS), str(go)], cwd=str(ROOT), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for n in range(2)]
    go.write_text("go")
    outputs = [w.communicate(timeout=240) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-3000:] for _, err in outputs]
    hashes = [h for out, _ in outputs for h in json.loads(out)]
    assert len(set(hashes)) == 2 * PER_PROCESS
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    nonces = sorted(w3.eth.get_transaction(h)["nonce"] for h in hashes)
    assert nonces == list(range(start_nonce, start_nonce + 2 * PER_PROCESS))
    assert w3.eth.get_transaction_count(seller.address) == start_nonce + 2 * PER_PROCESS
    assert seller.call("offerCount") == start_offers + 2 * PER_PROCESS
    assert w3.eth.get_balance(seller.address) == start_balance - gas_paid(w3, receipts)
    assert sorted(seller.offer(seller.offer_id_of(seller.address, "p%d-%02d" % (n, i)))["node_id"]
                  for n in range(2) for i in range(PER_PROCESS)) == sorted(
        "p%d-%02d" % (n, i) for n in range(2) for i in range(PER_PROCESS))


def test_two_runs_publishing_the_same_node_at_once_send_one_transaction(node, tmp_path, wallet_state):
    # Two runs with the same task: the second waits for (or reports) the first's transaction instead of
    # sending a duplicate that reverts with NodeIdTaken after burning gas.
    reb = deploy(node)
    seller = client(node, SELLER, reb)
    seller.transact("registerProvider", "Provider B")
    start_nonce, start_balance = seller.nonce(), node.w3.eth.get_balance(seller.address)
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(ROOT), DECENTER_REB_PRIVATE_KEY=node.keys()[SELLER],
               DECENTER_REB_STATE_DIR=str(wallet_state))
    workers = [subprocess.Popen([sys.executable, "-m", "tests.chains.wallet_worker", node.url, reb, "same", "1",
                                 str(go)], cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    go.write_text("go")
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-3000:] for _, err in outputs]
    hashes = [json.loads(out) for out, _ in outputs]
    assert hashes[0] == hashes[1] and len(hashes[0]) == 1
    receipt = node.w3.eth.get_transaction_receipt(hashes[0][0])
    assert receipt["status"] == 1 and seller.nonce() == start_nonce + 1
    assert node.w3.eth.get_balance(seller.address) == start_balance - gas_paid(node.w3, [receipt])
