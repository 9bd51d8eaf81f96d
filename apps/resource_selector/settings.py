"""Command line and environment of the GUI server, checked before anything listens."""
import argparse
import ipaddress
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN_ENV = "RESOURCE_SELECTOR_TOKEN"
DEFAULT_PORT = 8765


class SettingsError(ValueError):
    """A setting the server cannot start with; the message says which and what to do."""


@dataclass
class Settings:
    inventory: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    webserver_port: int = 0          # the Webserver proxy's own port (own origin); 0: any free port
    token: str = ""                   # required when host is not loopback
    extra_vars: dict = field(default_factory=dict)
    buyer_group: str = "provider_a"
    app_name: str = "simple_ocr"
    rpc_url: str = ""
    chain_id: int = None
    contract_address: str = ""
    buyer: str = ""
    webserver_url: str = ""           # overrides the lab's Webserver found by placement
    webserver_netns: str = ""
    root: Path = ROOT

    @property
    def loopback(self):
        return is_loopback(self.host)


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv=None, environ=None):
    environ = os.environ if environ is None else environ
    p = argparse.ArgumentParser(prog="python -m apps.resource_selector",
                                description="Resource Selector GUI of the DECENTER Brokerage Platform.")
    p.add_argument("--inventory", required=True, help="the buyer's Ansible inventory (e.g. inventories/lab/provider_a)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the GUI (default %d)" % DEFAULT_PORT)
    p.add_argument("--webserver-port", type=int, default=0,
                   help="port of the proxy to the app's Webserver (its own origin; default: a free port)")
    p.add_argument("--token-file", help="file holding the access token (else env %s)" % TOKEN_ENV)
    p.add_argument("--extra-vars", "-e", default="{}",
                   help="JSON extra vars given to every playbook, or @file with JSON/YAML")
    p.add_argument("--buyer-group", default="provider_a", help="inventory group of the buyer's own hosts")
    p.add_argument("--app", default="simple_ocr", help="application under apps/<name>/app.yml")
    p.add_argument("--rpc-url", default="", help="JSON-RPC endpoint (default: the inventory's buyer view)")
    p.add_argument("--contract", default="", help="REB address (default: the inventory's buyer view)")
    p.add_argument("--buyer", default="", help="buyer address (default: the inventory's buyer view)")
    p.add_argument("--webserver-url", default="", help="the app's Webserver (default: found by placement)")
    p.add_argument("--webserver-netns", default="", help="network namespace the Webserver is reached from")
    args = p.parse_args(argv)
    return build(args, environ)


def build(args, environ):
    inventory = Path(args.inventory)
    if not inventory.is_absolute():
        inventory = (Path.cwd() / inventory).resolve()
    if not inventory.exists():
        raise SettingsError("inventory %s does not exist: give the buyer's inventory, e.g. --inventory "
                            "inventories/lab/provider_a."
                            % inventory)
    for name in ("port", "webserver_port"):
        value = getattr(args, name)
        if not 0 <= value <= 65535 or (name == "port" and value == 0):
            raise SettingsError("--%s %d is not a TCP port (1-65535)." % (name.replace("_", "-"), value))
    token = ""
    if args.token_file:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as e:
            raise SettingsError("cannot read --token-file %s (%s)." % (args.token_file, e.strerror))
    token = token or environ.get(TOKEN_ENV, "").strip()
    if not is_loopback(args.host) and len(token) < 16:
        raise SettingsError("--host %s is not a loopback address, so the GUI needs an access token of at least 16 "
                            "characters: put one in a file given by --token-file or in %s (e.g. from "
                            "`openssl rand -hex 24`)." % (args.host, TOKEN_ENV))
    return Settings(inventory=inventory, host=args.host, port=args.port, webserver_port=args.webserver_port,
                    token=token, extra_vars=extra_vars(args.extra_vars), buyer_group=args.buyer_group,
                    app_name=args.app, rpc_url=args.rpc_url, contract_address=args.contract, buyer=args.buyer,
                    webserver_url=args.webserver_url, webserver_netns=args.webserver_netns)


def extra_vars(text):
    if text.startswith("@"):
        import yaml
        path = Path(text[1:])
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise SettingsError("cannot read extra vars file %s: %s" % (path, e))
    else:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise SettingsError("--extra-vars is not JSON (%s); give a JSON object or @file." % e)
    if not isinstance(data, dict):
        raise SettingsError("--extra-vars must be a mapping of variable names to values.")
    return data


def fail(message):
    sys.exit("resource_selector: " + message)
