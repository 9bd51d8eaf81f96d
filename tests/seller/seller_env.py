"""Provider B's controller for the seller tests: B's inventory (the shape of inventories/lab/provider_b) on a real
anvil, whose nodes are directories on this machine (ansible_connection local): each has its own authorized_keys,
SSH host key and state directory, so granting, accepting and revoking run for real without a lab. The node clean-up
on real lab hosts is tested in test_clean_node.py."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.seller.market import SELLER_B, Market
from tests.support.chain import ROOT
from tests.support.playbook_run import run_playbook
from tests.support.process import end_marked, stop_process

VENV_BIN = ROOT / ".venv" / "bin"
AGENT_MARK = "DECENTER_TEST_SELLER_AGENT"  # in the environment of the agent and of every process it starts
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"


def tools_env():
    """The venv's tools first on PATH, and Java for ansible-rulebook."""
    return dict(PATH=str(VENV_BIN) + os.pathsep + os.environ["PATH"], JAVA_HOME=JAVA_HOME)


def env():
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                **tools_env())


def playbook(inventory, path, *args, check=True, env=None):
    """ansible-playbook `path` (default output) on `inventory` (tests.support.playbook_run), `env` added to its
    environment; a PlaybookRun."""
    run = run_playbook(Path(path), inventory=inventory, args=args, callback=None, env=dict(tools_env(), **(env or {})),
                       timeout=600)
    if check and run.rc != 0:
        raise AssertionError("%s failed:\n%s" % (path, run.output[-6000:]))
    return run


