"""Federation time as a user of provider A sees it, with provider B's own agent in the loop, at several anvil block
times (`anvil --block-time`, the lab's anvil_block_time), in a fresh lab each:

- federate.yml: A's federate.yml (A's inventory only, through bin/org-run provider_a), start to end;
- first camkor1 text: from the same start to the first camkor1 text stored in A's Repository in Italy;
- rerun: federate.yml once more, which must change nothing (changed=0 is asserted);
- release.yml: A's release of the rental.

The table gives the machine's load average as each run starts, and under it the slowest tasks of one run's first
federate.yml and of its rerun (ansible.posix.profile_tasks; the 1 s run when it is measured).

Real parts only: one lab per block time (playbooks/lab_up.yml: anvil on its default gas limit, four namespace hosts,
B's agent started as B and publishing B's offers), A's federate.yml, B's agent accepting by itself, WireGuard, the
Processor on SEOUL-KETI reading camkor1 and storing into Redis on CLOUD. Needs root and the lab lock:

    flock /tmp/fog-lab.lock env PYTHONPATH=. .venv/bin/python bench/federation_bench.py --write bench/federation.md
    flock /tmp/fog-lab.lock env PYTHONPATH=. .venv/bin/python bench/federation_bench.py --block-times 1   # quick
"""
import argparse
import configparser
import os
import re
import tempfile
import time
from pathlib import Path

from bench.made_by import publish
from tests.support.lab import Lab, changed
from tests.lab.test_federate import texts

BLOCK_TIMES = (0, 1, 5)
PREFIX = "fogb"
PROFILED = 1  # the block time whose first federate.yml is profiled (else the first one measured)
TOP = 10
# Goals of issue 17 (seconds): federation (to the first text) per block time, a rerun, release.yml at 1 s blocks.
GOALS = {"first": {0: 8, 1: 12, 5: 18}, "rerun": 5, "release": {1: 6}}
# Issue 17's starting point (one controller, before the two organizations were split): federate, first text,
# rerun, release.
BEFORE = {0: (25.6, 25.7, 15.7, 9.1), 1: (27.2, 27.3, 23.5, 12.6), 5: (35.3, 35.3, 23.1, 25.5)}


def configured_callbacks():
    """The callbacks the repository's ansible.cfg enables (decenter.fog.gc_freeze): a profiled run keeps them."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(Path(__file__).resolve().parents[1] / "ansible.cfg")
    return [c.strip() for c in cfg.get("defaults", "callbacks_enabled", fallback="").split(",") if c.strip()]


CONFIGURED_CALLBACKS = configured_callbacks()
PROFILE_LINE = re.compile(r"^(\S.*?) -{3,} (\d+\.\d+)s\s*$", re.M)


def load():
    return os.getloadavg()[0]


def profile(out):
    """[(seconds, task)] of profile_tasks' summary, slowest first."""
    found = [(float(s), t.strip()) for t, s in PROFILE_LINE.findall(out.split("PLAY RECAP")[-1])]
    return sorted(found, reverse=True)


def timed(lab, name, profiled=False, buyer_env=None):
    """One of A's playbooks, timed; profiled: with profile_tasks; buyer_env: more environment for this run only."""
    env = dict(buyer_env or {})
    if profiled:
        # Added to the callbacks ansible.cfg enables (decenter.fog.gc_freeze), not instead of them: the run measured
        # is the one users get.
        env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(CONFIGURED_CALLBACKS + ["ansible.posix.profile_tasks"])
        env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "all"  # the table keeps the TOP slowest; --outputs keeps all
    started = time.monotonic()
    _, result, out = lab.playbook(name, org="provider_a", env=env)  # not os.environ: the runner drops ANSIBLE_*
    return time.monotonic() - started, result, out, started


def keep(outputs, block_time, name, out):
    """With --outputs DIR: the playbook's whole output (its full task profile at the end) as DIR/<block>s-<name>.log."""
    if outputs:
        Path(outputs).mkdir(parents=True, exist_ok=True)
        (Path(outputs) / ("%ds-%s.log" % (block_time, name))).write_text(out)


