"""A lab of its own for the tests: other namespace prefix, chain port and state dir than the demo's."""
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.chain import free_port
from tests.support.playbook_run import run_playbook, started_playbook

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

    def inventories(self, org=None):
        """The inventories a run uses: the operator's both, an organization's its own."""
        return [self.org_inventory(o) for o in (ORGS if org is None else (org,))]

    def playbook(self, name, *args, check=True, org=None, timeout=900, env=None):
        """Run a playbook of the repo against this lab (tests/support/playbook_run, default output), as the operator
        (org None, both inventories) or as one organization (its inventory, through bin/org-run); env: more
        environment for this run (the runner drops the caller's ANSIBLE_* variables); returns
        (rc, {host: recap}, output)."""
        run = run_playbook(ROOT / name, inventory=self.inventories(org), extra_vars=self.extra, args=args, callback=None,
                           env=dict(env or {}, PATH=self.path()), wrapper=self.org_run(org), timeout=timeout)
        if check and run.rc != 0:
            raise AssertionError("%s failed (rc %d):\n%s" % (name, run.rc, run.output[-6000:]))
        return run.rc, run.recaps, run.output

    def started(self, name, *args, org=None):
        """The run playbook() would make, started and yielded as a Popen (tests/support/playbook_run.started_playbook):
        for a test that needs two runs at once."""
        return started_playbook(ROOT / name, inventory=self.inventories(org), extra_vars=self.extra, args=args, callback=None,
                                env={"PATH": self.path()}, wrapper=self.org_run(org))

    def org_run(self, org):
        """The command prefix that runs as `org` sees the machine (bin/org-run); none for the operator."""
        return [] if org is None else [str(ROOT / "bin" / "org-run"), org, "--lab-dir", str(self.state), "--"]

    @staticmethod
    def path():
        return str(ROOT / ".venv" / "bin") + os.pathsep + os.environ["PATH"]

    def run(self, cmd, org=None, timeout=900):
        """A command as the operator, or as `org` sees the machine (bin/org-run)."""
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", PATH=self.path())
        return subprocess.run(self.org_run(org) + list(cmd), cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)

    def accounts(self):
        """The lab wallets' addresses (public): {deployer, provider_a, provider_b}."""
        return yaml.safe_load((self.state / "public" / "accounts.yml").read_text())

    def netns(self, host, *cmd, timeout=20):
        return subprocess.run(["ip", "netns", "exec", "%s-%s" % (self.prefix, host)] + list(cmd),
                              capture_output=True, text=True, timeout=timeout)


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
