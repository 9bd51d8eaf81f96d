"""A lab of its own for the tests: other namespace prefix, chain port and state dir than the demo's."""
import contextlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.chain import free_port

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "fogt"


ORGS = ("provider_a", "provider_b")


class Lab:
    """The lab's two organizations each have their own inventory (a copy of inventories/lab/provider_a|b); the lab
    operator (lab_up, lab_down) runs with both, an organization's playbooks run with its own only and through
    bin/org-run, which hides the other organization's secrets."""

    def __init__(self, workdir, prefix=PREFIX):
        self.prefix = prefix
        self.dir = Path(workdir)
        self.inventory = self.dir / "inventory"
        shutil.copytree(ROOT / "inventories" / "lab", self.inventory,
                        ignore=shutil.ignore_patterns("rented.reb.yml"))
        self.state = self.dir / "state"
        self.anvil_port = free_port()
        self.extra = {"lab_root": str(ROOT), "lab_dir": str(self.state), "lab_prefix": prefix,
                      "anvil_port": self.anvil_port}

    def org_inventory(self, org):
        return self.inventory / org

    def playbook(self, name, *args, check=True, org=None, timeout=900):
        """Run a playbook of the repo against this lab, as the operator (org None) or as one organization;
        returns (rc, recap, output)."""
        inventories = ORGS if org is None else (org,)
        cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook")]
        for inventory in inventories:
            cmd += ["-i", str(self.org_inventory(inventory))]
        cmd += [str(ROOT / name), "-e", json.dumps(self.extra)] + list(args)
        out = self.run(cmd, org=org, timeout=timeout)
        text = out.stdout + out.stderr
        if check and out.returncode != 0:
            raise AssertionError("%s failed (rc %d):\n%s" % (name, out.returncode, text[-6000:]))
        return out.returncode, recap(text), text

    def run(self, cmd, org=None, timeout=900):
        """A command as the operator, or as `org` sees the machine (bin/org-run)."""
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", PATH=str(ROOT / ".venv" / "bin") + os.pathsep + os.environ["PATH"])
        if org is not None:
            cmd = [str(ROOT / "bin" / "org-run"), org, "--lab-dir", str(self.state), "--"] + list(cmd)
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)

    def accounts(self):
        """The lab wallets' addresses (public): {deployer, provider_a, provider_b}."""
        return yaml.safe_load((self.state / "public" / "accounts.yml").read_text())

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
