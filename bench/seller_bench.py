#!/usr/bin/env python3
"""Seller reaction: a request mined -> the seller's answer (accept or reject) mined, with provider B's agent
(ansible-rulebook + decenter.fog.reb_events + rulebooks/resource_seller.yml + playbooks/seller/answer.yml) on a real
anvil at its default gas limit with --block-time. B's nodes are directories of this machine (tests/seller/seller_env.py:
the keys are granted in their authorized_keys files; no SSH). Goal (issue 13): at most one block + 2 s.

Each block is timed when a poller (every 50 ms) first sees it; a reservation's reaction is the time from its request's
block to its answer's block. Two workloads: requests one at a time (the agent idle in between), and a burst of N
requests from three buyers sent at once (one refused by the policy: rejected). For the requests one at a time, the
agent's playbook runs mark their milestones (callback bench/seller_trace) and the table under it says where the time
of an answer goes.

    PYTHONPATH=. .venv/bin/python bench/seller_bench.py [--block-time 1] [--single 5] [--burst 20] [--write bench/seller.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.federation_bench import CONFIGURED_CALLBACKS  # noqa: E402
from bench.made_by import publish  # noqa: E402
from tests.seller.market import BUYER_A, BUYER_D, BUYER_E, start_chain  # noqa: E402
from tests.seller.seller_env import SellerEnv  # noqa: E402


class BlockClock:
    """Wall time at which each block was first seen, and the blocks of requests and answers."""

    def __init__(self, market):
        self.market = market
        self.seen = {}
        self.requested = {}
        self.answered = {}
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        w3, reb = self.market.w3, self.market.reb
        last = w3.eth.block_number
        while not self.stop:
            head = w3.eth.block_number
            now = time.time()
            for n in range(last + 1, head + 1):
                self.seen[n] = now
                for ev in reb.events.ReservationRequested().get_logs(from_block=n, to_block=n):
                    self.requested[ev["args"]["reservationId"]] = n
                for name in ("ReservationAccepted", "ReservationRejected"):
                    for ev in getattr(reb.events, name)().get_logs(from_block=n, to_block=n):
                        self.answered[ev["args"]["reservationId"]] = n
            last = head
            time.sleep(0.05)

    def reaction(self, rid):
        return self.seen[self.answered[rid]] - self.seen[self.requested[rid]]

    def wait_answered(self, ids, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(r in self.answered for r in ids):
            time.sleep(0.1)
        missing = [r for r in ids if r not in self.answered]
        if missing:
            raise SystemExit("not answered within %d s: %s" % (timeout, missing))


STAGES = [("the event seen, ansible-rulebook starts ansible-playbook", None, "start"),
          ("ansible-playbook loads Ansible", "start", "loaded"),
          ("the playbook and inventory load, web3 is imported (first task)", "loaded", "first_task"),
          ("the reservations read, the plan, the nodes chosen", "first_task", "planned"),
          ("the key granted and the host key read on the node", "planned", "granted"),
          ("to the accept task", "granted", "accept_task"),
          ("the accept sent and mined (the next block), its block seen", "accept_task", None)]


def breakdown(trace, requested_at, answered_at):
    """Seconds of each stage of one answer, from the trace of the run that answered it (None if none did)."""
    runs = {}
    for line in trace:
        at, pid, what = line.split(" ", 2)
        runs.setdefault(pid, {})[what] = float(at)
    run = min((r for r in runs.values() if r.get("start", 0) > requested_at - 0.1 and "granted" in r),
              key=lambda r: r["start"], default=None)
    if run is None:
        return None
    marks = dict(run, block=answered_at)
    return [(marks[b] if b else marks["block"]) - (marks[a] if a else requested_at) for _, a, b in STAGES]


def send_request(market, who, offer_id):
    call, value = market.reserve_call(offer_id)
    return call.transact({"from": market.accounts[who], "value": value})


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block-time", type=int, default=1)
    parser.add_argument("--single", type=int, default=5, help="requests sent one at a time")
    parser.add_argument("--burst", type=int, default=20, help="requests sent at once")
    parser.add_argument("--write", help="also write the table to this file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="seller-bench-"))
    trace_file = work / "trace.log"
    os.environ.update(ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).resolve().parent / "seller_trace"),
                      ANSIBLE_CALLBACKS_ENABLED=",".join(CONFIGURED_CALLBACKS + ["seller_trace"]),
                      SELLER_TRACE_FILE=str(trace_file))
    load = [os.getloadavg()[0]]
    stages = []
    chain = start_chain(work, block_time=args.block_time)
    seller = None
    rows = []
    try:
        nodes = args.single + args.burst
        seller = SellerEnv(work, chain, nodes=nodes, host_keys_in_inventory=True)
        refused = chain.w3.eth.accounts[BUYER_E]
        seller.set_policy({"refused_buyers": [refused]})
        offers = seller.publish()
        seller.start_agent()
        seller.wait(lambda: "PLAY RECAP" in seller.agent_log.read_text(), timeout=300, what="the start-up run")
        seller.wait_quiet()
        clock = BlockClock(seller.market)

        single = []
        for i in range(args.single):
            tx = send_request(seller.market, BUYER_A, offers["node-%02d" % i])
            rid = seller.market.reb.events.ReservationRequested().process_receipt(
                chain.w3.eth.wait_for_transaction_receipt(tx, timeout=60))[0]["args"]["reservationId"]
            clock.wait_answered([rid])
            single.append(clock.reaction(rid))
            stages.append(breakdown(trace_file.read_text().splitlines(), clock.seen[clock.requested[rid]],
                                    clock.seen[clock.answered[rid]]))
            seller.wait_quiet(seconds=2)
        buyers = [(BUYER_A, BUYER_D, BUYER_E)[i % 3] for i in range(args.burst)]
        txs = [send_request(seller.market, b, offers["node-%02d" % (args.single + i)]) for i, b in enumerate(buyers)]
        ids = [seller.market.reb.events.ReservationRequested().process_receipt(
            chain.w3.eth.wait_for_transaction_receipt(tx, timeout=60))[0]["args"]["reservationId"] for tx in txs]
        clock.wait_answered(ids)
        burst = [clock.reaction(r) for r in ids]
        seller.wait_quiet()
        clock.stop = True
        answers = seller.answers()
        twice = [r for r, a in answers.items() if len(a) != 1]
        rows.append(("one at a time", args.single, single))
        rows.append(("burst (3 buyers, 1 refused)", args.burst, burst))
        runs = seller.agent_log.read_text().count("PLAY RECAP")
    finally:
        load.append(os.getloadavg()[0])
        if seller is not None:
            seller.stop_agent()
        chain.stop()
    goal = args.block_time + 2
    lines = ["Seller reaction, request mined -> answer mined (anvil default gas limit, --block-time %d s; goal <= %d s)."
             % (args.block_time, goal), "",
             "| workload | requests | median s | p95 s | max s | within goal |", "|---|---|---|---|---|---|"]
    for name, n, values in rows:
        if not values:  # a workload of 0 requests (--single 0 or --burst 0)
            continue
        lines.append("| %s | %d | %.2f | %.2f | %.2f | %d of %d |" % (
            name, n, statistics.median(values), percentile(values, 95), max(values),
            sum(v <= goal for v in values), n))
    lines += ["", "Answered more than once: %d. Agent playbook runs: %d (start-up included). Load average (1 min) at "
              "the start and the end: %.2f, %.2f (%d cores)." % (len(twice), runs, load[0], load[1], os.cpu_count())]
    stages = [s for s in stages if s]
    if stages:
        lines += ["", "Where the time of an answer goes (requests one at a time, median of %d; the stages add up to the "
                  "reaction above only roughly, each is its own median):" % len(stages), "",
                  "| stage | median s |", "|---|---|"]
        lines += ["| %s | %.2f |" % (name, statistics.median(s[i] for s in stages)) for i, (name, _, _) in enumerate(STAGES)]
    publish("\n".join(lines), "## Seller reaction (provider B's agent)", Path(args.write) if args.write else None)


if __name__ == "__main__":
    main()
