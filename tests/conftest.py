import pytest
from web3 import EthereumTesterProvider, Web3

from tests.support.chain import Anvil


@pytest.fixture(scope="session")
def anvil(tmp_path_factory):
    """One real anvil on loopback for the whole session."""
    chain = Anvil(tmp_path_factory.mktemp("anvil"))
    yield chain
    chain.stop()


@pytest.fixture
def tester_w3():
    """A fresh in-process py-evm chain (no node needed; slow get_logs, so no log-heavy tests)."""
    return Web3(EthereumTesterProvider())
