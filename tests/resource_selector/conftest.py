"""Fixtures of the Resource Selector tests: a REB with a small market on the session's anvil, the buyer's
inventory, a seller answering on chain by itself (so reserve.yml really reserves and waits for an acceptance), and
the GUI."""
import pytest

from tests.support.chain import deploy_reb, free_port
from tests.support.chain_seller import ChainSeller
from tests.resource_selector.support import Gui, Market, write_run_inventory


@pytest.fixture(scope="module")
def market(anvil):
    reb = deploy_reb(anvil.w3, anvil.w3.eth.accounts[0])
    m = Market(anvil, reb)
    m.ids = m.seed()
    return m


@pytest.fixture(scope="module")
def run_inventory(market, tmp_path_factory):
    return write_run_inventory(tmp_path_factory.mktemp("rs-inventory"), market)


@pytest.fixture(scope="module")
def seller(market):
    """Provider B accepts each request for its offers by itself; its endpoint is a closed loopback port."""
    with ChainSeller(market.w3, market.reb, market.seller, "accept", endpoint="127.0.0.1:%d" % free_port()) as agent:
        yield agent


@pytest.fixture(scope="module")
def gui(run_inventory, seller, tmp_path_factory):
    server = Gui(run_inventory, tmp_path_factory.mktemp("gui"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's browser: Debian's Chromium, headless, off the network (never `playwright install`)."""
    from tests.resource_selector.browser import launch_args
    return launch_args(browser_type_launch_args)
