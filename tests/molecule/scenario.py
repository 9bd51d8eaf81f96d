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


def _run(scenario, *args, timeout, env=None):
    return subprocess.run([_molecule(), *args, "-s", scenario], cwd=ROOT, env=env or _env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)


def run_scenario(scenario, timeout, keep=False, env=None):
    """`molecule test -s scenario`; fails unless every step ran and succeeded. Returns the output.

    keep=True runs it with `--destroy never`, so more tests can use the scenario's lab; they end with
    destroy_scenario()."""
    if os.geteuid() != 0:
        pytest.fail("the molecule labs need root (network namespaces, mounts); CI runs as root")
    args = ("test", "--destroy", "never") if keep else ("test",)
    try:
        proc = _run(scenario, *args, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        _run(scenario, "destroy", timeout=300, env=env)  # never leave the scenario's lab behind
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
    # With keep, molecule lists destroy as an action it skipped on request (not counted as successful).
    assert not keep or re.search(r"\[%s (➜|>) destroy\] Skipping, '--destroy=never' requested" % scenario, out), (
        out[-3000:])
    successful = len(STEPS) - (1 if keep else 0)
    assert re.search(r"^%s\s+: actions=%d\s+successful=%d\s.*\sfailed=0$" % (scenario, len(STEPS), successful),
                     out, re.M), out[-3000:]
    return out


def destroy_scenario(scenario, env=None, timeout=300):
    """`molecule destroy -s scenario` after run_scenario(keep=True); fails unless it succeeded."""
    proc = _run(scenario, "destroy", timeout=timeout, env=env)
    assert proc.returncode == 0 and re.search(r"^%s (➜|>) destroy: Executed: Successful$" % scenario, proc.stdout,
                                              re.M), "molecule destroy -s %s failed:\n%s" % (scenario,
                                                                                           proc.stdout[-6000:])