def measure(block_time, workdir, profiled, outputs="", buyer_env=None):
    """{load, federate, first, answer, rerun, release, profile} for one block time, in a lab of its own."""
    lab = Lab(workdir, prefix=PREFIX)
    lab.extra["anvil_block_time"] = block_time
    row = {"load": load()}
    try:
        lab.playbook("playbooks/lab_up.yml")
        row["federate"], _, out, started = timed(lab, "federate.yml", profiled, buyer_env)
        keep(outputs, block_time, "federate", out)
        for _ in range(3000):  # bounded: 5 minutes; a look every 0.1 s, so the time is seen within about 0.15 s
            if texts(lab, "camkor1"):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("no camkor1 text within 5 minutes of federate.yml's start")
        row["first"] = time.monotonic() - started
        answer = re.search(r"seller's answers: ([^\"]*?s)(?:\"|$)", out, re.M)
        row["answer"] = answer.group(1) if answer else "?"
        row["profile"] = profile(out) if profiled else []
        row["rerun"], result, out, _ = timed(lab, "federate.yml", profiled, buyer_env)
        row["rerun_profile"] = profile(out) if profiled else []
        keep(outputs, block_time, "rerun", out)
        if changed(result) != 0:
            raise AssertionError("the rerun of federate.yml changed something: %s\n%s" % (result, out[-4000:]))
        row["release"], _, out, _ = timed(lab, "playbooks/release.yml", profiled, buyer_env)
        keep(outputs, block_time, "release", out)
        return row
    finally:
        lab.playbook("playbooks/lab_down.yml", check=False)


def cell(seconds, goal=None, bold=False):
    number = ("**%.1f s**" if bold else "%.1f s") % seconds
    if goal is None:
        return number
    return "%s (goal %d s: %s)" % (number, goal, "met" if seconds <= goal else "missed")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--block-times", default=",".join(str(b) for b in BLOCK_TIMES),
                        help="comma-separated anvil block times in seconds (default 0,1,5)")
    parser.add_argument("--write", default="")
    parser.add_argument("--outputs", default="",
                        help="directory to keep each playbook's whole output in (with its full task profile)")
    parser.add_argument("--buyer-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment of A's federate.yml and release.yml runs only (not the lab's nor B's agent), "
                             "e.g. ANSIBLE_STRATEGY=linear to compare with the strategy ansible.cfg sets; repeatable")
    args = parser.parse_args()
    buyer_env = dict(item.split("=", 1) for item in args.buyer_env)
    block_times = [int(b) for b in args.block_times.split(",")]
    profiled = PROFILED if PROFILED in block_times else block_times[0]
    rows, top, rerun_top = [], [], []
    for block_time in block_times:
        with tempfile.TemporaryDirectory(prefix="federation-bench-") as workdir:
            row = measure(block_time, workdir, block_time == profiled, args.outputs, buyer_env)
        if row["profile"]:
            top, rerun_top = row["profile"][:TOP], row["rerun_profile"][:TOP]
        before = BEFORE.get(block_time)
        rows.append("| %d s | %s | %s | %s | %s | %s | %.1f | %s |" % (
            block_time, cell(row["federate"]), cell(row["first"], GOALS["first"].get(block_time), bold=True),
            cell(row["rerun"], GOALS["rerun"]), cell(row["release"], GOALS["release"].get(block_time)),
            row["answer"], row["load"], " / ".join("%.1f" % b for b in before) if before else "-"))
    body = "\n".join([
        "Federation time as a user of provider A sees it: start of A's `federate.yml` (A's inventory only, run "
        "through `bin/org-run provider_a`) to the first camkor1 text stored in A's Repository in Italy, with "
        "provider B's own agent accepting the request by itself. One lab per block time (`anvil --block-time`, "
        "default gas limit). *Rerun*: federate.yml once more, asserted to change nothing (changed=0). *Release*: "
        "A's release.yml. *Seller's answer*: the request's wait as `reserve.yml` reports it. *Load*: the machine's "
        "1-minute load average as the run started (2 cores; other work may share them). *Issue 17*: federate / "
        "first text / rerun / release when issue 17 was filed (one controller).",
        "",
        "| block time | federate.yml | to the first camkor1 text | rerun (changed=0) | release.yml | seller's answer "
        "| load | issue 17 |",
        "|---:|---:|---:|---:|---:|---|---:|---|",
    ] + rows + [
        "",
        "Slowest tasks of the %d s run's first federate.yml (`ansible.posix.profile_tasks`, added to the callbacks "
        "ansible.cfg enables):" % profiled,
        "",
        "| task | seconds |",
        "|---|---:|",
    ] + ["| %s | %.2f |" % (task.replace("|", "\\|"), seconds) for seconds, task in top] + [
        "",
        "Slowest tasks of its rerun (changed=0):",
        "",
        "| task | seconds |",
        "|---|---:|",
    ] + ["| %s | %.2f |" % (task.replace("|", "\\|"), seconds) for seconds, task in rerun_top])
    publish(body, "# Federation time, two organizations", Path(args.write) if args.write else None)


if __name__ == "__main__":
    main()
