"""The wireguard role end to end: `molecule test -s wireguard` against a throwaway namespace lab.

The scenario (molecule/wireguard) builds its own three hosts (namespaces wgt-*, never the main lab's
fog-*), joins a hub and two members with real WireGuard (wireguard-go), checks idempotence, pings
through the overlay, checks the refusals, lets one member leave, and removes the lab.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SCENARIO = "wireguard"
TIMEOUT = 900  # seconds; a normal run takes a few minutes

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the molecule lab needs root (network namespaces, mounts)"
)


def _molecule_env():
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    # molecule runs its playbooks with its own generated ansible.cfg; this one serves its startup checks.
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "collections")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PY_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    env.pop("MOLECULE_PROJECT_DIRECTORY", None)
    return env


def _molecule():
    for candidate in (VENV_BIN / "molecule", ROOT / ".venv" / "bin" / "molecule"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("molecule")
    if not found:
        pytest.fail("molecule is not installed: add molecule==26.10.0 to requirements.txt and run `make setup`.")
    return found


def _run(*args, timeout):
    return subprocess.run(
        [_molecule(), *args, "-s", SCENARIO], cwd=ROOT, env=_molecule_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )


def test_molecule_wireguard():
    try:
        proc = _run("test", timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        _run("destroy", timeout=300)  # never leave the wgt lab behind
        out = exc.output or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        pytest.fail("molecule test -s %s timed out after %d s:\n%s" % (SCENARIO, TIMEOUT, out[-6000:]))
    assert proc.returncode == 0, "molecule test -s %s failed (exit %d):\n%s" % (
        SCENARIO, proc.returncode, proc.stdout[-12000:])
    # Every step of the sequence ran and succeeded (a scenario that silently skipped its checks would pass).
    # (molecule prints "➜" on a terminal and ">" otherwise.)
    for step in ("create", "prepare", "converge", "idempotence", "verify", "destroy"):
        assert re.search(r"^%s (➜|>) %s: Executed: Successful$" % (SCENARIO, step), proc.stdout, re.M), (
            "step %s did not run successfully:\n%s" % (step, proc.stdout[-6000:]))
    # Stale state from an interrupted run makes molecule skip create/prepare against an old lab.
    assert "Skipping, instances already" not in proc.stdout, (
        "molecule skipped create/prepare (stale state): run `molecule destroy -s %s` and retry." % SCENARIO)
    assert re.search(r"^%s\s+: actions=6\s+successful=6\s.*\sfailed=0$" % SCENARIO, proc.stdout, re.M), (
        proc.stdout[-3000:])
