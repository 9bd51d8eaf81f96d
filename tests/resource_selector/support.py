"""A chain with a small market, a buyer inventory pointing at it, and the GUI as a real server process."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

from tests.support.chain import ROOT, free_port
from tests.support.offers import offer_spec

# At most 64 bytes: REB v2 caps provider names, node ids and regions (a global assignment sets window.__pwned)
SCRIPT = "<script>__pwned=1</script><img src=x onerror=\"__pwned=2\">"


KETI = "37.5794,126.8890"  # KETI's site in Seoul


class Market:
    """A REB on the session's anvil with offers of three sellers; account 1 is the buyer (provider A)."""

    def __init__(self, anvil, reb):
        self.anvil = anvil
        self.w3 = anvil.w3
        self.reb = reb
        self.accounts = self.w3.eth.accounts
        self.deployer, self.buyer, self.seller, self.other = self.accounts[0], self.accounts[1], self.accounts[2], \
            self.accounts[3]
        self.keys = anvil.keys()

    def tx(self, fn, sender, value=0):
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "value": value}), timeout=30)
        assert receipt["status"] == 1
        return receipt

    def seed(self):
        """The lab's market plus a few: returns {name: offer id}."""
        self.tx(self.reb.functions.registerProvider("Provider A (Italy)"), self.buyer)
        self.tx(self.reb.functions.registerProvider("Provider B (KETI)"), self.seller)
        self.tx(self.reb.functions.registerProvider(SCRIPT), self.other)
        offers = [
            ("seoul-keti", self.seller, offer_spec("seoul-keti", location=KETI)),
            ("seoul", self.seller, offer_spec("seoul", region="SEOUL", devices="", price=2 * 10 ** 15, cpu=4000,
                                              memory=4096, storage=500, tier=0, location="37.5665,126.9780")),
            ("busan-cam", self.other, offer_spec("busan-cam", region="BUSAN", devices="cambus1:camera",
                                                 price=3 * 10 ** 15, location="35.1796,129.0756", max_hours=4)),
            ("script", self.other, offer_spec(SCRIPT, region=SCRIPT, devices="x" + SCRIPT.replace(",", ";")
                                              .replace(":", "=") + ":camera", price=5 * 10 ** 15, location="")),
            ("own", self.buyer, offer_spec("povo-spare", region="POVO", devices="", location="46.0670,11.1500")),
        ]
        ids = {}
        for name, seller, spec in offers:
            self.tx(self.reb.functions.publishOffer(spec), seller)
            ids[name] = self.reb.functions.offerCount().call()
        return ids


