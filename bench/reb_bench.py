"""REB benchmarks: cost of a reb_* task against ping, and the market at 10,000 offers.

Run: PYTHONPATH=. .venv/bin/python bench/reb_bench.py [--offers 10000]   (writes bench/reb.md)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from web3._utils.http_session_manager import HTTPSessionManager

from tests.support.chain import ROOT, Anvil, deploy_reb

COLLECTION = ROOT / "collections"
sys.path.insert(0, str(COLLECTION))
from ansible_collections.decenter.fog.plugins.modules import reb_offer_info  # noqa: E402

TASKS = 20
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: ping
      ansible.builtin.ping:
      loop: "{{ range(%(n)d) | list }}"
    - name: reb
      decenter.fog.reb_offer_info: {rpc_url: "%(url)s", contract_address: "%(addr)s", offer_id: 1}
      loop: "{{ range(%(n)d) | list }}"
    - name: naive
      reb_offer_info: {rpc_url: "%(url)s", contract_address: "%(addr)s", offer_id: 1}
      loop: "{{ range(%(n)d) | list }}"
"""


def spec(i, region, devices, price):
    return ("node-%05d" % i, region, 1, "37.5,127.0", 2000, 2048, 10, "amd64", devices, price, 1, 720, 0, 2 ** 40 - 1)


def publish_many(chain, reb, n):
    """n offers from 4 sellers (anvil's unlocked accounts), sent in JSON-RPC batches, mined in bulk."""
    sellers = chain.w3.eth.accounts[3:7]
    for seller in sellers:
        reb.functions.registerProvider("seller").transact({"from": seller})
    rpc = chain.w3.provider.make_request
    rpc("evm_setAutomine", [False])
    regions = ["SEOUL", "SEOUL-KETI", "POVO", "CLOUD", "BUSAN", "TRENTO"]
    nonces = dict((s, chain.w3.eth.get_transaction_count(s)) for s in sellers)
    batch = []
    for i in range(n):
        seller = sellers[i % len(sellers)]
        region = regions[i % len(regions)]
        devices = "camkor1:camera" if i % 97 == 1 else "cam%d:camera" % (i % 50)
        data = reb.encode_abi("publishOffer", [spec(i, region, devices, 10 ** 15 + i)])
        batch.append({"jsonrpc": "2.0", "id": i, "method": "eth_sendTransaction",
                      "params": [{"from": seller, "to": reb.address, "data": data, "gas": hex(400000),
                                  "nonce": hex(nonces[seller])}]})
        nonces[seller] += 1
        if len(batch) == 400 or i == n - 1:  # 400 publishes fit one 100M-gas block
            answers = requests.post(chain.url, json=batch, timeout=60).json()
            failed = [a for a in answers if "result" not in a]
            assert not failed, failed[:3]
            rpc("evm_mine", [])
            batch = []
    for _ in range(n // 100 + 10):  # bounded: ~400 publishes fit in one 100M-gas block
        if reb.functions.offerCount().call() == n:
            break
        rpc("evm_mine", [])
    rpc("evm_setAutomine", [True])
    published = reb.functions.offerCount().call()
    assert published == n, "only %d of %d offers were published" % (published, n)


class RpcCounter:
    """Counts JSON-RPC requests that really go over HTTP (after web3's own caching)."""
    calls = 0

    def __enter__(self):
        self.original = HTTPSessionManager.make_post_request
        counter = self

        def counting(manager, *args, **kwargs):
            counter.calls += 1
            return counter.original(manager, *args, **kwargs)
        HTTPSessionManager.make_post_request = counting
        return self

    def __exit__(self, *exc):
        HTTPSessionManager.make_post_request = self.original


def market_query(url, addr):
    """reb_offer_info's own code, in-process, with a fresh client, counting JSON-RPC calls."""
    reb_client = sys.modules["ansible_collections.decenter.fog.plugins.module_utils.reb_client"]
    reb_client._CLIENTS.clear()
    with RpcCounter() as counter:
        params = dict((k, None) for k in reb_offer_info.SPEC["argument_spec"])
        params.update(rpc_url=url, contract_address=addr, timeout=30.0, confirmations=0, state="open",
                      region="SEOUL-KETI", device="camkor1", limit=0)
        t0 = time.perf_counter()
        result = reb_offer_info.run(params, False)
        elapsed = time.perf_counter() - t0
    return elapsed, counter.calls, len(result["offers"]), result["total"]


def naive_listing(reb, total):
    """One getOffer call per offer, filtered client side."""
    with RpcCounter() as counter:
        t0 = time.perf_counter()
        hits = 0
        for i in range(1, total + 1):
            o = reb.functions.getOffer(i).call()
            hits += o[13] == "SEOUL-KETI" and "camkor1:" in o[16]
        elapsed = time.perf_counter() - t0
    return elapsed, counter.calls, hits


def task_costs(url, addr, workdir):
    pb = Path(workdir) / "cost.yml"
    pb.write_text(PLAYBOOK % dict(n=TASKS, url=url, addr=addr))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_LIBRARY=str(COLLECTION / "ansible_collections/decenter/fog/plugins/modules"))
    out = subprocess.run([str(ROOT / ".venv/bin/ansible-playbook"), "-i", "localhost,", "-c", "local", str(pb),
                          "-e", "ansible_python_interpreter=" + sys.executable],
                         env=env, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    medians = {}
    for task in report["plays"][0]["tasks"]:
        host = task["hosts"]["localhost"]
        per_item = (_seconds(task["task"]["duration"])) / TASKS
        assert not host.get("failed"), host
        medians[task["task"]["name"]] = per_item
    return medians


def _seconds(duration):
    from datetime import datetime
    start, end = (datetime.fromisoformat(duration[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--offers", type=int, default=10000)
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="reb-bench-")
    chain = Anvil(workdir)
    try:
        reb = deploy_reb(chain.w3, chain.w3.eth.accounts[0])
        t0 = time.perf_counter()
        publish_many(chain, reb, args.offers)
        seed_s = time.perf_counter() - t0
        costs = task_costs(chain.url, reb.address, workdir)
        ours = [market_query(chain.url, reb.address) for _ in range(3)]
        q_s = statistics.median(r[0] for r in ours)
        _, q_calls, q_hits, total = ours[0]
        n_s, n_calls, n_hits = naive_listing(reb, total)
    finally:
        chain.stop()
    rows = [
        "| measurement | decenter.fog | baseline | goal |",
        "|---|---|---|---|",
        "| seconds per task, %d tasks in one playbook (loop, mean per item) | reb_offer_info (action plugin): %.3f s | "
        "ansible.builtin.ping: %.3f s; same module run as a classic module: %.3f s | reb task <= ping and <= 0.1 s |"
        % (TASKS, costs["reb"], costs["ping"], costs["naive"]),
        "| market query: %d offers on anvil, filter region=SEOUL-KETI device=camkor1 (%d hits) | %.2f s, %d RPC calls "
        "| one getOffer per offer: %.2f s, %d RPC calls (%d hits) | <= 1.5 s and <= 10 calls |"
        % (total, q_hits, q_s, q_calls, n_s, n_calls, n_hits),
    ]
    text = "\n".join([
        "## REB tasks and market", "",
        "Command: `PYTHONPATH=. .venv/bin/python bench/reb_bench.py --offers %d` (seeding %d offers took %.0f s)."
        % (args.offers, args.offers, seed_s), ""] + rows) + "\n"
    (ROOT / "bench" / "reb.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
