"""Fixtures of the REB contract tests: the same tests run on py-evm (eth-tester) and anvil."""
import pytest
from web3 import EthereumTesterProvider, HTTPProvider, Web3

from tests.contract.helpers import Chain, ahead_of_the_clock, compile_reentrant_receiver


@pytest.fixture(scope="session")
def pyevm_base():
    """One in-process py-evm chain with a deployed REB and a snapshot of that state."""
    w3 = Web3(EthereumTesterProvider())
    tester = w3.provider.ethereum_tester
    ahead_of_the_clock(tester)
    c = Chain("pyevm", w3)
    c.deploy()
    return w3, c.reb.address, tester.take_snapshot()


@pytest.fixture(params=["pyevm", "anvil"])
def chain(request):
    """A freshly deployed REB, isolated per test.

    py-evm: the session's chain reverted to the snapshot taken right after deployment (eth-tester's
    take_snapshot/revert_to_snapshot); anvil: the session's anvil, a new deployment per test,
    rolled back with evm_snapshot/evm_revert afterwards."""
    if request.param == "pyevm":
        w3, address, snap = request.getfixturevalue("pyevm_base")
        tester = w3.provider.ethereum_tester
        tester.revert_to_snapshot(snap)
        c = Chain("pyevm", w3)
        c.reb = w3.eth.contract(address=address, abi=c.art["abi"])
        assert c.reb.functions.offerCount().call() == 0
        try:
            yield c
        finally:
            tester.revert_to_snapshot(snap)
        return
    node = request.getfixturevalue("anvil")
    # our own client of the session's anvil: the same node, but eth_chainId is asked only once
    w3 = Web3(HTTPProvider(node.url, request_kwargs={"timeout": 10}, cache_allowed_requests=True,
                           cacheable_requests={"eth_chainId"}))
    snap = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        c = Chain("anvil", w3)
        c.deploy()
        yield c
    finally:
        reverted = w3.provider.make_request("evm_revert", [snap])
        assert reverted.get("result") is True, reverted


@pytest.fixture(scope="session")
def receiver_artifact():
    """ABI + bytecode of contracts/test/ReentrantReceiver.sol, compiled once with solc-js."""
    return compile_reentrant_receiver()
