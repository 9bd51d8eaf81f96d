import os

import pytest
from web3 import EthereumTesterProvider, Web3

from tests.support.chain import Anvil
from tests.support.lab import SharedLab

# The test files on the shared lab (tests/support/lab.py), in the order of their turns: test_federate first (it checks
# a buyer that never federated), test_lab_down last (it takes the lab down).
LAB_TURNS = ("tests/lab/test_federate.py", "tests/resource_selector/test_browser_lab.py",
             "tests/production_paths/test_zerotier_kubernetes.py", "tests/lab/test_faults.py",
             "tests/lab/test_lab_down.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """pytest-xdist (--dist loadgroup) runs each group on one worker: a test file is a group, except the files on the
    shared lab, which are one group, run first (the longest chain of the run) and in their turns' order."""
    def path(item):
        return item.nodeid.split("::")[0]

    def turn(item):
        if "shared_lab" not in item.fixturenames:
            return None
        if path(item) not in LAB_TURNS:
            raise pytest.UsageError("%s uses the shared lab: give it its turn in LAB_TURNS (tests/conftest.py)"
                                    % path(item))
        return LAB_TURNS.index(path(item))

    turns = dict((item, turn(item)) for item in items)
    for item in items:
        group = "lab" if turns[item] is not None else path(item)
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(group))
    # stable: tests keep their order within a file; the lab's files come first, in their turns
    items.sort(key=lambda item: (turns[item] is None, turns[item] or 0))


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


@pytest.fixture(scope="session")
def shared_lab(tmp_path_factory):
    """The lab the files of LAB_TURNS share, built at the first turn, taken down at the end of the session."""
    shared = SharedLab(tmp_path_factory)
    yield shared
    shared.down()
