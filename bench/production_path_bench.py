"""Federation time on the production path: the switches tests/production_paths uses (fog_overlay zerotier, fog_target
kubernetes), in the lab, against the stand-ins that play the self-hosted ZeroTier controller and the Kubernetes API on
CLOUD (tests/production_paths/standins.yml: HTTP servers that speak the documented APIs, no real controller or
kube-apiserver can run here) and `kubeadm` on the rented node.

- federate.yml: A's federate.yml (A's inventory only, through bin/org-run provider_a): reserve, ZeroTier join,
  kubeadm join, Deployments applied;
- rerun: federate.yml once more, which must change nothing (changed=0 is asserted), twice (the table gives both);
- release.yml: A's release of the rental (drain, Node deleted, reset, ZeroTier member deauthorized, chain release).

Under the table, the slowest tasks of the first rerun (ansible.posix.profile_tasks). Needs root and the lab lock:

    flock /tmp/fog-lab.lock env PYTHONPATH=. .venv/bin/python bench/production_path_bench.py --write bench/production_path.md
"""
import argparse
import shutil
import tempfile
from pathlib import Path

from bench.federation_bench import TOP, load, profile, timed
from bench.made_by import publish
from tests.support.lab import Lab, changed

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "tests" / "production_paths"
PREFIX = "fogq"


def measure(block_time, workdir):
    lab = Lab(workdir, prefix=PREFIX)
    lab.extra["anvil_block_time"] = block_time
    production = ("-e", "@" + str(HERE / "vars.yml"))
    row = {"load": load()}
    try:
        lab.playbook("playbooks/lab_up.yml")
        shutil.copy(HERE / "control_plane.yml", lab.org_inventory("provider_a") / "control_plane.yml")
        lab.playbook(str(HERE / "standins.yml"), *production)
        buyer = ProductionLab(lab, production)
        row["federate"], _, _, _ = timed(buyer, "federate.yml", profiled=False)
        row["reruns"] = []
        for attempt in range(2):
            seconds, result, out, _ = timed(buyer, "federate.yml", profiled=attempt == 0)
            if changed(result) != 0:
                raise AssertionError("the rerun of federate.yml changed something: %s\n%s" % (result, out[-4000:]))
            row["reruns"].append(seconds)
            if attempt == 0:
                row["profile"] = profile(out)
        row["release"], _, _, _ = timed(buyer, "playbooks/release.yml", profiled=False)
        return row
    finally:
        lab.playbook("playbooks/lab_down.yml", check=False)


class ProductionLab:
    """The lab, with the production switches (tests/production_paths/vars.yml) on every playbook run."""

    def __init__(self, lab, args):
        self.lab, self.args = lab, tuple(args)

    def playbook(self, name, *args, **kwargs):
        return self.lab.playbook(name, *(self.args + args), **kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--block-time", type=int, default=1, help="anvil block time in seconds (default 1)")
    parser.add_argument("--write", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="production-path-bench-") as workdir:
        row = measure(args.block_time, workdir)
    body = "\n".join([
        "The production path as a user of provider A sees it: A's `federate.yml` with fog_overlay zerotier and "
        "fog_target kubernetes (tests/production_paths/vars.yml), against the ZeroTier controller and Kubernetes API "
        "stand-ins on CLOUD (HTTP servers speaking the documented APIs) and the `kubeadm` stand-in on the rented node; "
        "provider B's agent accepts by itself. One lab, anvil block time %d s. *Rerun*: federate.yml again, asserted "
        "to change nothing, twice. *Load*: the 1-minute load average as the lab was built (2 cores, shared)."
        % args.block_time,
        "",
        "| federate.yml | rerun (changed=0) | rerun again | release.yml | load |",
        "|---:|---:|---:|---:|---:|",
        "| %.1f s | %.1f s | %.1f s | %.1f s | %.1f |" % (row["federate"], row["reruns"][0], row["reruns"][1],
                                                     row["release"], row["load"]),
        "",
        "Slowest tasks of the first rerun (`ansible.posix.profile_tasks` added to the callbacks ansible.cfg enables):",
        "",
        "| task | seconds |",
        "|---|---:|",
    ] + ["| %s | %.2f |" % (task.replace("|", "\\|"), seconds) for seconds, task in row["profile"][:TOP]])
    publish(body, "# Federation time on the production path (ZeroTier, Kubernetes)",
            Path(args.write) if args.write else None)


if __name__ == "__main__":
    main()
