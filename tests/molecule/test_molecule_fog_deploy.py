"""The fog_deploy role end to end: `molecule test -s fog_deploy` against a throwaway namespace lab.

The scenario (molecule/fog_deploy) builds its own two hosts (namespaces fdt-* on 198.18.2.0/24, never the
main lab's fog-*, the tests' fogt-* or wireguard's wgt-*), starts the camera cam9 on edge, places simple_ocr
with decenter.fog.fog_placement and deploys it (Repository and Webserver on cloud, the Processor on edge),
checks idempotence, the supervised services and their 0600 specs, OCR text of cam9 in the Webserver, the
restart of a killed process, the restart of exactly the service whose environment changed, the app leaving
edge (twice: the second run changes nothing), and removes the lab. Here: the generated Repository password
appears nowhere in molecule's output.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SCENARIO = "fog_deploy"
TIMEOUT = 600  # seconds; a normal run takes about two minutes

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


def _password_leaks(out):
    """Words of the output that are the Repository password (verify.yml prints only its SHA-256)."""
    digests = set(re.findall(r"fdt-repository-password-sha256=([0-9a-f]{64})", out))
    assert len(digests) == 1, "verify.yml did not print the password's digest once: %s" % sorted(digests)
    digest = digests.pop()
    # Every 32-character window of every run of letters and digits (the password's alphabet and length).
    windows = set(re.findall(r"(?=([A-Za-z0-9]{32}))", out))
    return [w for w in windows if hashlib.sha256(w.encode()).hexdigest() == digest]


def test_molecule_fog_deploy():
    try:
        proc = _run("test", timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        _run("destroy", timeout=300)  # never leave the fdt lab behind
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
    # The specs are written with no_log: neither the password nor a Repository URL with it is ever shown.
    assert not re.search(r"redis://:[^@\s\"']+@", proc.stdout), "a Repository URL with its password was printed"
    assert _password_leaks(proc.stdout) == [], "the Repository password appears in molecule's output"
