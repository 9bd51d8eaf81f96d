"""The page in a real Chromium against the anvil market: market, filters, the app's unmet requirement and
its matching offer highlighted, the reserve dialog's escrow, and chain strings with markup shown inert."""
import pytest
from playwright.sync_api import expect

from tests.resource_selector.browser import screenshot_dir
from tests.resource_selector.support import SCRIPT, Gui, write_inventory


@pytest.fixture(scope="module")
def market_gui(market, tmp_path_factory):
    server = Gui(write_inventory(tmp_path_factory.mktemp("rs-browser") / "inventory", market),
                 tmp_path_factory.mktemp("gui"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shots():
    return screenshot_dir("market")


@pytest.fixture(scope="module")
def tab(browser, market_gui):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(market_gui.url + "/")
    page.wait_for_selector("#offers tbody tr")
    page.errors = errors
    yield page
    context.close()


def offer_ids(page):
    return [int(i) for i in page.eval_on_selector_all("#offers tbody tr", "rows => rows.map(r => r.dataset.offerId)")]


def test_market_loads_every_open_offer(tab, market, shots):
    assert sorted(offer_ids(tab)) == sorted(market.ids.values())
    assert "5 open offer(s) match" in tab.text_content("#market-info")
    assert "Buyer %s" % market.buyer in tab.text_content("#who")
    tab.screenshot(path=str(shots / "market.png"), full_page=True)


def test_sellers_are_shown_by_name_and_address(tab, market):
    """Names are not unique (anyone can register "Provider B (KETI)"): the address is next to it, in full on hover."""
    cell = tab.locator('#offers tbody tr[data-offer-id="%d"] .seller' % market.ids["seoul-keti"])
    assert cell.text_content() == "Provider B (KETI) %s\u2026%s" % (market.seller[:8], market.seller[-4:])
    assert cell.get_attribute("title") == market.seller


def test_markup_from_the_chain_is_shown_as_text(tab, market):
    row = tab.locator('#offers tbody tr[data-offer-id="%d"]' % market.ids["script"])
    assert SCRIPT in row.text_content(), "shown literally"
    assert tab.evaluate("window.__pwned") is None, "never executed"
    assert tab.locator("#offers img, #offers script").count() == 0, "no element built from chain text"
    assert tab.errors == []


def test_filter_to_seoul_keti_cameras(tab, market, shots):
    tab.select_option("#f-region", "SEOUL-KETI")
    tab.select_option("#f-device-kind", "camera")
    tab.click("#apply")
    expect(tab.locator("#offers tbody tr")).to_have_count(1)
    assert offer_ids(tab) == [market.ids["seoul-keti"]]
    row = tab.locator("#offers tbody tr")
    assert "camkor1 (camera)" in row.text_content() and "0.001 ETH" in row.text_content()
    assert "meets" in row.get_attribute("class"), "it meets the requirement A cannot"
    tab.screenshot(path=str(shots / "market-seoul-keti-camera.png"), full_page=True)


def test_sort_by_price_on_the_server(tab):
    tab.click("#clear")
    expect(tab.locator("#offers tbody tr")).to_have_count(5)
    tab.click('th button[data-sort="price"]')  # already by price ascending: now descending
    expect(tab.locator("#market-info")).to_contain_text("(desc)")
    prices = tab.eval_on_selector_all("#offers tbody tr", "rows => rows.map(r => r.cells[9].textContent)")
    values = [float(p.split()[0]) for p in prices]
    assert values == sorted(values, reverse=True)


def test_application_shows_the_unmet_requirement_and_its_offers(tab, market, shots):
    tab.wait_for_selector("#unmet li button")
    assert "processor-camkor1" in tab.text_content("#unmet")
    placement = tab.text_content("#placement")
    assert "processor-cam1" in placement and "povo" in placement
    tab.click("#unmet li button")
    expect(tab.locator("#offers tbody tr")).to_have_count(1)
    assert offer_ids(tab) == [market.ids["seoul-keti"]]
    assert tab.input_value("#f-region") == "SEOUL-KETI" and tab.input_value("#f-device") == "camkor1"
    tab.locator("#application").screenshot(path=str(shots / "application.png"))


def test_reserve_dialog_shows_the_escrow(tab, shots):
    tab.click("#offers tbody tr button.reserve")
    tab.wait_for_selector("#reserve:not([hidden])")
    tab.fill("#hours", "3")
    assert tab.text_content("#escrow") == "0.003 ETH for 3 h"
    assert tab.text_content("#hours-range") == "1 to 720 hours"
    tab.screenshot(path=str(shots / "reserve.png"), full_page=True)
    tab.click("#cancel-reserve")
    assert tab.is_hidden("#reserve")
