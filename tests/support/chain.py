"""Test chains: a real anvil process on loopback, or py-evm in-process, and REB deployment."""
import json
import os
import socket
import subprocess
import time
from pathlib import Path

from web3 import Web3

from tests.support.process import stop_process

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
ARTIFACT = ROOT / "contracts" / "build" / "ResourceExchangeBroker.json"
# anvil's well-known development mnemonic: its keys are public test keys, never real funds.
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """An anvil process bound to 127.0.0.1; stopped by `stop()` (tests use it as a fixture)."""

    def __init__(self, workdir, block_time=None, accounts=10, state_file=None, port=None):
        """`port` reuses a port (a restarted chain)."""
        # anvil's DEFAULT block gas limit (30M, also its eth_call cap): what the lab and real chains run;
        # a raised limit hid REB views that no longer fit (issue 14).
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        args = [str(ANVIL), "--host", "127.0.0.1", "--port", str(self.port), "--mnemonic", MNEMONIC,
                "--accounts", str(accounts), "--chain-id", str(CHAIN_ID), "--silent",
                "--hardfork", "prague"]
        if block_time:
            args += ["--block-time", str(block_time)]
        if state_file:
            args += ["--state", str(state_file)]
        self.log = open(os.path.join(str(workdir), "anvil-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 10}))
        for _ in range(100):  # bounded: anvil answers ~70 ms after launch
            if self.proc.poll() is not None:
                raise RuntimeError("anvil exited with %s" % self.proc.returncode)
            try:
                if self.w3.is_connected():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("anvil did not answer on %s" % self.url)

    def keys(self):
        """Private keys of anvil's funded accounts, derived from the mnemonic (as anvil does)."""
        from eth_account import Account
        Account.enable_unaudited_hdwallet_features()
        return [Account.from_mnemonic(MNEMONIC, account_path="m/44'/60'/0'/0/%d" % i).key.hex()
                for i in range(10)]

    def stop(self):
        stop_process(self.proc, 5)
        self.log.close()


def artifact():
    return json.loads(ARTIFACT.read_text())


def deploy_reb(w3, sender, accept_window=3600):
    """Deploy the REB from an unlocked account `sender`; returns the contract object."""
    a = artifact()
    factory = w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
    tx = factory.constructor(accept_window).transact({"from": sender})
    address = w3.eth.wait_for_transaction_receipt(tx, timeout=30).contractAddress
    return w3.eth.contract(address=address, abi=a["abi"])