class SellerEnv:
    def __init__(self, workdir, chain, nodes=2, policy=None, accept_window=3600, host_keys_in_inventory=False):
        """host_keys_in_inventory: the nodes' host keys are in the inventory (fog_host_public_key, as the lab takes
        them from B's known_hosts), else the seller playbook reads them from the nodes."""
        self.host_keys_in_inventory = host_keys_in_inventory
        self.dir = Path(workdir)
        self.chain = chain
        self.market = Market(chain, accept_window=accept_window)
        self.market.register(SELLER_B, "Provider B (KETI)")
        self.seller = self.market.accounts[SELLER_B]
        self.inventory = self.dir / "provider_b"
        self.nodes = ["node-%02d" % i for i in range(nodes)]
        self._write_inventory(policy or {})
        self.agent = None

    def _write_inventory(self, policy):
        inv = self.inventory
        (inv / "group_vars" / "all").mkdir(parents=True)
        (inv / "host_vars").mkdir()
        (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
            "controller": {"hosts": {"localhost": None}},
            "provider_b": {"hosts": dict((n, None) for n in self.nodes)}}}}))
        key = self.chain.keys()[SELLER_B]
        (self.dir / "secrets").mkdir(mode=0o700)
        wallet = self.dir / "secrets" / "wallet.yml"
        wallet.write_text(yaml.safe_dump({"address": self.seller, "private_key": key}))
        wallet.chmod(0o600)
        (inv / "group_vars" / "all" / "seller.yml").write_text(yaml.safe_dump({
            "fog_provider": "provider_b", "fog_provider_name": "Provider B (KETI)", "reb_rpc_url": self.chain.url, "reb_chain_id": 31337,
            "reb_contract_address": self.market.reb.address,
            # as the lab does: the key is read from the organization's own 0600 file, never written here
            "reb_private_key": "{{ (lookup('ansible.builtin.file', '%s') | from_yaml).private_key }}" % wallet}))
        self.set_policy(policy)
        (inv / "group_vars" / "controller.yml").write_text(yaml.safe_dump({
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}))
        nodes_dir = self.dir / "nodes"
        (inv / "group_vars" / "provider_b.yml").write_text(yaml.safe_dump({
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "fog_offerable": True, "fog_region": "SEOUL-KETI", "fog_cpu_millicores": 2000, "fog_memory_mib": 2048,
            "fog_price_per_hour": 10 ** 15,
            "fog_authorized_keys_file": "%s/{{ inventory_hostname }}/authorized_keys" % nodes_dir,
            "fog_host_key_file": "%s/{{ inventory_hostname }}/ssh_host_ed25519_key.pub" % nodes_dir,
            "fog_access_endpoint": "198.18.0.21:22",
            # these nodes are directories of this machine: clean-up stays in them, and touches no interface
            "fog_state_dir": "%s/{{ inventory_hostname }}/state" % nodes_dir,
            "fog_rental_wireguard_interfaces": []}))
        for n in self.nodes:
            (nodes_dir / n / "state").mkdir(parents=True)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", n, "-f",
                            str(nodes_dir / n / "ssh_host_ed25519_key")], check=True)
            # the seller's own admin key (here: the node's host key as a stand-in public key) is never touched
            admin = (nodes_dir / n / "ssh_host_ed25519_key.pub").read_text().split()[:2]
            (nodes_dir / n / "authorized_keys").write_text(" ".join(admin) + " provider_b-admin\n")
            if self.host_keys_in_inventory:
                (inv / "host_vars" / ("%s.yml" % n)).write_text(yaml.safe_dump(
                    {"fog_host_public_key": (nodes_dir / n / "ssh_host_ed25519_key.pub").read_text().strip()}))

    def set_policy(self, policy):
        (self.inventory / "group_vars" / "all" / "sale_policy.yml").write_text(
            yaml.safe_dump({"fog_sale_policy": policy}))

    def keys(self, node):
        return (self.dir / "nodes" / node / "authorized_keys").read_text()

    def playbook(self, name, *args, check=True, env=None):
        return playbook(self.inventory, ROOT / name, *args, check=check, env=env)

    def publish(self):
        self.playbook("playbooks/publish.yml")
        return dict((n, self.market.reb.functions.offerIdOf(self.seller, n).call()) for n in self.nodes)

    def answer(self, env=None):
        return self.playbook("playbooks/seller/answer.yml", env=env)

    # --- the agent: ansible-rulebook with the rulebook, as the lab and the role run it

    def start_agent(self, confirmations=0):
        agent_dir = self.dir / "agent"
        agent_dir.mkdir(exist_ok=True)
        (agent_dir / "vars.yml").write_text(yaml.safe_dump({
            "seller_address": self.seller, "reb_rpc_url": self.chain.url, "reb_chain_id": 31337,
            "reb_contract_address": self.market.reb.address, "seller_confirmations": confirmations,
            "seller_cursor_file": str(agent_dir / "cursor.json"), "seller_poll_interval": 0.1,
            "seller_playbook": str(ROOT / "playbooks" / "seller" / "answer.yml")}))
        self.agent_log = agent_dir / "agent.log"
        log = open(self.agent_log, "a")
        self.agent = subprocess.Popen(
            [str(VENV_BIN / "ansible-rulebook"), "--rulebook", str(ROOT / "rulebooks" / "resource_seller.yml"),
             "--vars", str(agent_dir / "vars.yml"), "-i", str(self.inventory)],
            cwd=ROOT, env=dict(env(), **{AGENT_MARK: str(agent_dir)}), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        return self.agent

    def stop_agent(self, sig=signal.SIGTERM):
        """Ends the agent with `sig`, then whatever it started that outlived it. ansible-runner runs each playbook
        in a session of its own (on a pty), out of the agent's process group: a killed agent leaves the run it was
        in behind, which was seen waiting forever and burning CPU for the rest of the suite. In production the
        unit's KillMode=control-group ends such leftovers; here they are found by the mark this agent hands down."""
        if self.agent is None:
            return
        if self.agent.poll() is None:
            os.killpg(self.agent.pid, sig)  # the agent and the playbook it may be running
            try:
                self.agent.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.agent.pid, signal.SIGKILL)
                self.agent.wait(10)
        end_marked(AGENT_MARK, str(self.dir / "agent"))
        self.agent = None

    def wait(self, predicate, timeout=120, what="the agent"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.agent is not None and self.agent.poll() is not None:
                raise AssertionError("the agent exited:\n%s" % self.agent_log.read_text()[-4000:])
            time.sleep(0.2)
        log = self.agent_log.read_text()[-4000:] if self.agent is not None else ""
        raise AssertionError("timed out waiting for %s\n%s" % (what, log))

    def wait_quiet(self, seconds=4, timeout=120):
        """Until the agent has written nothing for `seconds` (its queued runs are done)."""
        deadline = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_size = self.agent_log.stat().st_size
            if now_size != size:
                size, since = now_size, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return
            time.sleep(0.2)
        raise AssertionError("the agent kept writing for %d s" % timeout)

    def answers(self):
        """Per reservation id, the seller's answering events on chain (Accepted/Rejected) - each must be one."""
        counts = {}
        for name in ("ReservationAccepted", "ReservationRejected"):
            for log in getattr(self.market.reb.events, name)().get_logs(from_block=0):
                counts.setdefault(log["args"]["reservationId"], []).append(name)
        return counts

    def seller_transactions(self):
        return self.market.w3.eth.get_transaction_count(self.seller)
