"""Paths and runners shared by the quality gates (lint, sanity, build, docs, AWX, execution environment)."""
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "collections" / "ansible_collections" / "decenter" / "fog"
VENV_BIN = Path(sys.executable).parent


def tool(name):
    """Path of a console script of this venv (ansible-lint, ansible-test, ...)."""
    for candidate in (VENV_BIN / name, ROOT / ".venv" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    raise AssertionError("%s is not installed in the venv: run `make setup`." % name)


def env():
    e = dict(os.environ)
    e["PATH"] = os.pathsep.join([str(VENV_BIN), str(ROOT / ".venv" / "bin"), e.get("PATH", "")])
    e["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    e["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "collections")
    e.update(ANSIBLE_FORCE_COLOR="0", PY_COLORS="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1")
    return e


def run(argv, cwd=ROOT, timeout=900, extra_env=None):
    """Run a command; returns (CompletedProcess, seconds). Bounded by timeout."""
    e = env()
    e.update(extra_env or {})
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=str(cwd), env=e, capture_output=True, text=True, timeout=timeout, check=False)
    return proc, time.monotonic() - start


def collection_files():
    """The collection's files as git sees them (tracked, plus new files not ignored): what a build ships."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", "."], cwd=str(COLLECTION),
                         capture_output=True, text=True, check=True).stdout.split("\n")
    return [f for f in out if f and (COLLECTION / f).is_file()]


def plugin_names(kind):
    """Names of the collection's plugins of one kind (modules, inventory, filter, ...), from the file tree."""
    folder = COLLECTION / "plugins" / kind
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__") if folder.is_dir() else []


def role_names():
    return sorted(p.name for p in (COLLECTION / "roles").iterdir() if (p / "tasks").is_dir())


def report_time(gate, seconds):
    """Gate durations, shown with `pytest -s` (measured, never asserted)."""
    print("%-28s %6.1f s" % (gate, seconds))
