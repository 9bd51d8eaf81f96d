"""Fixtures of the Resource Selector tests: a REB with a small market on the session's anvil, the buyer's
inventory (with a seller host run locally, so reserve.yml really reserves and accepts), and the GUI."""
import pytest

from tests.support.chain import deploy_reb
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
def gui(run_inventory, tmp_path_factory):
    server = Gui(run_inventory, tmp_path_factory.mktemp("gui"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's browser: Debian's Chromium, headless, off the network (never `playwright install`)."""
    from tests.resource_selector.browser import launch_args
    return launch_args(browser_type_launch_args)
