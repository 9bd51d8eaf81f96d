"""Fixtures of the placement tests: the simple_ocr descriptor and the lab's hosts (Table I) as the
inventory describes them (inventories/lab/provider_a and provider_b), turned into host dicts the way a playbook does."""
import copy
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Import the collection as Ansible does: ansible_collections.decenter.fog...
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import host_from_hostvars  # noqa: E402

APP_FILE = ROOT / "apps" / "simple_ocr" / "app.yml"
LAB = ROOT / "inventories" / "lab"


def _groups_of(tree, parents=()):
    """{host: [groups]} of a YAML inventory tree."""
    found = {}
    for group, body in (tree or {}).items():
        body = body or {}
        for host in (body.get("hosts") or {}):
            found.setdefault(host, []).extend(parents + (group,))
        for host, groups in _groups_of(body.get("children"), parents + (group,)).items():
            found.setdefault(host, []).extend(groups)
    return found


def lab_hosts():
    """Every fog host of the lab, from both organizations' inventories: group_vars/all, then the group_vars of its
    groups (fog_provider), then its host_vars."""
    hosts = {}
    for org in ("provider_a", "provider_b"):
        inventory = LAB / org
        groups = _groups_of(yaml.safe_load((inventory / "hosts.yml").read_text()))
        common = {}
        for path in sorted((inventory / "group_vars" / "all").glob("*.yml")):
            common.update(yaml.safe_load(path.read_text()) or {})
        for path in sorted((inventory / "host_vars").glob("*.yml")):
            name = path.stem
            hostvars = dict(common)
            for group in groups.get(name, []):
                group_file = inventory / "group_vars" / ("%s.yml" % group)
                if group_file.exists():
                    hostvars.update(yaml.safe_load(group_file.read_text()) or {})
            hostvars.update(yaml.safe_load(path.read_text()))
            hosts[name] = host_from_hostvars(name, hostvars)
    return hosts


LAB_HOSTS = lab_hosts()


@pytest.fixture
def app():
    return yaml.safe_load(APP_FILE.read_text())


@pytest.fixture
def hosts():
    """The lab's hosts by name (a fresh copy per test)."""
    return copy.deepcopy(LAB_HOSTS)


@pytest.fixture
def provider_a(hosts):
    return [hosts["cloud"], hosts["povo"]]
