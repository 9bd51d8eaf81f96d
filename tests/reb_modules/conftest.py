"""Helpers of the REB module tests against the session's real anvil, one fresh REB per test module.

Two ways to run a module: `Reb.do` calls its SPEC run() in-process with the arguments validated as its action
plugin does (tests/support/reb_inproc.py): the modules' logic. `Reb.run` starts a real `ansible-playbook`: the
wiring (action plugin, reb_* variables, module_defaults, no_log, --check and errors through Ansible); each
module keeps such cases.

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
from tests.support.reb_inproc import run_module

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

    def do(self, module, /, check_mode=False, diff=False, env=None, secrets=(), **args):
        """Module `module` (e.g. "reb_offer") in-process with this REB's chain options (as module_defaults sets
        them) and `args`; returns its result dict, failed=True and msg for an error. See tests/support/reb_inproc."""
        options = dict(rpc_url=self.url, chain_id=CHAIN_ID, contract_address=self.address)
        options.update(args)
        return run_module(module, options, check_mode=check_mode, diff=diff, env=env,
                          secrets=tuple(self.keys) + tuple(secrets))

    def ok(self, module, /, **kwargs):
        """`do`, and the task must not fail (as a playbook's rc 0 said)."""
        result = self.do(module, **kwargs)
        assert not result.get("failed"), result
        return result

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
    """A fresh REB deployed by key 0 through decenter.fog.reb_contract, in-process; returns its address.
    (reb_contract runs through ansible-playbook in test_lifecycle (verify), test_check_mode (deploy, --check and
    for real) and tests/chains (refusals, check mode).)"""
    result = run_module("reb_contract", dict(private_key=anvil.keys()[DEPLOYER], accept_window=accept_window),
                        env={"DECENTER_REB_RPC_URL": anvil.url}, secrets=anvil.keys())
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
