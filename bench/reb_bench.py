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


def publish_many(chain, reb, n):
    """n offers from 4 sellers, seeded in JSON-RPC batches on anvil's default gas limit."""
    from tests.support.market_seed import publish_many as seed
    seed(chain.url, chain.w3, reb, n, chain.w3.eth.accounts[3:7])


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
    """One getOffer call per offer, filtered client side (REB v2 stores no strings: numbers and state only)."""
    with RpcCounter() as counter:
        t0 = time.perf_counter()
        hits = 0
        for i in range(1, total + 1):
            o = reb.functions.getOffer(i).call()
            hits += o[2] == 1 and o[4] >= 2000  # open, at least 2 CPUs
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
        "| one getOffer per offer (numbers only): %.2f s, %d RPC calls (%d hits) | <= 1.5 s and <= 10 calls |"
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
