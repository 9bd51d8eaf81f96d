"""Access rules of the GUI bound to every address (a token is then required; requests still go to loopback),
and what the server says when it cannot start."""
import subprocess
import sys

import pytest
import requests

from tests.support.chain import ROOT
from tests.resource_selector.support import Gui, write_inventory

TOKEN = "t0ken-for-the-test-only-0123456789"


@pytest.fixture(scope="module")
def inventory(market, tmp_path_factory):
    return write_inventory(tmp_path_factory.mktemp("rs-access") / "inventory", market)


@pytest.fixture(scope="module")
def open_gui(inventory, tmp_path_factory):
    server = Gui(inventory, tmp_path_factory.mktemp("gui"), host="0.0.0.0", token=TOKEN)
    yield server
    server.stop()


def start(*args, env=None):
    return subprocess.run([sys.executable, "-m", "apps.resource_selector"] + list(args), cwd=str(ROOT),
                          capture_output=True, text=True, timeout=60, env=env)


def test_missing_token_is_refused(open_gui):
    for path in ("/", "/api/offers", "/api/config", "/static/app.js"):
        answer = requests.get(open_gui.url + path, timeout=10)
        assert answer.status_code == 401, path
        assert "access token is required" in answer.json()["error"]
    assert requests.get(open_gui.url + "/api/offers", headers={"Authorization": "Bearer wrong"},
                        timeout=10).status_code == 401
    assert requests.get(open_gui.proxy_url + "/", timeout=10).status_code == 401, "the Webserver proxy too"


def test_token_as_bearer_or_cookie(open_gui):
    assert open_gui.get("/api/offers").status_code == 200  # the session sends Authorization: Bearer
    browser = requests.Session()
    assert browser.get(open_gui.url + "/?token=wrong", timeout=10).status_code == 401
    login = browser.get(open_gui.url + "/?token=" + TOKEN, allow_redirects=False, timeout=10)
    assert login.status_code == 302 and login.headers["Location"] == "/", "the token leaves the address bar"
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert browser.get(open_gui.url + "/api/offers", timeout=10).status_code == 200


def test_token_does_not_replace_csrf(open_gui, market):
    answer = open_gui.post("/api/federate", {"offer_id": market.ids["seoul-keti"], "hours": 1}, csrf=False)
    assert answer.status_code == 403
    assert open_gui.get("/api/runs").json()["runs"] == []


def test_non_loopback_without_token_does_not_start(inventory):
    out = start("--inventory", str(inventory), "--host", "0.0.0.0", "--port", "1",
                env={"PATH": "/usr/bin:/bin"})
    assert out.returncode != 0
    assert "needs an access token" in out.stderr and "RESOURCE_SELECTOR_TOKEN" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_arguments_are_explained(inventory, tmp_path):
    out = start("--inventory", str(tmp_path / "missing"))
    assert out.returncode != 0 and "does not exist" in out.stderr and "Traceback" not in out.stderr
    out = start("--inventory", str(inventory), "--extra-vars", "{not json")
    assert "--extra-vars is not JSON" in out.stderr and "Traceback" not in out.stderr
    out = start("--inventory", str(tmp_path))
    assert "no REB address" in out.stderr and "Traceback" not in out.stderr
