"""Reserve & federate from the page against a real lab (this file's turn on the shared lab, tests/conftest.py
LAB_TURNS: after test_federate, so A has reserved and released before): filter the market to SEOUL-KETI + camera,
reserve with a double click (one run only), watch the six steps reach done, follow the link to the Webserver and
read camkor1's text, see OCR markup inert, rerun (nothing changes), release from the page."""
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.resource_selector.browser import screenshot_dir
from tests.resource_selector.support import Gui

MARKUP = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> markupprobe"
RUN_TIMEOUT_MS = 900000


@pytest.fixture(scope="module")
def lab(shared_lab):
    # Step 1 is the seller's: provider B's agent (started by lab_up) offers SEOUL-KETI and answers by itself.
    with shared_lab.turn() as built:
        yield built


def reservation_ids(gui):
    return [r["id"] for r in gui.get("/api/reservations").json()["reservations"]]


@pytest.fixture(scope="module")
def earlier(gui):
    """A's reservations before the double click (the turns before this file's reserved too)."""
    return reservation_ids(gui)


@pytest.fixture(scope="module")
def rental(gui, earlier):
    """The id of the one reservation the double click made (asked for after it)."""
    [made] = [i for i in reservation_ids(gui) if i not in earlier]
    return made


@pytest.fixture(scope="module")
def gui(lab, tmp_path_factory):
    # The GUI is provider A's: it runs as A sees the machine (bin/org-run hides B's secrets), with A's inventory.
    server = Gui(lab.org_inventory("provider_a"), tmp_path_factory.mktemp("gui"), extra_vars=lab.extra,
                 org_run=("provider_a", lab.state))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shots():
    return screenshot_dir("lab")


@pytest.fixture(scope="module")
def tab(browser, gui):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(gui.url + "/")
    page.wait_for_selector("#offers tbody tr")
    yield page
    context.close()


def store_text(lab, camera, text):
    """Write one record into A's Repository on CLOUD, as a Processor does (from inside CLOUD's namespace)."""
    password = (lab.state / "orgs" / "provider_a" / "repository_password").read_text().strip()
    code = ("import sys, time; sys.path.insert(0, 'apps/simple_ocr')\n"
            "from simple_ocr.repository.store import Repository\n"
            "from simple_ocr.records import TextRecord\n"
            "import os\n"
            "r = Repository.from_url('redis://:%s@10.10.0.10:6379/0' % os.environ['REPO_PASSWORD'])\n"
            "r.append_many([TextRecord(camera=sys.argv[1], time=time.time(), frame=1, text=sys.argv[2], "
            "confidence=99.0)])\n")
    out = lab.netns("cloud", "env", "REPO_PASSWORD=" + password, str(Path(lab.extra["lab_root"]) / ".venv" / "bin" /
                    "python"), "-c", code, camera, text)
    assert out.returncode == 0, out.stderr[-2000:]


def test_market_filtered_to_seoul_keti_cameras(tab, shots):
    tab.select_option("#f-region", "SEOUL-KETI")
    tab.select_option("#f-device-kind", "camera")
    tab.click("#apply")
    expect(tab.locator("#offers tbody tr")).to_have_count(1)
    row = tab.locator("#offers tbody tr")
    assert "SEOUL-KETI" in row.text_content() and "camkor1 (camera)" in row.text_content()
    expect(tab.locator("#unmet")).to_contain_text("processor-camkor1")
    tab.screenshot(path=str(shots / "1-market-seoul-keti-camera.png"), full_page=True)


def test_double_click_reserves_and_federates_once(tab, gui, shots, earlier):
    tab.click("#offers tbody tr button.reserve")
    tab.fill("#hours", "2")
    assert tab.text_content("#escrow") == "0.002 ETH for 2 h"
    tab.dblclick("#confirm")
    expect(tab.locator("#run-status")).to_have_text("running", timeout=30000)
    # The server refuses any other run while this one goes, whatever the page's button does.
    statuses = tab.evaluate("""async () => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const post = () => fetch('/api/federate', {method: 'POST', body: JSON.stringify({offer_id: 1, hours: 2}),
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}}).then(r => r.status);
        return Promise.all([post(), post()]);
    }""")
    assert statuses == [409, 409]
    tab.screenshot(path=str(shots / "2-progress-running.png"), full_page=True)
    expect(tab.locator("#run-status")).to_have_text("successful", timeout=RUN_TIMEOUT_MS)
    runs = gui.get("/api/runs").json()["runs"]
    assert len(runs) == 1 and runs[0]["kind"] == "federate", "a double click and two requests: one run"
    assert len(reservation_ids(gui)) == len(earlier) + 1, "one reservation"
    steps = tab.eval_on_selector_all("#steps li", "items => items.map(i => i.dataset.step + ':' + i.className)")
    assert steps == ["publish:done", "compose:done", "check:done", "reserve:done", "provision:done", "deploy:done"]
    log = tab.text_content("#log")
    for task in ("Reserve the best matching offer and wait for the seller's answer", "Scan the node's SSH host key"):
        assert task in log
    expect(tab.locator("#answers")).to_contain_text("accepted by Provider B (KETI)")
    assert "changed: " in log
    run = gui.get("/api/runs/%d" % runs[0]["id"]).json()
    assert {e["step"] for e in run["events"] if e.get("step")} >= {"check", "reserve", "provision", "deploy"}
    assert run["counts"]["failed"] == 0 and run["counts"]["changed"] > 0
    tab.screenshot(path=str(shots / "3-progress-done.png"), full_page=True)


