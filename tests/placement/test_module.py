"""decenter.fog.fog_placement run by a real ansible-playbook on apps/simple_ocr/app.yml and the lab's hosts.

One playbook holds every case (bad ones with ignore_errors), so ansible starts once; each case is a test over
the parsed JSON results. A second run shows how a bad descriptor stops a play: a clear message, no traceback.
"""
import json
import sys
import tempfile
from pathlib import Path

import pytest

from tests.placement.conftest import APP_FILE, LAB_HOSTS, ROOT
from tests.support.playbook_run import run_playbook as support_run_playbook

PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():
    PYTHON = Path(sys.executable)
CAMKOR1_FILTERS = {"device": "camkor1", "region": "SEOUL-KETI", "min_cpu_millicores": 600, "min_memory_mib": 512,
                   "min_storage_gib": 1}

PLAYBOOK = """\
- name: Placement of simple_ocr
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan on provider A's hosts
      decenter.fog.fog_placement:
        app_file: "{{ app_file }}"
        hosts: "{{ own_hosts }}"
        links: "{{ links }}"
      register: plan_a

    - name: Plan in check mode with the descriptor as a dict
      decenter.fog.fog_placement:
        app: "{{ lookup('ansible.builtin.file', app_file) | from_yaml }}"
        hosts: "{{ own_hosts }}"
        links: "{{ links }}"
      check_mode: true

    - name: Plan with the rented SEOUL-KETI node
      decenter.fog.fog_placement:
        app_file: "{{ app_file }}"
        hosts: "{{ own_hosts + rented_hosts }}"
        links: "{{ links }}"
        require_feasible: true

    - name: Offer filters of the first unmet requirement, as the reserve playbook hands them on
      ansible.builtin.debug:
        msg: "{{ plan_a.reb_filters }}"

    - name: Require feasibility on provider A's hosts alone
      decenter.fog.fog_placement:
        app_file: "{{ app_file }}"
        hosts: "{{ own_hosts }}"
        require_feasible: true
      ignore_errors: true

    - name: Data flow to a microservice that does not exist
      decenter.fog.fog_placement:
        app:
          name: broken
          microservices:
            - {name: processor, resources: {cpu_millicores: 500, memory_mib: 256}}
          dataflows:
            - {source: processor, destination: repositry, bandwidth_kbps: 16}
        hosts: "{{ own_hosts }}"
      ignore_errors: true

    - name: Descriptor file that does not exist
      decenter.fog.fog_placement:
        app_file: "{{ app_file }}.missing"
        hosts: "{{ own_hosts }}"
      ignore_errors: true

    - name: Descriptor file that is not YAML
      decenter.fog.fog_placement:
        app_file: "{{ broken_file }}"
        hosts: "{{ own_hosts }}"
      ignore_errors: true

    - name: Descriptor path that is a directory
      decenter.fog.fog_placement:
        app_file: "{{ app_file | dirname }}"
        hosts: "{{ own_hosts }}"
      ignore_errors: true

    - name: Descriptor file that is not UTF-8
      decenter.fog.fog_placement:
        app_file: "{{ binary_file }}"
        hosts: "{{ own_hosts }}"
      ignore_errors: true

    - name: Both app and app_file
      decenter.fog.fog_placement:
        app: {name: x}
        app_file: "{{ app_file }}"
      ignore_errors: true

    - name: A host without region
      decenter.fog.fog_placement:
        app_file: "{{ app_file }}"
        hosts: [{name: nowhere, tier: 0, cpu_millicores: 1000, memory_mib: 1024}]
      ignore_errors: true

    - name: Negative capacity of a host
      decenter.fog.fog_placement:
        app_file: "{{ app_file }}"
        hosts: "{{ own_hosts + [{'name': 'tiny', 'region': 'X', 'tier': 1, 'cpu_millicores': -1, 'memory_mib': 1}] }}"
      ignore_errors: true
"""

FAILING_PLAYBOOK = """\
- name: A bad descriptor stops the play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan a descriptor with a negative CPU request
      decenter.fog.fog_placement:
        app:
          name: broken
          externalendpoints: [{name: cam1, kind: camera, region: POVO}]
          microservices:
            - {name: processor, resources: {cpu_millicores: -500, memory_mib: 256}, device: cam1}
        hosts: "{{ own_hosts }}"

    - name: Never reached
      ansible.builtin.debug:
        msg: unreachable
"""

LINKS = [{"source": "CLOUD", "destination": "POVO", "latency_ms": 5},
         {"source": "CLOUD", "destination": "SEOUL-KETI", "latency_ms": 260}]


def run_playbook(text, tmp, callback):
    """`text` on localhost (tests.support.playbook_run) with the descriptors' paths and the lab's hosts as vars."""
    broken = tmp / "broken.yml"
    broken.write_text("name: broken\nmicroservices: [{name: a\n")
    binary = tmp / "binary.yml"
    binary.write_bytes(b"name: \xff\xfe\x00simple_ocr\n")
    extra = dict(app_file=str(APP_FILE), broken_file=str(broken), binary_file=str(binary), links=LINKS,
                 own_hosts=[LAB_HOSTS["cloud"], LAB_HOSTS["povo"]], rented_hosts=[LAB_HOSTS["seoul-keti"]],
                 ansible_python_interpreter=str(PYTHON))
    return support_run_playbook(text, extra_vars=extra, callback=callback, timeout=240)


