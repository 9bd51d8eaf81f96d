"""The role decenter.fog.resource_seller (production path): run twice with every path in a temporary root and the
service not managed (no systemd here); what it installs is checked: the unit (and systemd-analyze verify), the
rulebook against ansible-rulebook's schema, the variables, the policy, the key only in the 0600 environment file."""
import configparser
import shlex
import subprocess

import pytest
import yaml
from ansible_rulebook.validators import Validate

from tests.seller.seller_env import tools_env
from tests.support.chain import ROOT
from tests.support.playbook_run import run_playbook

KEY = "0x" + "ab" * 32  # a made-up key: it must appear in agent.env only
PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: decenter.fog.resource_seller
"""


def run_role(tmp_path, **overrides):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    settings = {
        "resource_seller_address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "resource_seller_private_key": KEY,
        "resource_seller_rpc_url": "https://rpc.example.org",
        "resource_seller_chain_id": "31337",
        "resource_seller_contract_address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "resource_seller_project_dir": str(ROOT),
        "resource_seller_venv": str(ROOT / ".venv"),
        "resource_seller_inventory": str(inventory),
        "resource_seller_config_dir": str(tmp_path / "etc"),
        "resource_seller_state_dir": str(tmp_path / "var"),
        "resource_seller_unit_dir": str(tmp_path / "units"),
        "resource_seller_user": "root",
        "resource_seller_manage_service": False,
        "resource_seller_sale_policy": {"refused_buyers": ["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"],
                                        "min_hours": 1, "max_hours": 48, "min_price_per_hour": 10 ** 15},
    }
    settings.update(overrides)
    (tmp_path / "units").mkdir(exist_ok=True)
    (tmp_path / "play.yml").write_text(PLAY)
    settings["ansible_python_interpreter"] = str(ROOT / ".venv" / "bin" / "python")
    return run_playbook(tmp_path / "play.yml", extra_vars=settings, callback=None, env=tools_env())


def test_installs_a_valid_unit_rulebook_and_policy_and_reruns_change_nothing(tmp_path):
    first = run_role(tmp_path)
    assert first.rc == 0, first.stdout[-4000:]
    assert KEY not in first.stdout + first.stderr
    second = run_role(tmp_path)
    assert second.rc == 0 and "changed=0" in second.stdout.split("PLAY RECAP")[-1], second.stdout[-3000:]

    unit_path = tmp_path / "units" / "decenter-resource-seller.service"
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.read_string(unit_path.read_text())
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == str(ROOT / ".venv" / "bin" / "ansible-rulebook")
    rulebook = argv[argv.index("--rulebook") + 1]
    variables = argv[argv.index("--vars") + 1]
    assert argv[argv.index("-i") + 1] == str(tmp_path / "inventory")
    assert service["EnvironmentFile"] == str(tmp_path / "etc" / "agent.env") and service["Restart"] == "always"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    verify = subprocess.run(["systemd-analyze", "verify", str(unit_path)], capture_output=True, text=True)
    assert "ExecStart" not in verify.stderr and "Unknown" not in verify.stderr, verify.stderr

    Validate.rulebook(yaml.safe_load(open(rulebook)))  # ansible-rulebook's own schema
    assert open(rulebook).read() == (ROOT / "rulebooks" / "resource_seller.yml").read_text()
    rulebook_vars = yaml.safe_load(open(variables))
    assert rulebook_vars["seller_address"] == "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    assert rulebook_vars["seller_confirmations"] == 2
    assert rulebook_vars["seller_cursor_file"] == str(tmp_path / "var" / "cursor.json")
    assert rulebook_vars["seller_playbook"] == str(ROOT / "playbooks" / "seller" / "answer.yml")

    env_file = tmp_path / "etc" / "agent.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert "DECENTER_REB_PRIVATE_KEY=%s" % KEY in env_file.read_text()
    for path in list((tmp_path / "etc").iterdir()) + [unit_path]:
        if path != env_file:
            assert KEY not in path.read_text(), path
    assert (tmp_path / "etc").stat().st_mode & 0o777 == 0o700
    policy = yaml.safe_load((tmp_path / "inventory" / "group_vars" / "all" / "sale_policy.yml").read_text())
    assert policy["fog_sale_policy"]["max_hours"] == 48


@pytest.mark.parametrize("overrides, message", [
    ({"resource_seller_sale_policy": {"max_price": 3}}, "fog_sale_policy has unknown fields max_price"),
    ({"resource_seller_contract_address": "REB"}, "must be Ethereum addresses"),
    ({"resource_seller_private_key": ""}, "resource_seller_private_key must be set"),
])
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, overrides, message):
    out = run_role(tmp_path, **overrides)
    assert out.rc != 0 and message in out.stdout, out.stdout[-3000:]
    assert "Traceback" not in out.stdout + out.stderr and not (tmp_path / "etc").exists()


@pytest.mark.parametrize("name", ["resource_seller.yml", "resource_seller_controller.yml"])
def test_the_rulebooks_pass_ansible_rulebooks_schema(name):
    data = yaml.safe_load((ROOT / "rulebooks" / name).read_text())
    Validate.rulebook(data)
    (source,) = data[0]["sources"]
    assert "decenter.fog.reb_events" in source