def write_inventory(path, market, extra_group_vars=None, hosts=None):
    """The buyer's inventory: provider A's hosts (Table I) and its buyer view of the REB (no key in it)."""
    path = Path(path)
    (path / "group_vars").mkdir(parents=True, exist_ok=True)
    hosts = hosts or {
        "all": {"children": {
            "controller": {"hosts": {"localhost": {"ansible_connection": "local",
                                                   "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
            "provider_a": {"children": {
                "region_CLOUD": {"hosts": {"cloud": dict(fog_region="CLOUD", fog_tier=0, fog_cpu_millicores=6000,
                                                         fog_memory_mib=6144, fog_storage_gib=500, fog_devices=[],
                                                         fog_location="46.0667,11.1500")}},
                "region_POVO": {"hosts": {"povo": dict(fog_region="POVO", fog_tier=1, fog_cpu_millicores=1000,
                                                       fog_memory_mib=1024, fog_storage_gib=10,
                                                       fog_devices=["cam1:camera"],
                                                       fog_location="46.0670,11.1500")}}}},
        }}}
    (path / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (path / "group_vars" / "provider_a.yml").write_text(yaml.safe_dump(dict(fog_provider="provider_a")))
    if extra_group_vars:
        for group, data in extra_group_vars.items():
            file = path / "group_vars" / ("%s.yml" % group)
            file.write_text(yaml.safe_dump(data))
            os.chmod(str(file), 0o600)
    (path / "rented.reb.yml").write_text(yaml.safe_dump(dict(
        plugin="decenter.fog.reb", view="buyer", rpc_url=market.anvil.url, chain_id=31337,
        contract_address=market.reb.address, buyer=market.buyer)))
    return path


class Gui:
    """`python -m apps.resource_selector` as a real process on loopback ports of its own."""

    def __init__(self, inventory, workdir, extra_vars=None, host="127.0.0.1", token=None, args=(), org_run=None):
        """org_run=(org, lab_dir): run it as that organization of a lab sees the machine (bin/org-run)."""
        self.port = free_port()
        self.proxy_port = free_port()
        self.host = host
        # Requests go to loopback only, also when the server binds every address.
        self.url = "http://127.0.0.1:%d" % self.port
        self.proxy_url = "http://127.0.0.1:%d" % self.proxy_port
        command = [sys.executable, "-m", "apps.resource_selector", "--inventory", str(inventory), "--host", host,
                   "--port", str(self.port), "--webserver-port", str(self.proxy_port)] + list(args)
        if extra_vars:
            command += ["--extra-vars", json.dumps(extra_vars)]
        if org_run:
            command = [str(ROOT / "bin" / "org-run"), org_run[0], "--lab-dir", str(org_run[1]), "--"] + command
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("RESOURCE_SELECTOR_TOKEN", None)
        if token:
            env["RESOURCE_SELECTOR_TOKEN"] = token
        self.log_path = Path(workdir) / ("gui-%d.log" % self.port)
        self.log = open(str(self.log_path), "w")
        self.proc = subprocess.Popen(command, cwd=str(ROOT), env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = "Bearer " + token
        for _ in range(300):  # bounded: ~30 s (web3 import, then the first chain read)
            if self.proc.poll() is not None:
                raise RuntimeError("the GUI exited (%s):\n%s" % (self.proc.returncode, self.output()))
            try:
                if self.session.get(self.url + "/api/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the GUI did not answer:\n" + self.output())
        page = self.session.get(self.url + "/", timeout=10)
        assert page.status_code == 200, page.text
        page = page.text
        self.csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()[-6000:]

    def get(self, path, **kwargs):
        kwargs.setdefault("timeout", 30)
        return self.session.get(self.url + path, **kwargs)

    def post(self, path, data, csrf=True, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        kwargs.setdefault("timeout", 30)
        return self.session.post(self.url + path, json=data, headers=headers, **kwargs)

    def wait_run(self, run_id, timeout_s=900):
        """Poll a run until it ends (bounded); returns its view."""
        for _ in range(int(timeout_s / 0.5)):
            run = self.get("/api/runs/%d" % run_id).json()
            if run["status"] != "running":
                return run
            time.sleep(0.5)
        raise AssertionError("run %d still running after %d s" % (run_id, timeout_s))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def sse_events(response, limit=10000):
    """(event, data) pairs of a server-sent events response, until the stream ends."""
    event, data = "message", []
    for raw in response.iter_lines(decode_unicode=True):
        if raw is None:
            continue
        if raw == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
            limit -= 1
            if limit <= 0:
                return
        elif raw.startswith("event:"):
            event = raw[6:].strip()
        elif raw.startswith("data:"):
            data.append(raw[5:].strip())


def write_run_inventory(d, market):
    """Provider A (buyer) and a SEOUL-KETI seller host that runs on this machine (connection local, its files in
    a temporary directory). Its access endpoint is a closed loopback port: provision.yml must fail there."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    (d / "authorized_keys").write_text("")
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    base = write_inventory(d / "inventory", market)
    hosts = {"all": {"children": {
        "controller": {"hosts": {"localhost": local}},
        "provider_a": {"children": {
            "region_CLOUD": {"hosts": {"cloud": dict(local, fog_region="CLOUD", fog_tier=0, fog_cpu_millicores=6000,
                                                     fog_memory_mib=6144, fog_storage_gib=500, fog_devices=[])}},
            "region_POVO": {"hosts": {"povo": dict(local, fog_region="POVO", fog_tier=1, fog_cpu_millicores=1000,
                                                   fog_memory_mib=1024, fog_storage_gib=10,
                                                   fog_devices=["cam1:camera"])}}}},
        "provider_b": {"hosts": {"seoul-keti": dict(local, fog_offerable=True)}},
    }}}
    write_inventory(base, market, hosts=hosts, extra_group_vars={
        "all": dict(reb_rpc_url=market.anvil.url, reb_chain_id=31337, reb_contract_address=market.reb.address,
                    fog_overlay="wireguard", fog_target="hosts", lab_root=str(ROOT), fog_provisioning_key=str(d / "keys" / "provisioning"),
                    fog_rented_known_hosts=str(d / "rented_known_hosts"), fog_run_lock_file=str(d / "run.lock"),
                    fog_pending_cleanup_file=str(d / "pending_cleanup.yml")),
        "provider_a": dict(fog_provider="provider_a", reb_private_key=market.keys[1], fog_location="46.0667,11.1500"),
        "provider_b": dict(fog_provider="provider_b", reb_private_key=market.keys[2],
                           fog_authorized_keys_file=str(d / "authorized_keys"),
                           fog_host_key_file=str(d / "host_key.pub"),
                           fog_access_endpoint="127.0.0.1:%d" % free_port()),
        "reb_rented": dict(ansible_user="root", ansible_ssh_private_key_file=str(d / "keys" / "provisioning"),
                           ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                                   "-o ConnectTimeout=3"),
    })
    return base
