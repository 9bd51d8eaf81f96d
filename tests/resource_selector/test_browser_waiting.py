"""In a real Chromium: while the buyer waits for the seller's own answer, the page says "Waiting for Provider B (KETI)"
with the elapsed time counting; then the answer. A seller that rejects: the page shows the rejection with the seller's reason and the run ends
with the buyer's clear "nothing left" (the escrow came back). The sellers answer on chain by themselves
(tests/support/chain_seller.py), after a delay, like provider B's agent on a slow chain."""
import re

import pytest
from playwright.sync_api import expect

from tests.resource_selector.browser import screenshot_dir
from tests.resource_selector.support import Gui
from tests.support.chain import free_port
from tests.support.chain_seller import ChainSeller

RUN_TIMEOUT_MS = 300000


@pytest.fixture(scope="module")
def sellers(market):
    """Provider B accepts after 4 s; the third seller rejects after 2 s."""
    with ChainSeller(market.w3, market.reb, market.seller, "accept", endpoint="127.0.0.1:%d" % free_port(),
                     delay=4) as b, ChainSeller(market.w3, market.reb, market.other, "reject", delay=2) as other:
        yield b, other


@pytest.fixture(scope="module")
def waiting_gui(run_inventory, sellers, tmp_path_factory):
    server = Gui(run_inventory, tmp_path_factory.mktemp("gui-waiting"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tab(browser, waiting_gui):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(waiting_gui.url + "/")
    page.wait_for_selector("#offers tbody tr")
    yield page
    context.close()


def reserve(tab, offer_id, hours):
    tab.click('#offers tbody tr[data-offer-id="%d"] button.reserve' % offer_id)
    tab.fill("#hours", str(hours))
    tab.click("#confirm")


def seconds(text):
    return int(re.fullmatch(r"(\d+) s", text.strip()).group(1))


def test_the_page_shows_whom_the_buyer_waits_for_and_for_how_long(tab, market):
    shots = screenshot_dir("waiting")
    reserve(tab, market.ids["seoul-keti"], 1)
    expect(tab.locator("#waiting")).to_be_visible(timeout=60000)
    assert tab.text_content("#waiting-for") == "Provider B (KETI)"
    first = seconds(tab.text_content("#waiting-elapsed"))
    tab.wait_for_function("s => parseInt(document.getElementById('waiting-elapsed').textContent) >= s + 2",
                          arg=first, timeout=15000)
    assert "Waiting for Provider B (KETI) to answer the request" in " ".join(tab.text_content("#waiting").split())
    tab.screenshot(path=str(shots / "1-waiting-for-provider-b.png"), full_page=True)
    expect(tab.locator("#waiting")).to_be_hidden(timeout=60000)
    expect(tab.locator("#answers")).to_contain_text("seoul-keti): accepted by Provider B (KETI) after")
    # The closed endpoint makes provision fail afterwards; what matters here is the answer.
    expect(tab.locator("#run-status")).not_to_have_text("running", timeout=RUN_TIMEOUT_MS)
    assert tab.errors == []


def test_a_rejection_is_shown_and_the_run_ends_with_nothing_left(tab, market):
    shots = screenshot_dir("waiting")
    reserve(tab, market.ids["busan-cam"], 1)
    expect(tab.locator("#waiting")).to_be_visible(timeout=60000)
    expect(tab.locator("#run-status")).to_have_text("failed", timeout=RUN_TIMEOUT_MS)
    expect(tab.locator("#waiting")).to_be_hidden()
    error = tab.text_content("#run-error")
    assert "nothing left to rent" in error and "wei were withdrawn back" in error, error
    assert "busan-cam: not for sale to you" in error, "the seller's own reason, from its ReservationRejected event"
    tab.screenshot(path=str(shots / "2-rejected-nothing-left.png"), full_page=True)
    owed = market.reb.functions.owed(market.buyer).call()
    assert owed == 0, "the rejected escrow was refunded and withdrawn"
    assert tab.errors == []
