"""Seeding a fresh REB with raw web3 calls, and running ansible-inventory / ansible against it."""
import hashlib
import http.server
import json
import os
import subprocess
import threading
import urllib.request
from pathlib import Path

import yaml

from tests.support.offers import offer_spec

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


class Market:
    """A fresh REB on the session anvil, filled from unlocked anvil accounts."""

    def __init__(self, anvil, reb):
        self.w3 = anvil.w3
        self.reb = reb
        self.address = reb.address

    def tx(self, fn, sender, value=0):
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "value": value}), timeout=30)
        assert receipt.status == 1
        return receipt

    def register(self, seller, name):
        self.tx(self.reb.functions.registerProvider(name), seller)

    def offer(self, seller, node_id, region, devices="", cpu=2000, memory=2048, price=10 ** 15,
              architecture="amd64"):
        spec = offer_spec(node_id, region=region, devices=devices, cpu=cpu, memory=memory, price=price,
                          architecture=architecture)
        self.tx(self.reb.functions.publishOffer(spec), seller)
        return self.reb.functions.offerCount().call()

    def reserve(self, buyer, offer_id, hours=2):
        offer = self.reb.functions.getOffer(offer_id).call()
        key = hashlib.sha256(b"buyer-key-%d" % offer_id).digest()
        order = hashlib.sha256(b"order-%d" % self.reb.functions.reservationCount().call()).digest()
        self.tx(self.reb.functions.reserve(offer_id, hours, key, offer[-1], order), buyer, value=offer[1] * hours)
        return self.reb.functions.reservationCount().call()

    def accept(self, seller, reservation_id, endpoint, fingerprint):
        self.tx(self.reb.functions.accept(reservation_id, endpoint, fingerprint), seller)

    def withdraw(self, seller, offer_id):
        self.tx(self.reb.functions.withdrawOffer(offer_id), seller)

    def rent(self, seller, buyer, offer_id, endpoint, fingerprint, hours=2):
        rid = self.reserve(buyer, offer_id, hours)
        self.accept(seller, rid, endpoint, fingerprint)
        return rid


def clean_env(**extra):
    """The environment of a user with only the repo's ansible.cfg: no DECENTER_* or ANSIBLE_* leaking in."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("DECENTER_", "ANSIBLE_"))
               or k == "DECENTER_REB_INDEX_DIR")  # the session's market index, not the user's
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH="%s:%s" % (BIN, env.get("PATH", "/usr/bin:/bin")))
    env.update(dict((k, str(v)) for k, v in extra.items()))
    return env


def write_source(directory, name, config):
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(dict(plugin="decenter.fog.reb", **config), sort_keys=False))
    return path


def ansible_inventory(sources, *args, **env):
    """Runs `ansible-inventory --list` on the sources; returns (completed process, parsed stdout or None)."""
    cmd = [str(BIN / "ansible-inventory"), "--list"]
    for source in sources:
        cmd += ["-i", str(source)]
    proc = subprocess.run(cmd + list(args), cwd=str(ROOT), env=clean_env(**env), capture_output=True, text=True,
                          timeout=120)
    return proc, _json_document(proc.stdout) if proc.returncode == 0 else None


def _json_document(stdout):
    """The inventory JSON of stdout; with -v.. ansible-inventory prints its banner on stdout first."""
    start = stdout.find("\n{") + 1 if not stdout.startswith("{") else 0
    return json.loads(stdout[start:]) if stdout.strip() else None


def ansible_adhoc(source, pattern, module, module_args, **env):
    cmd = [str(BIN / "ansible"), pattern, "-i", str(source), "-m", module, "-a", module_args]
    return subprocess.run(cmd, cwd=str(ROOT), env=clean_env(**env), capture_output=True, text=True, timeout=120)


def hosts_of(data, group):
    """Hosts of a group in `ansible-inventory --list` output (direct members)."""
    return set(data.get(group, {}).get("hosts", []))


def plain(value):
    """A hostvar as JSON shows it, with the unsafe markers ({"__ansible_unsafe": ...}) removed."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class CountingProxy:
    """A JSON-RPC pass-through on loopback that counts the requests it forwards to `upstream`."""

    def __init__(self, upstream):
        proxy = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.requests += 1
                request = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = response.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
