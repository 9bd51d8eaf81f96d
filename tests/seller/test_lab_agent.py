"""playbooks/lab_seller_agent.yml: B publishes, then B's agent runs as a supervised service that cannot see A's
secrets; start is idempotent, a crashed agent is restarted, stop leaves no process. (Answering on real lab hosts is
the lab's end-to-end test.) A bare lab state (orgs/, public/) on a real anvil: no network namespace is built."""
import os
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from tests.seller.market import BUYER_A, SELLER_B, Market, start_chain
from tests.seller.seller_env import tools_env
from tests.support.chain import ROOT
from tests.support.playbook_run import run_playbook
from tests.support.process import cmdline, descendants, running


class BareLab:
    def __init__(self, tmp, chain):
        self.chain = chain
        self.market = Market(chain)
        self.inventory = tmp / "inventory"
        shutil.copytree(ROOT / "inventories" / "lab", self.inventory, symlinks=True)
        self.state = tmp / "state"
        keys = chain.keys()
        for org, who in (("provider_a", BUYER_A), ("provider_b", SELLER_B)):
            d = self.state / "orgs" / org
            d.mkdir(parents=True, mode=0o700)
            (d / "wallet.yml").write_text(yaml.safe_dump({"address": chain.w3.eth.accounts[who],
                                                          "private_key": keys[who]}))
            (d / "wallet.yml").chmod(0o600)
        (self.state / "public").mkdir()
        (self.state / "public" / "reb.yml").write_text(yaml.safe_dump(
            {"reb_contract_address": self.market.reb.address, "reb_chain_id": 31337}))
        self.extra = {"lab_root": str(ROOT), "lab_dir": str(self.state), "lab_prefix": "fsx",
                      "anvil_port": chain.port}
        self.agent_dir = self.state / "orgs" / "provider_b" / "agent"

    def agent(self, state):
        run = run_playbook(ROOT / "playbooks" / "lab_seller_agent.yml", inventory=self.inventory / "provider_b",
                           extra_vars=self.extra, args=["-e", "lab_seller_agent_state=%s" % state], callback=None,
                           env=tools_env(), timeout=300)
        assert run.rc == 0, run.output[-5000:]
        return run.stdout

    def pid(self):
        return int((self.agent_dir / "agent.pid").read_text())


def changed(output):
    return sum(int(n) for n in __import__("re").findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def lab(tmp_path):
    chain = start_chain(tmp_path)
    lab = BareLab(tmp_path, chain)
    yield lab
    if (lab.agent_dir / "agent.pid").exists() and group_alive(lab.pid()):
        os.killpg(lab.pid(), signal.SIGKILL)
    chain.stop()


def test_start_publishes_runs_supervised_blind_to_a_and_stop_leaves_nothing(lab):
    lab.agent("started")
    pid = lab.pid()
    seller = lab.chain.w3.eth.accounts[SELLER_B]
    assert lab.market.reb.functions.offerIdOf(seller, "seoul-keti").call() > 0  # B published its offer
    # the agent sees B's wallet, not A's
    hidden = subprocess.run(["nsenter", "-t", str(pid), "-m", "cat",
                             str(lab.state / "orgs" / "provider_a" / "wallet.yml")], capture_output=True, text=True)
    assert hidden.returncode != 0 and "private_key" not in hidden.stdout
    mine = subprocess.run(["nsenter", "-t", str(pid), "-m", "cat",
                           str(lab.state / "orgs" / "provider_b" / "wallet.yml")], capture_output=True, text=True)
    assert mine.returncode == 0 and "private_key" in mine.stdout
    assert (lab.agent_dir / "vars.yml").stat().st_mode & 0o777 == 0o600
    assert "private_key" not in (lab.agent_dir / "vars.yml").read_text()

    again = lab.agent("started")
    assert changed(again) == 0 and lab.pid() == pid

    # the rulebook process dies: the supervisor starts a new one, which listens again
    rulebook = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)  # the supervisor's child
    first = int(rulebook.stdout.split()[0])
    assert "ansible-rulebook" in cmdline(first)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        log = (lab.agent_dir / "agent.log").read_text()
        if "restarting in 1 s" in log and log.count("listening to the REB") >= 2:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the agent was not restarted:\n" + log[-3000:])

    # A request: the agent answers it in a playbook run of its own session (ansible-runner), which the stop must end
    # too, not leave running against a lab that is going away.
    lab.market.reserve(BUYER_A, lab.market.reb.functions.offerIdOf(seller, "seoul-keti").call())
    run = None
    deadline = time.monotonic() + 90
    while run is None and time.monotonic() < deadline:  # bounded; a run lasts seconds, a look milliseconds
        run = next((p for p in descendants(pid) if "answer.yml" in cmdline(p)), None)
        time.sleep(0.05)
    assert run, "no answer.yml run seen within 90 s of the request:\n" + (lab.agent_dir / "agent.log").read_text()[-3000:]
    assert os.getsid(run) != pid  # not in the agent's session, hence not in its process group
    os.kill(run, signal.SIGSTOP)  # held where it is, so it is still in flight when the agent stops

    stopped = lab.agent("stopped")
    left = subprocess.run(["ps", "-o", "pid,stat,args", "-g", str(pid)], capture_output=True, text=True).stdout
    assert not group_alive(pid), stopped[-3000:] + left
    assert not running(run), "the agent's answer.yml run %d outlived the stop:\n%s" % (run, cmdline(run))
    assert not (lab.agent_dir / "agent.pid").exists()
    assert changed(lab.agent("stopped")) == 0
