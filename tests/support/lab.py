"""The tests' lab: other namespace prefix, chain port and state dir than the demo's. The test files that federate
on it share one (SharedLab): they take turns, each handing the next a lab with nothing rented and nothing pending."""
import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from web3 import Web3

from tests.support.chain import artifact, free_port
from tests.support.playbook_run import run_playbook, started_playbook
from tests.support.process import cmdline, descendants, running

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

    def w3(self):
        return Web3(Web3.HTTPProvider("http://127.0.0.1:%d" % self.anvil_port))

    def reb(self):
        """The lab's REB contract, from the address lab_up published and the repository's artifact."""
        address = yaml.safe_load((self.state / "public" / "reb.yml").read_text())["reb_contract_address"]
        return self.w3().eth.contract(address=address, abi=artifact()["abi"])

    def netns(self, host, *cmd, timeout=20):
        return subprocess.run(["ip", "netns", "exec", "%s-%s" % (self.prefix, host)] + list(cmd),
                              capture_output=True, text=True, timeout=timeout)


def changed(recap_):
    return sum(h.get("changed", 0) for h in recap_.values())


def new_lab(tmp_path_factory):
    """A lab built by lab_up; the caller takes it down (lab_down) whatever happens."""
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces); CI runs as root")
    lab = Lab(tmp_path_factory.mktemp("lab"))
    try:
        lab.playbook("playbooks/lab_up.yml")
    except BaseException:
        lab.playbook("playbooks/lab_down.yml", check=False)
        raise
    return lab


# Reservation states (contracts/ResourceExchangeBroker.sol, ReservationState) that hold a node or escrow.
LIVE_RESERVATION = (1, 2)  # Requested, Accepted


class SharedLab:
    """One lab for the test files that federate on it (pytest-xdist group "lab": one worker, one file after the
    other; tests/conftest.py orders them). lab_up runs once; each file's turn() starts from lab_up's state plus the
    history of the turns before it (earlier reservations, A's provisioning key), and hands the next a lab with
    nothing rented and nothing pending: release.yml as A if anything is, and a lab that cannot be brought there
    is taken down so that the next turn builds a new one."""

    def __init__(self, tmp_path_factory):
        self.factory = tmp_path_factory
        self.lab = None

    def current(self):
        """The lab, built (lab_up) if there is none."""
        if self.lab is None:
            self.lab = new_lab(self.factory)
        return self.lab

    @contextlib.contextmanager
    def turn(self):
        """The lab for one file's tests, handed back settled (or taken down) at the end."""
        try:
            yield self.current()
        finally:
            if self.lab is not None and not self.handed_back():
                self.down()

    def handed_back(self):
        """Nothing rented and nothing pending for A (after a release.yml as A if needed), and B's agent running and
        done with what the turn woke it for."""
        if not self.settled():
            rc, _, out = self.lab.playbook("playbooks/release.yml", check=False, org="provider_a")
            if rc != 0:
                print("the lab is taken down: release.yml as A failed at the end of a turn:\n" + out[-3000:])
                return False
        return self.settled() and self.seller_idle()

    def seller_idle(self, looks=5, timeout=120):
        """B's agent is alive and runs no playbook, `looks` looks 0.1 s apart (bounded by `timeout` s)."""
        try:
            agent = int((self.lab.state / "orgs" / "provider_b" / "agent" / "agent.pid").read_text())
        except (OSError, ValueError):
            return False
        quiet, deadline = 0, time.monotonic() + timeout
        while running(agent) and time.monotonic() < deadline:
            quiet = 0 if any("ansible-playbook" in cmdline(pid) for pid in descendants(agent)) else quiet + 1
            if quiet >= looks:
                return True
            time.sleep(0.1)
        print("B's agent is gone or still busy at the end of a turn: the lab is taken down")
        return False

    def settled(self):
        pending = self.lab.state / "orgs" / "provider_a" / "pending_cleanup.yml"
        if pending.exists() and yaml.safe_load(pending.read_text()):
            return False
        try:
            reb = self.lab.reb()
            states = [reb.functions.getReservation(i).call()[3]
                      for i in range(1, reb.functions.reservationCount().call() + 1)]
        except Exception as exc:  # noqa: BLE001 - a chain that does not answer is a lab to rebuild
            print("the lab's chain does not answer at the end of a turn: %s" % exc)
            return False
        return not any(state in LIVE_RESERVATION for state in states)

    def down(self):
        """lab_down, and forget the lab."""
        if self.lab is not None:
            self.lab.playbook("playbooks/lab_down.yml", check=False)
        self.forget()

    def forget(self):
        """The lab is gone (or taken down by a test): the next turn builds a new one."""
        self.lab = None
