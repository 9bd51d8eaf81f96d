"""A lab of its own for the tests: other namespace prefix, chain port and state dir than the demo's."""
import contextlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.chain import free_port

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "fogt"


class Lab:
    def __init__(self, workdir, prefix=PREFIX):
        self.prefix = prefix
        self.dir = Path(workdir)
        self.inventory = self.dir / "inventory"
        shutil.copytree(ROOT / "inventories" / "lab", self.inventory,
                        ignore=shutil.ignore_patterns("rented.reb.yml"))
        self.anvil_port = free_port()
        self.extra = {"lab_root": str(ROOT), "lab_dir": str(self.dir / "state"), "lab_prefix": prefix,
                      "anvil_port": self.anvil_port}

    def playbook(self, name, *args, check=True):
        """Run a playbook of the repo against this lab; returns (rc, recap, output)."""
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", PATH=str(ROOT / ".venv" / "bin") + os.pathsep + os.environ["PATH"])
        cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(self.inventory),
               str(ROOT / name), "-e", json.dumps(self.extra)] + list(args)
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        text = out.stdout + out.stderr
        if check and out.returncode != 0:
            raise AssertionError("%s failed (rc %d):\n%s" % (name, out.returncode, text[-6000:]))
        return out.returncode, recap(text), text

    def netns(self, host, *cmd, timeout=20):
        return subprocess.run(["ip", "netns", "exec", "%s-%s" % (self.prefix, host)] + list(cmd),
                              capture_output=True, text=True, timeout=timeout)


def recap(text):
    """{host: {ok, changed, failed, ...}} from the PLAY RECAP."""
    hosts = {}
    for match in re.finditer(r"^(\S+)\s+: ((?:\w+=\d+\s*)+)$", text.split("PLAY RECAP")[-1], re.M):
        hosts[match.group(1)] = dict((k, int(v)) for k, v in (c.split("=") for c in match.group(2).split()))
    return hosts


def changed(recap_):
    return sum(h.get("changed", 0) for h in recap_.values())


@contextlib.contextmanager
def running_lab(tmp_path_factory, prefix=PREFIX, *then):
    """A lab built by lab_up (then the playbooks `then`, each a playbook path or (path, *args)), always removed."""
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces); CI runs as root")
    lab = Lab(tmp_path_factory.mktemp("lab"), prefix=prefix)
    try:
        lab.playbook("playbooks/lab_up.yml")
        for step in then:
            step = (step,) if isinstance(step, str) else step
            lab.playbook(*step)
        yield lab
    finally:
        lab.playbook("playbooks/lab_down.yml", check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(tmp_path_factory) as built:
        yield built
