"""Federation time as a user of provider A sees it, with provider B's own agent in the loop: from the start of A's
federate.yml (A's inventory only, through bin/org-run provider_a) to the first camkor1 text stored in A's Repository
in Italy, at several anvil block times (`anvil --block-time`, the lab's anvil_block_time).

Real parts only: one lab per block time (playbooks/lab_up.yml: anvil on its default gas limit, four namespace hosts,
B's agent started as B and publishing B's offers), A's federate.yml, B's agent accepting by itself, WireGuard, the
Processor on SEOUL-KETI reading camkor1 and storing into Redis on CLOUD. Needs root and the lab lock:

    flock /tmp/fog-lab.lock env PYTHONPATH=. .venv/bin/python bench/federation_bench.py --write bench/federation.md
"""
import argparse
import re
import tempfile
import time
from pathlib import Path

from bench.made_by import publish
from tests.lab.conftest import Lab
from tests.lab.test_federate import texts

BLOCK_TIMES = (0, 1, 5)
PREFIX = "fogb"
# The single-controller flow before the two organizations were split (A ran B's accept in its own playbook).
BEFORE = {0: 25.6, 1: 27.2, 5: 35.3}


def measure(block_time, workdir):
    """(federate.yml seconds, seconds to the first camkor1 text, the seller's answer as reserve.yml reports it)."""
    lab = Lab(workdir, prefix=PREFIX)
    lab.extra["anvil_block_time"] = block_time
    try:
        lab.playbook("playbooks/lab_up.yml")
        started = time.monotonic()
        _, _, out = lab.playbook("federate.yml", org="provider_a")
        federated = time.monotonic() - started
        for _ in range(600):  # bounded: 5 minutes
            if texts(lab, "camkor1"):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("no camkor1 text within 5 minutes of federate.yml's start")
        first_text = time.monotonic() - started
        answer = re.search(r"seller's answers: ([^\"]*?s)(?:\"|$)", out, re.M)
        return federated, first_text, answer.group(1) if answer else "?"
    finally:
        lab.playbook("playbooks/lab_down.yml", check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--block-times", default=",".join(str(b) for b in BLOCK_TIMES))
    parser.add_argument("--write", default="")
    args = parser.parse_args()
    rows = []
    for block_time in (int(b) for b in args.block_times.split(",")):
        with tempfile.TemporaryDirectory(prefix="federation-bench-") as workdir:
            federated, first_text, answer = measure(block_time, workdir)
        before = BEFORE.get(block_time)
        rows.append("| %d s | %.1f s | **%.1f s** | %s | %s |" % (
            block_time, federated, first_text, answer, "%.1f s" % before if before else "-"))
    body = "\n".join([
        "Federation time as a user of provider A sees it: start of A's `federate.yml` (A's inventory only, run "
        "through `bin/org-run provider_a`) to the first camkor1 text stored in A's Repository in Italy, with "
        "provider B's own agent accepting the request by itself. One lab per block time (`anvil --block-time`, "
        "default gas limit). *Seller's answer*: the request's wait as `reserve.yml` reports it. *Before*: the "
        "single-controller flow this replaced (A ran B's accept itself), measured earlier on this machine.",
        "",
        "| block time | federate.yml | to the first camkor1 text | seller's answer | before (one controller) |",
        "|---:|---:|---:|---|---:|",
    ] + rows)
    publish(body, "# Federation time, two organizations", Path(args.write) if args.write else None)


if __name__ == "__main__":
    main()
