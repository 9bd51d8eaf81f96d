"""Helpers of the REB module integration tests: real `ansible-playbook` processes against the
session's real anvil, one fresh REB (deployed through decenter.fog.reb_contract) per test module.

Keys are never written into playbooks: they are read from `anvil.keys()` at run time and handed
to ansible the way a user would, through a vars file (`-e @file`), `-e` or DECENTER_REB_PRIVATE_KEY.
"""
import subprocess
import textwrap
from pathlib import Path

import pytest
from eth_account import Account

from tests.support.chain import CHAIN_ID, artifact
from tests.support.playbook_run import run_playbook as support_run_playbook

ROOT = Path(__file__).resolve().parents[2]

# Roles of anvil's funded accounts in these tests.
DEPLOYER, A, B, C = 0, 1, 2, 3  # A: provider A / buyer; B: provider B / seller; C: a third party
HOST = "localhost"

# Chain options for every REB module of a play, as a user sets them once (meta/runtime.yml group).
MODULE_DEFAULTS = """\
  module_defaults:
    group/decenter.fog.reb:
      rpc_url: "{{ rpc_url }}"
      chain_id: %d
      contract_address: "{{ reb_address }}"
""" % CHAIN_ID

DEPLOY_PLAYBOOK = """\
- name: Deploy the REB once; a rerun with the recorded address only verifies it
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Deploy the REB
      decenter.fog.reb_contract:
        contract_address: "{{ reb_contract_address | default(omit) }}"
        accept_window: "{{ accept_window | default(3600) }}"
        private_key: "{{ deployer_key }}"
      register: reb
"""


def play(tasks, name="REB test play"):
    """A one-play playbook on localhost with the REB module defaults; `tasks` is YAML text."""
    return ("- name: %s\n  hosts: localhost\n  gather_facts: false\n" % name + MODULE_DEFAULTS
            + "  tasks:\n" + textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ") + "\n")


def run_playbook(playbook_text, extra_env=None, extra_vars=None, args=(), callback="ansible.posix.json",
                 secrets=()):
    """Run `playbook_text` on localhost with tests.support.playbook_run.run_playbook; returns a PlaybookRun.

    `extra_vars` go through a vars file (-e @file), as a user passes Vault-kept keys. Every run is
    checked for what must never show: a Python traceback, or any of `secrets` (with or without 0x).
    """
    return support_run_playbook(playbook_text, extra_vars=extra_vars, env=extra_env, args=args, callback=callback,
                                secrets=secrets)


class Reb(object):
    """A REB deployed through reb_contract on the session's anvil, with the accounts that use it."""

    def __init__(self, anvil, address):
        self.anvil = anvil
        self.w3 = anvil.w3
        self.url = anvil.url
        self.address = address
        self.keys = anvil.keys()
        self.accounts = [Account.from_key(k).address for k in self.keys]
        self.contract = self.w3.eth.contract(address=address, abi=artifact()["abi"])

    def vars(self, **extra):
        """Play vars: chain options and the role keys A, B, C, deployer."""
        v = dict(rpc_url=self.url, reb_address=self.address, key_deployer=self.keys[DEPLOYER], key_a=self.keys[A],
                 key_b=self.keys[B], key_c=self.keys[C], addr_a=self.accounts[A], addr_b=self.accounts[B],
                 addr_c=self.accounts[C])
        v.update(extra)
        return v

    def run(self, playbook_text, extra_vars=None, **kwargs):
        kwargs.setdefault("secrets", self.keys)
        return run_playbook(playbook_text, extra_vars=self.vars(**(extra_vars or {})), **kwargs)

    def nonces(self, *addresses):
        addresses = addresses or tuple(self.accounts)
        return dict((a, self.w3.eth.get_transaction_count(a)) for a in addresses)

    def balances(self, *addresses):
        addresses = addresses or tuple(self.accounts)
        return dict((a, self.w3.eth.get_balance(a)) for a in addresses)

    def offer_count(self):
        return self.contract.functions.offerCount().call()

    def reservation_count(self):
        return self.contract.functions.reservationCount().call()

    def owed(self, address):
        return self.contract.functions.owed(address).call()

    def now(self):
        return self.w3.eth.get_block("latest")["timestamp"]

    def travel(self, seconds):
        """Let `seconds` of chain time pass and mine a block (anvil's evm_increaseTime + evm_mine)."""
        self.w3.provider.make_request("evm_increaseTime", [int(seconds)])
        self.w3.provider.make_request("evm_mine", [])


def deploy(anvil, accept_window=3600):
    """A fresh REB deployed by key 0 through decenter.fog.reb_contract; returns its address."""
    run = run_playbook(DEPLOY_PLAYBOOK, extra_env={"DECENTER_REB_RPC_URL": anvil.url},
                       extra_vars={"deployer_key": anvil.keys()[DEPLOYER], "accept_window": accept_window},
                       secrets=anvil.keys())
    assert run.rc == 0, run
    result = run.task("Deploy the REB")
    assert result["changed"] is True and result["chain_id"] == CHAIN_ID, result
    return result["contract_address"]


@pytest.fixture(scope="module")
def reb(anvil):
    """A fresh REB per test module, so test modules never depend on each other."""
    return Reb(anvil, deploy(anvil))


@pytest.fixture(scope="session")
def ssh_material(tmp_path_factory):
    """A real Ed25519 SSH host key (its OpenSSH SHA256 fingerprint) and a buyer provisioning key."""
    d = tmp_path_factory.mktemp("ssh")
    out = {}
    for name in ("host", "buyer"):
        key = d / ("%s_ed25519" % name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "%s@reb-test" % name, "-f", str(key)],
                       check=True, capture_output=True)
        out[name + "_public_key"] = (d / ("%s_ed25519.pub" % name)).read_text().strip()
        line = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(key) + ".pub"], check=True,
                              capture_output=True, text=True).stdout.split()
        assert line[1].startswith("SHA256:"), line
        out[name + "_fingerprint"] = line[1]
    return out
