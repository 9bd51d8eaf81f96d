"""AWX as code (awx/), checked without an AWX server: syntax, playbooks, surveys, workflow, credential type."""
import pytest

from tests.quality import awx_model
from tests.quality.awx_model import AWX, ROOT
from tests.quality.tools import run, tool

STEPS = {"Publish": "playbooks/publish.yml", "Reserve": "playbooks/reserve.yml",
         "Provision": "playbooks/provision.yml", "Deploy": "playbooks/deploy.yml", "Release": "playbooks/release.yml",
         "Answer requests": "playbooks/seller/answer.yml"}


@pytest.fixture(scope="module")
def awx():
    return awx_model.awx_vars()


@pytest.fixture(scope="module")
def templates(awx):
    return {jt["name"]: jt for jt in awx["awx_job_templates"]}


def test_awx_playbook_passes_syntax_check():
    proc, _ = run([tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", str(AWX / "configure.yml")])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_one_job_template_per_step_with_its_playbook(templates):
    assert {name: jt["playbook"] for name, jt in templates.items()} == STEPS


@pytest.mark.parametrize("name", sorted(STEPS))
def test_job_template_playbook_exists_and_parses(templates, name):
    playbook = ROOT / templates[name]["playbook"]
    assert playbook.is_file(), "%s runs %s, which does not exist" % (name, playbook)
    proc, _ = run([tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_variable_reader_finds_reads_and_nothing_else():
    # The survey check below is only as good as this reader: it must see reads and invent none.
    reads = awx_model.variables_read(ROOT / "playbooks" / "reserve.yml")
    assert {"fog_hours", "fog_max_price_per_hour", "fog_offer_filters", "fog_app_name"} <= reads  # fog_app_name: imported task file
    assert "fog_no_such_variable" not in reads
    assert "wireguard_members" in awx_model.variables_read(ROOT / "playbooks" / "provision.yml")  # via the role


@pytest.mark.parametrize("name", sorted(STEPS))
def test_every_survey_variable_is_read_by_its_playbook(templates, name):
    jt = templates[name]
    reads = awx_model.variables_read(ROOT / jt["playbook"])
    unread = [q["variable"] for q in jt["survey"] if q["variable"] not in reads]
    assert not unread, "survey of %s asks for %s, which %s never reads" % (name, unread, jt["playbook"])


def test_surveys_ask_for_offer_filters_hours_and_max_price(templates):
    asked = {q["variable"] for q in templates["Reserve"]["survey"]}
    assert {"fog_offer_region", "fog_offer_device", "fog_hours", "fog_max_price_per_hour"} <= asked


def test_survey_questions_are_well_formed(awx, templates):
    surveys = [jt["survey"] for jt in templates.values()] + [awx["awx_workflow_survey"]]
    for survey in surveys:
        variables = [q["variable"] for q in survey]
        assert len(variables) == len(set(variables)), variables
        for q in survey:
            assert q["type"] in ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
            assert q["question_name"] and isinstance(q["required"], bool), q
            if q["type"] == "integer" and q.get("default") not in (None, ""):
                assert q["min"] <= q["default"] <= q["max"], q


def test_workflow_survey_variables_are_read_by_a_playbook_of_the_workflow(awx, templates):
    used = {n["unified_job_template"]["name"] for n in awx["awx_workflow_nodes"]}
    reads = set().union(*(awx_model.variables_read(ROOT / templates[name]["playbook"]) for name in used))
    unread = [q["variable"] for q in awx["awx_workflow_survey"] if q["variable"] not in reads]
    assert not unread, "the Federate survey asks for %s, which no playbook of the workflow reads" % unread


def _graph(awx):
    nodes = {n["identifier"]: n for n in awx["awx_workflow_nodes"]}
    edges = {i: {kind: [e["identifier"] for e in n["related"].get(kind, [])] for kind in ("success_nodes", "failure_nodes")}
             for i, n in nodes.items()}
    return nodes, edges


def test_workflow_chains_the_steps_in_order(awx, templates):
    nodes, edges = _graph(awx)
    for node in nodes.values():
        assert node["unified_job_template"]["type"] == "job_template"
        assert node["unified_job_template"]["name"] in templates
    for targets in edges.values():
        assert set(targets["success_nodes"] + targets["failure_nodes"]) <= set(nodes)
    children = {t for e in edges.values() for t in e["success_nodes"] + e["failure_nodes"]}
    roots = [i for i in nodes if i not in children]
    assert len(roots) == 1
    path, current = [], roots[0]
    while current:
        path.append(nodes[current]["unified_job_template"]["name"])
        assert len(path) <= len(nodes), "the success path loops: %s" % path
        current = (edges[current]["success_nodes"] or [None])[0]
    assert path == ["Reserve", "Provision", "Deploy"], "the buyer starts at the check: publishing is the seller's"


def test_reserve_waits_for_the_sellers_answer_for_as_long_as_the_survey_says(awx, templates):
    questions = {q["variable"]: q for q in templates["Reserve"]["survey"]}
    assert questions["fog_answer_timeout"]["type"] == "integer" and questions["fog_answer_timeout"]["min"] >= 1
    assert "fog_answer_timeout" in {q["variable"] for q in awx["awx_workflow_survey"]}
    assert "fog_answer_timeout" in awx_model.variables_read(ROOT / "playbooks" / "reserve.yml")


@pytest.mark.parametrize("step", ["Provision", "Deploy"])
def test_failed_provision_or_deploy_runs_release(awx, step):
    nodes, edges = _graph(awx)
    (node,) = [i for i, n in nodes.items() if n["unified_job_template"]["name"] == step]
    on_failure = [nodes[t]["unified_job_template"]["name"] for t in edges[node]["failure_nodes"]]
    assert on_failure == ["Release"]


def test_reb_wallet_injects_exactly_the_env_the_modules_read(awx):
    (wallet,) = [t for t in awx["awx_credential_types"] if t["name"] == "REB wallet"]
    injected = awx_model.injector_fields(wallet)
    # Both sides parsed from code: the modules' env fallbacks and the inventory plugin's documented env.
    assert injected == awx_model.module_env_fallbacks()
    assert injected == awx_model.inventory_env_options()
    fields = {f["id"]: f for f in wallet["inputs"]["fields"]}
    assert set(injected.values()) <= set(fields)
    assert fields["private_key"].get("secret") is True


def test_provisioning_key_credential_feeds_the_production_inventory(awx):
    (key,) = [t for t in awx["awx_credential_types"] if t["name"] == "Fog provisioning key"]
    assert key["inputs"]["fields"][0]["secret"] is True
    (env_name,) = key["injectors"]["env"]
    assert env_name in (ROOT / "inventories" / "production" / "group_vars" / "all.yml").read_text()


def test_secrets_never_logged_and_connection_from_env_or_vault():
    plays = awx_model.load_yaml(AWX / "configure.yml")
    (play,) = plays
    defaults = play["module_defaults"]["group/awx.awx.controller"]
    assert defaults["controller_oauthtoken"] == "{{ awx_controller_token | default(omit) }}"
    for task in play["tasks"]:
        module = next(k for k in task if k.startswith(("awx.awx.", "ansible.builtin.")))
        if module == "awx.awx.credential":
            assert task.get("no_log") is True, task["name"]
    text = (AWX / "configure.yml").read_text() + "".join(p.read_text() for p in (AWX / "vars").glob("*.yml"))
    assert "0x" not in text.replace("0x address", "")  # no key or address committed


def test_inventories_are_sourced_from_existing_project_paths(awx):
    paths = {i["source_path"] for i in awx["awx_inventories"]}
    assert paths == {"inventories/lab/provider_a", "inventories/lab/provider_b", "inventories/production"}
    for path in paths:
        assert (ROOT / path / "hosts.yml").is_file()


def test_production_inventory_parses_without_secrets():
    inventory = ROOT / "inventories" / "production"
    proc, _ = run([tool("ansible-inventory"), "-i", str(inventory / "hosts.yml"), "--list"])
    assert proc.returncode == 0, proc.stderr
    import json
    data = json.loads(proc.stdout)
    assert {"kube_control_plane", "region_TRENTO", "region_POVO"} <= set(data)
    assert data["_meta"]["hostvars"]["trento-cloud-1"]["fog_overlay"] == "zerotier"
    assert data["_meta"]["hostvars"]["trento-cloud-1"]["fog_target"] == "kubernetes"
    text = "".join(p.read_text() for p in inventory.rglob("*.yml"))
    assert "PRIVATE KEY" not in text and "private_key:" not in text


def test_without_controller_or_wallet_it_says_what_to_set_and_contacts_nothing():
    cleared = dict((name, "") for name in ("CONTROLLER_HOST", "CONTROLLER_OAUTH_TOKEN", "CONTROLLER_PASSWORD",
                                           "DECENTER_REB_RPC_URL", "DECENTER_REB_CHAIN_ID", "DECENTER_REB_CONTRACT",
                                           "DECENTER_REB_PRIVATE_KEY"))
    proc, _ = run([tool("ansible-playbook"), str(AWX / "configure.yml")], extra_env=cleared, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "export CONTROLLER_HOST and CONTROLLER_OAUTH_TOKEN" in out, out[-3000:]
    assert "Traceback" not in out

    with_controller = dict(cleared, CONTROLLER_HOST="https://awx.invalid", CONTROLLER_OAUTH_TOKEN="t" * 20)
    proc, _ = run([tool("ansible-playbook"), str(AWX / "configure.yml")], extra_env=with_controller, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "The REB wallet credential needs all of: rpc_url, chain_id, contract_address, private_key" in out, out[-3000:]
    assert "t" * 20 not in out


def test_the_seller_answers_on_a_schedule_against_its_own_inventory(awx, templates):
    (schedule,) = awx["awx_schedules"]
    assert templates[schedule["job_template"]]["playbook"] == "playbooks/seller/answer.yml"
    assert schedule["rrule"].startswith("DTSTART:") and "FREQ=MINUTELY" in schedule["rrule"]
    inventories = {i["name"]: i["source_path"] for i in awx["awx_inventories"]}
    assert inventories[schedule["inventory"]] == "inventories/lab/provider_b"
