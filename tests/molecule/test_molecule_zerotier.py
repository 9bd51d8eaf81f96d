"""The zerotier role end to end: `molecule test -s zerotier` against a throwaway namespace lab.

The scenario (molecule/zerotier) builds its own three hosts (namespaces ztt-* on 198.18.3.0/24, never the main
lab's fog-*), starts HTTP stand-ins of the ZeroTier APIs in them (a self-hosted controller on `controller`, the
zerotier-one service API on each node; no ZeroTier software can run here), joins node1 and node2 with the role
over SSH, checks idempotence, the members authorized with their IPs on the controller and the networks OK with
those IPs on the nodes, a rejected token, node2 leaving (twice: the second changes nothing), and removes the
lab. Here: no token appears in molecule's output, and nothing of the lab is left.
"""
import hashlib
import os
import re
import subprocess

from tests.molecule.scenario import run_scenario

LAB_DIR = "/tmp/decenter-fog-ztt"


def _token_leaks(out):
    """Words of the output that are one of the lab's tokens (verify.yml prints only their SHA-256)."""
    digests = set(re.findall(r"ztt-token-sha256=([0-9a-f]{64})", out))
    assert len(digests) == 3, "verify.yml did not print three token digests: %s" % sorted(digests)
    # Every 24- and 32-character window of every run of letters and digits (the tokens' alphabet and lengths).
    windows = set(re.findall(r"(?=([A-Za-z0-9]{24}))", out)) | set(re.findall(r"(?=([A-Za-z0-9]{32}))", out))
    return [w for w in windows if hashlib.sha256(w.encode()).hexdigest() in digests]


def _leftovers():
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    left = [line.split()[0] for line in namespaces.splitlines() if line.startswith("ztt-")]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "zerotier_stand_in" in cmd and LAB_DIR in cmd:
                left.append("process %s: %s" % (pid, cmd))
    if os.path.exists(LAB_DIR):
        left.append(LAB_DIR)
    return left


def test_molecule_zerotier():
    out = run_scenario("zerotier", timeout=900)
    assert _token_leaks(out) == [], "a ZeroTier token appears in molecule's output"
    assert _leftovers() == [], "destroy left parts of the ztt lab behind"
