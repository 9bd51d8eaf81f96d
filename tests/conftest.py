import os

import pytest
from web3 import EthereumTesterProvider, Web3

from tests.support.chain import Anvil


@pytest.fixture(scope="session", autouse=True)
def reb_index_dir(tmp_path_factory):
    """The REB market index of this test session in its own directory (not the user's ~/.cache), inherited by
    the playbooks and inventories the tests run."""
    path = str(tmp_path_factory.mktemp("reb-index"))
    old = os.environ.get("DECENTER_REB_INDEX_DIR")
    os.environ["DECENTER_REB_INDEX_DIR"] = path
    yield path
    if old is None:
        os.environ.pop("DECENTER_REB_INDEX_DIR", None)
    else:
        os.environ["DECENTER_REB_INDEX_DIR"] = old


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
