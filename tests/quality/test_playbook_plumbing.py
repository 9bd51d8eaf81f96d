"""Playbook plumbing set once: the switches (fog_overlay, fog_target) come from each buyer inventory's group_vars,
the run's group names and patterns from playbooks/vars/run.yml (fog_buyer, fog_release, fog_app_name) and
playbooks/seller/vars/seller.yml (fog_seller: ansible-rulebook runs answer.yml from a copy of playbooks/seller/
only), and the chain options from the inventory's reb_* variables (no module_defaults block); no play defaults
them again."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted([ROOT / "federate.yml"] + list((ROOT / "playbooks").glob("**/*.yml")))
SWITCHES = ("fog_overlay", "fog_target")
VARS_FILES = [ROOT / "playbooks" / "vars" / "run.yml", ROOT / "playbooks" / "seller" / "vars" / "seller.yml"]
DEFINED_IN = dict((name, path) for path in VARS_FILES for name in yaml.safe_load(path.read_text()))
RUN_NAMES = tuple(DEFINED_IN)
DEFAULTED = re.compile(r"\b(%s)\s*\|\s*default\(" % "|".join(SWITCHES + RUN_NAMES))
USES = re.compile(r"\b(%s)\b" % "|".join(RUN_NAMES))


def rel(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", PLAYBOOKS, ids=rel)
def test_nothing_defaults_a_switch_or_group_name_again(path):
    text = path.read_text()
    assert not DEFAULTED.findall(text), "%s defaults %s; set it once instead" % (rel(path), DEFAULTED.findall(text))
    assert "group/decenter.fog.reb" not in text, "the REB modules read reb_* variables themselves"


def imported_tasks(play, base):
    """Text of the task files a play imports (one level, as the playbooks do)."""
    out = ""
    for task in play.get("tasks") or []:
        target = task.get("ansible.builtin.import_tasks")
        if target:
            out += (base / target).read_text()
    return out


@pytest.mark.parametrize("path", [p for p in PLAYBOOKS if "/vars/" not in str(p) and "/tasks/" not in str(p)], ids=rel)
def test_every_play_that_uses_a_run_name_loads_its_vars_file(path):
    for play in yaml.safe_load(path.read_text()) or []:
        if "ansible.builtin.import_playbook" in play:
            continue
        loaded = play.get("vars_files")
        loaded = [loaded] if isinstance(loaded, str) else loaded or []
        loaded = {(path.parent / f).resolve() for f in loaded}
        for name in set(USES.findall(yaml.safe_dump(play) + imported_tasks(play, path.parent))):
            assert DEFINED_IN[name] in loaded, "%s: play %r uses %s without vars_files %s" % (
                rel(path), play.get("name"), name, rel(DEFINED_IN[name]))
        # What ansible-rulebook copies (the playbook's own directory) must hold every file the play loads.
        if "seller" in path.parts:
            assert all(path.parent in f.parents for f in loaded), (rel(path), loaded)


def buyer_inventories():
    """Every inventory that runs the buyer's playbooks: the lab's provider A and production."""
    return [ROOT / "inventories" / "lab" / "provider_a" / "group_vars" / "all" / "buyer.yml",
            ROOT / "inventories" / "production" / "group_vars" / "all.yml"]


@pytest.mark.parametrize("path", buyer_inventories(), ids=rel)
def test_each_buyer_inventory_sets_the_switches(path):
    values = yaml.safe_load(path.read_text())
    assert values["fog_overlay"] in ("wireguard", "zerotier") and values["fog_target"] in ("hosts", "kubernetes")
