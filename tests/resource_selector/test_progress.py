"""The progress page's step comes from what each play declares (its name: "Step 4 - ...", "End - ..."), never
from a play's position: every play of the playbooks the GUI runs declares a step of the six, federate.yml's
imports name the steps their plays declare, and a reordered or added play cannot move the page to a wrong step."""
import re
from pathlib import Path

import pytest
import yaml

from apps.resource_selector.progress import STEPS, Translator, step_of
from apps.resource_selector.runs import PLAYBOOKS

ROOT = Path(__file__).resolve().parents[2]
STEP_IDS = [step for step, _ in STEPS]


def plays(path):
    """(name, file) of every play of a playbook, imports followed."""
    out = []
    for entry in yaml.safe_load(path.read_text()):
        if "ansible.builtin.import_playbook" in entry or "import_playbook" in entry:
            target = entry.get("ansible.builtin.import_playbook") or entry["import_playbook"]
            out += plays(path.parent / target)
        else:
            out.append((entry.get("name", ""), path.name))
    return out


GUI_PLAYBOOKS = sorted({p for books in PLAYBOOKS.values() for p in books})


@pytest.mark.parametrize("playbook", GUI_PLAYBOOKS + ["publish.yml", "seller/answer.yml"])
def test_every_play_declares_its_step(playbook):
    found = plays(ROOT / "playbooks" / playbook)
    assert found
    undeclared = [name for name, _ in found if step_of(name) is None]
    assert not undeclared, "plays of %s without 'Step N - ' or 'End - ' in their name: %s" % (playbook, undeclared)


def test_the_gui_playbooks_run_the_steps_in_order():
    federate = [step_of(name) for books in PLAYBOOKS["federate"] for name, _ in plays(ROOT / "playbooks" / books)]
    assert sorted(set(federate), key=STEP_IDS.index) == ["check", "reserve", "provision", "deploy"]
    assert [STEP_IDS.index(s) for s in federate] == sorted(STEP_IDS.index(s) for s in federate), federate
    assert {step_of(name) for name, _ in plays(ROOT / "playbooks" / "release.yml")} == {"release"}


def test_federate_names_its_imports_by_the_steps_their_plays_declare():
    entries = yaml.safe_load((ROOT / "federate.yml").read_text())
    for entry in entries:
        target = entry.get("ansible.builtin.import_playbook")
        if not target:
            assert step_of(entry["name"]), entry["name"]
            continue
        numbers = {int(n) for n in re.findall(r"\d", entry["name"].split(" - ")[0])}
        declared = {STEP_IDS.index(step_of(name)) + 1 for name, _ in plays(ROOT / target)}
        assert numbers == declared, (entry["name"], declared)


def play_start(name):
    return dict(event="playbook_on_play_start", event_data=dict(play=name, name=name))


def test_the_step_follows_the_play_not_its_position():
    t = Translator("reserve.yml")
    # Reordered, with a play added in front: each play event carries the step its play declares.
    names = ["Step 4 - Buyer reserves an offer", "Step 3 - Check what the buyer's own regions cannot meet",
             "A play that declares nothing", "End - Release on chain"]
    assert [t.translate(play_start(n))["step"] for n in names] == ["reserve", "check", None, "release"]
    task = dict(event="runner_on_ok", event_data=dict(task="t", host="h", res={}))
    assert t.translate(task)["step"] == "release"
    for bad in ("Step 7 - x", "Step 3: x", "step 3 - x", "Ending - x", ""):
        assert step_of(bad) is None, bad
