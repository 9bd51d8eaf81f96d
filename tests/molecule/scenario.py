"""Runs one molecule scenario end to end (`molecule test -s NAME`) and checks every step really ran."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STEPS = ("create", "prepare", "converge", "idempotence", "verify", "destroy")


def _env():
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    # molecule runs its playbooks with its own generated ansible.cfg; this one serves its startup checks.
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "collections")
    env.update(ANSIBLE_FORCE_COLOR="0", PY_COLORS="0", NO_COLOR="1")
    env.pop("MOLECULE_PROJECT_DIRECTORY", None)
    return env


def _molecule():
    for candidate in (VENV_BIN / "molecule", ROOT / ".venv" / "bin" / "molecule"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("molecule")
    if not found:
        pytest.fail("molecule is not installed: run `make setup` (requirements.txt pins it).")
    return found


def _run(scenario, *args, timeout):
    return subprocess.run([_molecule(), *args, "-s", scenario], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def run_scenario(scenario, timeout):
    """`molecule test -s scenario`; fails unless every step ran and succeeded. Returns the output."""
    if os.geteuid() != 0:
        pytest.fail("the molecule labs need root (network namespaces, mounts); CI runs as root")
    try:
        proc = _run(scenario, "test", timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _run(scenario, "destroy", timeout=300)  # never leave the scenario's lab behind
        out = exc.output or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        pytest.fail("molecule test -s %s timed out after %d s:\n%s" % (scenario, timeout, out[-6000:]))
    out = proc.stdout
    assert proc.returncode == 0, "molecule test -s %s failed (exit %d):\n%s" % (scenario, proc.returncode,
                                                                              out[-12000:])
    # Every step ran and succeeded: a scenario that silently skipped its checks would pass otherwise.
    # (molecule prints "➜" on a terminal and ">" otherwise.)
    for step in STEPS:
        assert re.search(r"^%s (➜|>) %s: Executed: Successful$" % (scenario, step), out, re.M), (
            "step %s did not run successfully:\n%s" % (step, out[-6000:]))
    # Stale state from an interrupted run makes molecule skip create/prepare against an old lab.
    assert "Skipping, instances already" not in out, (
        "molecule skipped create/prepare (stale state): run `molecule destroy -s %s` and retry." % scenario)
    assert re.search(r"^%s\s+: actions=6\s+successful=6\s.*\sfailed=0$" % scenario, out, re.M), out[-3000:]
    return out
