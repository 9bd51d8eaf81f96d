"""Chromium for the browser tests: Debian's /usr/bin/chromium, headless, kept off the network (every name
but loopback resolves to nothing, every non-loopback request goes to a closed proxy, no background
services), and where the screenshots go."""
import os
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
OFFLINE_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--no-first-run",
    "--no-default-browser-check", "--metrics-recording-only", "--disable-features=Translate,OptimizationHints,"
    "MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
]


def launch_args(base=None):
    """pytest-playwright's launch arguments with our browser and flags added."""
    args = dict(base or {})
    args.update(executable_path=CHROMIUM, headless=True)
    args["args"] = list(args.get("args") or []) + OFFLINE_ARGS
    return args


def screenshot_dir(name):
    """Screenshots go to $RESOURCE_SELECTOR_SCREENSHOTS/<name>, by default /tmp/resource_selector_screenshots/<name>
    (outside the checkout; pytest's own temporary directories are rotated away after three runs)."""
    base = os.environ.get("RESOURCE_SELECTOR_SCREENSHOTS") or os.path.join(tempfile.gettempdir(),
                                                                          "resource_selector_screenshots")
    path = Path(base) / name
    path.mkdir(parents=True, exist_ok=True)
    return path