def test_link_opens_the_webserver_with_text_from_camkor1(tab, gui, shots):
    link = tab.locator("#webserver-link")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "http://127.0.0.1:%d/" % gui.proxy_port
    with tab.context.expect_page() as opened:
        link.click()
    web = opened.value
    web.wait_for_load_state()
    for _ in range(90):  # bounded: the new Processor's first text takes a few seconds (tesseract on 2 cores)
        if "camkor1" in web.text_content("#latest"):
            break
        time.sleep(2)
        web.reload()
    latest = web.locator('#latest tr[data-camera="camkor1"]')
    expect(latest).to_have_count(1)
    assert "CAMKOR1" in latest.text_content().upper(), latest.text_content()
    web.screenshot(path=str(shots / "4-webserver.png"), full_page=True)
    web.close()
    expect(tab.locator("#rented-texts")).to_contain_text("camkor1: ", timeout=120000)


def test_ocr_text_with_markup_is_inert(tab, lab, gui, shots):
    store_text(lab, "camkor1", MARKUP)
    for _ in range(30):  # bounded: the Processor may store a newer line in between; the API lists the last 5
        tab.click("#refresh-texts")
        try:
            expect(tab.locator("#rented-texts")).to_contain_text("markupprobe", timeout=2000)
            break
        except AssertionError:
            continue
    texts = tab.text_content("#rented-texts")
    assert MARKUP in texts, "shown as text, verbatim"
    assert tab.locator("#rented-texts img, #rented-texts script").count() == 0
    web = tab.context.new_page()
    web.goto(gui.proxy_url + "/?q=markupprobe")
    assert MARKUP in web.text_content("#results"), "the Webserver (through the proxy) shows it as text too"
    assert web.locator("#results img, #results script").count() == 0
    assert tab.evaluate("window.__pwned") is None and web.evaluate("window.__pwned") is None
    web.screenshot(path=str(shots / "5-webserver-markup.png"), full_page=True)
    web.close()
    assert tab.errors == []


def test_rerun_changes_nothing(tab, gui, earlier, rental):
    # `tab` keeps this test in its place: pytest-playwright's browser parametrisation reorders the others.
    answer = gui.post("/api/federate", {"offer_id": 1, "hours": 2})
    assert answer.status_code == 202, answer.text
    run = gui.wait_run(answer.json()["run"]["id"])
    assert run["status"] == "successful", run["error"]
    assert run["counts"]["changed"] == 0, [(e["task"], e["host"]) for e in run["events"]
                                           if e.get("status") == "changed"]
    assert sorted(reservation_ids(gui)) == sorted(earlier + [rental]), "nothing reserved again"


def test_release_from_the_page(tab, gui, shots, rental):
    tab.reload()
    tab.wait_for_selector("#reservation-table tbody tr")
    row = tab.locator('#reservation-table tbody tr[data-reservation-id="%d"]' % rental)
    assert "accepted" in row.text_content() and "0.002 ETH" in row.text_content()
    tab.screenshot(path=str(shots / "6-reservations.png"), full_page=True)
    row.locator("button.release").click()
    expect(tab.locator("#run-status")).to_have_text("running", timeout=30000)
    expect(tab.locator("#run-status")).to_have_text("successful", timeout=RUN_TIMEOUT_MS)
    assert "Release each rental" in tab.text_content("#log")
    expect(row).to_contain_text("released", timeout=60000)
    assert row.locator("button.release").count() == 0
    [reservation] = [r for r in gui.get("/api/reservations").json()["reservations"] if r["id"] == rental]
    assert reservation["state"] == "released" and 0 < int(reservation["cost_so_far"]) < 2 * 10 ** 15
    expect(tab.locator('#offers tbody tr[data-offer-id="1"]')).to_have_count(1, timeout=60000)  # back on the market
    tab.screenshot(path=str(shots / "7-released.png"), full_page=True)
