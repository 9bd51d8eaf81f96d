"""What the GUI reads from the buyer's inventory: the chain (its buyer view of the REB) and its hosts.

Chain options and the buyer address come from the inventory's `decenter.fog.reb` config with
`view: buyer` (written by playbooks/chain_up.yml in the lab); they hold no secret. The wallet key stays
in the inventory/Vault/env of the playbooks: the GUI never reads it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from .settings import ROOT

sys.path.insert(0, str(ROOT / "collections"))  # the collection, imported as Ansible does

ENV_OPTIONS = {"rpc_url": "DECENTER_REB_RPC_URL", "chain_id": "DECENTER_REB_CHAIN_ID",
               "contract_address": "DECENTER_REB_CONTRACT"}


class InventoryError(RuntimeError):
    """The inventory cannot be read; the message says why and what to do."""


def buyer_view(inventory):
    """The first `*.reb.yml` config of the inventory with view: buyer, as a dict ({} if none)."""
    inventory = Path(inventory)
    files = sorted(inventory.glob("*.reb.y*ml")) if inventory.is_dir() else []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("plugin") == "decenter.fog.reb" and data.get("view") == "buyer":
            return data
    return {}


def chain_options(settings, environ=None):
    """Chain options for the shared REB client and the buyer address: CLI, else buyer view, else env."""
    environ = os.environ if environ is None else environ
    view = buyer_view(settings.inventory)
    params = {"rpc_url": settings.rpc_url or view.get("rpc_url") or environ.get(ENV_OPTIONS["rpc_url"])
              or "http://127.0.0.1:8545",
              "chain_id": settings.chain_id or view.get("chain_id") or _int(environ.get(ENV_OPTIONS["chain_id"])),
              "contract_address": settings.contract_address or view.get("contract_address")
              or environ.get(ENV_OPTIONS["contract_address"]),
              "private_key": None, "confirmations": 0, "timeout": 10.0}
    buyer = settings.buyer or view.get("buyer") or ""
    if not params["contract_address"]:
        raise InventoryError("no REB address: the inventory %s has no decenter.fog.reb config with view: buyer "
                             "(playbooks/chain_up.yml writes rented.reb.yml); run the lab's lab_up, or give "
                             "--contract and --rpc-url." % settings.inventory)
    if not buyer:
        raise InventoryError("no buyer address: set `buyer:` in the inventory's buyer view (*.reb.yml) or give "
                             "--buyer 0x...; the GUI needs the address only, never the key.")
    return params, buyer


def _int(text):
    return int(text) if text and text.strip().isdigit() else None


def read_inventory(settings, timeout=120):
    """{'hostvars': {...}, 'groups': {...}} from `ansible-inventory --list` (the real inventory plugins)."""
    command = [str(Path(sys.executable).with_name("ansible-inventory")), "-i", str(settings.inventory), "--list"]
    if settings.extra_vars:
        command += ["-e", json.dumps(settings.extra_vars)]
    try:
        out = subprocess.run(command, cwd=str(settings.root), env=ansible_env(settings), capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InventoryError("ansible-inventory did not answer within %d s for %s." % (timeout, settings.inventory))
    if out.returncode != 0:
        raise InventoryError("ansible-inventory failed for %s: %s" % (settings.inventory, _last_line(out.stderr)))
    data = _plain(json.loads(out.stdout))
    hostvars = data.get("_meta", {}).get("hostvars", {})
    groups = dict((k, v) for k, v in data.items() if k != "_meta")
    return {"hostvars": hostvars, "groups": groups}


def _plain(value):
    """Values as the plugins set them: ansible-inventory writes untrusted (unsafe) strings as
    {"__ansible_unsafe": text}; the GUI treats every inventory value as data anyway."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def group_hosts(inventory, group):
    """Hosts of `group` and of its children, in inventory order, each once."""
    seen, out, stack = set(), [], [group]
    while stack:
        name = stack.pop(0)
        if name in seen:
            continue
        seen.add(name)
        entry = inventory["groups"].get(name, {})
        out.extend(h for h in entry.get("hosts", []) if h not in out)
        stack.extend(entry.get("children", []))
    return out


def ansible_env(settings):
    """Environment of the ansible processes the GUI starts: the repo's config and venv, no colour."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(settings.root / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip() and "WARNING" not in line]
    return lines[-1][:400] if lines else "no message"