@pytest.fixture(scope="module")
def results():
    """{task name: localhost result} of one run of PLAYBOOK."""
    with tempfile.TemporaryDirectory(prefix="fog-placement-") as tmp:
        run = run_playbook(PLAYBOOK, Path(tmp), "ansible.posix.json")
    output = run.output
    assert "Traceback" not in output, output[-6000:]
    assert run.rc == 0, output[-6000:]
    parsed = run.parsed
    found = {}
    for task in parsed["plays"][0]["tasks"]:
        found[task["task"]["name"]] = task["hosts"]["localhost"]
    assert parsed["stats"]["localhost"]["changed"] == 0
    return found


def test_provider_a_alone_leaves_processor_camkor1_unmet(results):
    plan = results["Plan on provider A's hosts"]
    assert not plan.get("failed") and plan["changed"] is False
    assert plan["feasible"] is False
    assert {ms: p["host"] for ms, p in plan["placement"].items()} == {
        "repository": "cloud", "webserver": "cloud", "processor-cam1": "povo"}
    [unmet] = plan["unmet"]
    assert unmet["microservice"] == "processor-camkor1" and unmet["requirement"] == "device"
    assert "provider_a has none" in unmet["reason"]
    assert unmet["offer_filters"] == CAMKOR1_FILTERS
    assert plan["reb_filters"] == CAMKOR1_FILTERS
    assert results["Offer filters of the first unmet requirement, as the reserve playbook hands them on"]["msg"] \
        == CAMKOR1_FILTERS
    assert plan["regions"]["POVO"]["devices"] == ["cam1"]


def test_check_mode_gives_the_same_answer(results):
    checked = results["Plan in check mode with the descriptor as a dict"]
    plan = results["Plan on provider A's hosts"]
    assert checked["changed"] is False
    for key in ("placement", "unmet", "feasible", "reb_filters", "regions", "app_name"):
        assert checked[key] == plan[key]


def test_the_rented_node_makes_the_app_feasible(results):
    plan = results["Plan with the rented SEOUL-KETI node"]
    assert not plan.get("failed")
    assert plan["feasible"] is True and plan["unmet"] == [] and plan["reb_filters"] == {}
    assert plan["placement"]["processor-camkor1"] == {"host": "seoul-keti", "region": "SEOUL-KETI",
                                                       "provider": "provider_b", "tier": 1}


def test_require_feasible_fails_with_the_reasons(results):
    failed = results["Require feasibility on provider A's hosts alone"]
    assert failed["failed"] is True
    assert failed["msg"].startswith("simple_ocr cannot be placed on the given hosts: processor-camkor1 needs the "
                                    "region of camkor1 (a host with camera camkor1 in region SEOUL-KETI); "
                                    "provider_a has none.")
    # The plan still comes back for whoever handles the failure.
    assert failed["reb_filters"] == CAMKOR1_FILTERS


@pytest.mark.parametrize("task, message", [
    ("Data flow to a microservice that does not exist",
     "app broken: dataflows[0]: repositry is neither a microservice nor an external endpoint of the app; known "
     "names: processor."),
    ("Descriptor file that does not exist", "app_file %s.missing does not exist" % APP_FILE),
    ("Descriptor file that is not YAML", "is not valid YAML at line 3, column 1"),
    ("Descriptor path that is a directory", "app_file %s is not a file: give the path of the descriptor"
     % APP_FILE.parent),
    ("Descriptor file that is not UTF-8", "binary.yml is not UTF-8 text: save the descriptor as UTF-8 YAML."),
    ("Both app and app_file", "parameters are mutually exclusive: app|app_file"),
    ("A host without region", "missing required arguments: region"),
    ("Negative capacity of a host", "host tiny: cpu_millicores must be a whole number >= 0, got -1."),
])
def test_bad_input_fails_with_a_clear_message(results, task, message):
    result = results[task]
    assert result["failed"] is True
    assert message in result["msg"]
    # ansible-core 2.19 always adds an error summary; no traceback is in it unless the user asks for tracebacks.
    assert result.get("exception") in (None, "(traceback unavailable)")
    assert "Traceback" not in json.dumps(result)


def test_a_bad_descriptor_stops_the_play_without_a_traceback(tmp_path):
    run = run_playbook(FAILING_PLAYBOOK, tmp_path, None)
    output = run.output
    assert run.rc == 2, output
    assert ("microservice processor: resources.cpu_millicores must be a whole number >= 0, got -500 "
            "(1000 millicores = one CPU).") in output
    assert "Traceback" not in output and "unreachable" not in output.replace("unreachable=0", "")
