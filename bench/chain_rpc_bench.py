"""JSON-RPC calls per REB transaction on automine and timed chains (the REB client's send + wait).

Each chain: a fresh node on 127.0.0.1 with its default gas limit, the REB deployed and a seller registered;
then a fresh client (as a new ansible-playbook process has) publishes N offers. Calls are counted where they
leave for the node (HTTP posts, after web3's own cache), by method. The first transaction of a client also
pays for the client's one-time checks (chain id, the capability probe, the code check, the block time).

Run: PYTHONPATH=. .venv/bin/python bench/chain_rpc_bench.py [--transactions 5] [--write bench/chain_rpc.md]
"""
import argparse
import collections
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from web3._utils.http_session_manager import HTTPSessionManager

from bench.made_by import publish
from tests.support.chain import ROOT, Anvil
from tests.support.evm_nodes import Hardhat

sys.path.insert(0, str(ROOT / "collections"))
from tests.chains.conftest import DEPLOYER, SELLER, client, offer_spec  # noqa: E402

CHAINS = [  # (name, start)
    ("anvil, automine", lambda d: Anvil(d)),
    ("Hardhat 3, automine", Hardhat),
    ("anvil, 1 s blocks", lambda d: Anvil(d, block_time=1)),
    ("anvil, 5 s blocks", lambda d: Anvil(d, block_time=5)),
]


class MethodCounter:
    """Counts JSON-RPC requests that go over HTTP, by method."""

    def __enter__(self):
        self.methods = collections.Counter()
        self.original = HTTPSessionManager.make_post_request
        counter = self

        def counting(manager, endpoint_uri, data, **kwargs):
            body = json.loads(data)
            for request in body if isinstance(body, list) else [body]:
                counter.methods[request["method"]] += 1
            return counter.original(manager, endpoint_uri, data, **kwargs)
        HTTPSessionManager.make_post_request = counting
        return self

    def __exit__(self, *exc):
        HTTPSessionManager.make_post_request = self.original


def measure(start, transactions, workdir):
    node = start(workdir)
    try:
        setup = client(node, DEPLOYER)
        reb = setup.deploy(3600)["contractAddress"]
        client(node, SELLER, reb).transact("registerProvider", "Provider B")
        per_tx, seconds = [], []
        with MethodCounter() as counter:
            seller = client(node, SELLER, reb)  # a new process's client: its one-time checks count
            opened = dict(counter.methods)
            for i in range(transactions):
                before = collections.Counter(counter.methods)
                t0 = time.perf_counter()
                seller.transact("publishOffer", offer_spec("bench-%02d" % i))
                seconds.append(time.perf_counter() - t0)
                per_tx.append(counter.methods - before)
        return opened, per_tx, seconds
    finally:
        node.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    rows = []
    breakdown = []
    with tempfile.TemporaryDirectory(prefix="chain-rpc-bench-") as tmp:
        for name, start in CHAINS:
            opened, per_tx, seconds = measure(start, args.transactions, tmp)
            later = per_tx[1:] or per_tx
            rows.append("| %s | %d | %d | %d | %.1f | %d-%d | %.1f | %.2f |" % (
                name, args.transactions, sum(opened.values()), sum(per_tx[0].values()),
                statistics.mean(sum(c.values()) for c in later), min(sum(c.values()) for c in later),
                max(sum(c.values()) for c in later),
                statistics.mean(c["eth_getTransactionReceipt"] for c in per_tx), statistics.median(seconds)))
            total = sum((c for c in later), collections.Counter())
            breakdown.append("| %s | %s |" % (name, ", ".join(
                "%s %.1f" % (m, n / float(len(later))) for m, n in total.most_common())))
    body = "\n".join([
        "| chain | transactions | calls to open the client | calls, 1st transaction | calls per later transaction "
        "(mean) | range | receipt polls per transaction | seconds per transaction (median) |",
        "|---|---|---|---|---|---|---|---|"] + rows + [
        "", "Calls per later transaction, by method:", "",
        "| chain | method: calls per transaction |", "|---|---|"] + breakdown + [
        "", "Goal of issue 15: at most 10 calls per transaction at 5 s blocks (the client before it polled the "
        "receipt every 0.05 s: 1,002 eth_getTransactionReceipt calls for 11 transactions at 5 s blocks)."])
    publish(body, "## REB transactions: JSON-RPC calls per transaction", args.write)


if __name__ == "__main__":
    main()
