"""decenter.fog.fog_deploy's inputs from outside the role: where the app lives, the app's component table and how the
node's devices run. A run that lacks one fails with a sentence naming it before it touches a host or a cluster. (The
table of apps/simple_ocr/app.yml running for real: molecule's fog_deploy scenario, the lab and
tests/fog_deploy_kubernetes.)"""
from pathlib import Path

import yaml

from tests.support.playbook_run import run_playbook

ROLE = Path(__file__).resolve().parents[2] / "collections/ansible_collections/decenter/fog/roles/fog_deploy"

PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: decenter.fog.fog_deploy
      fog_deploy_app: {app}
      fog_deploy_placement: {placement}
      fog_deploy_repository_password: not-a-real-one
"""


def play(tmp_path, descriptor):
    """The play deploying `descriptor` with every microservice placed on localhost, and the descriptor's file."""
    path = tmp_path / "app.yml"
    path.write_text(yaml.safe_dump(descriptor))
    placement = {"placement": {ms["name"]: {"host": "localhost", "region": "R"} for ms in descriptor["microservices"]}}
    return PLAY.format(app=yaml.safe_dump(descriptor, default_flow_style=True).strip(),
                       placement=yaml.safe_dump(placement, default_flow_style=True).strip()), path


def failure(run):
    assert run.rc != 0, run
    return " ".join(str(m) for m in run.failed_tasks().values())


def test_hosts_target_without_where_the_app_lives(tmp_path):
    text, _ = play(tmp_path, {"name": "demo", "microservices": [{"name": "a", "component": "alpha"}]})
    msg = failure(run_playbook(text, extra_vars={"fog_deploy_python": "/usr/bin/python3"}))
    assert msg.startswith("fog_deploy_app_path, fog_deploy_app_file not set: the hosts target needs"), msg


def test_a_component_missing_from_the_table(tmp_path):
    descriptor = {"name": "demo", "microservices": [{"name": "a", "component": "alpha"}, {"name": "b"}],
                  "components": {"beta": {"argv": ["/bin/true"], "env": {}}}}
    text, path = play(tmp_path, descriptor)
    run = run_playbook(text, extra_vars={"fog_deploy_python": "/usr/bin/python3", "fog_deploy_app_path": str(tmp_path),
                                         "fog_deploy_app_file": str(path)})
    msg = failure(run)
    assert "%s has no entry under components for microservices" % path in msg, msg
    assert "b, a (component unset, alpha)" in msg or "a, b (component alpha, unset)" in msg, msg


def test_kubernetes_target_without_manifests(tmp_path):
    text, _ = play(tmp_path, {"name": "demo", "microservices": [{"name": "a", "component": "alpha"}]})
    msg = failure(run_playbook(text, extra_vars={"fog_deploy_target": "kubernetes"}))
    assert msg.startswith("fog_deploy_kubernetes_manifests is not set"), msg


def test_kubernetes_target_without_the_descriptor(tmp_path):
    text, _ = play(tmp_path, {"name": "demo", "microservices": [{"name": "a", "component": "alpha"}]})
    msg = failure(run_playbook(text, extra_vars={"fog_deploy_target": "kubernetes",
                                                 "fog_deploy_kubernetes_manifests": str(tmp_path)}))
    assert msg.startswith("fog_deploy_app_file is not set: the kubernetes target reads"), msg


def test_a_component_without_its_kubernetes_env(tmp_path):
    # a's component has no entry, b has no component, c's entry has no kubernetes_env; d's empty one is enough.
    descriptor = {"name": "demo", "microservices": [{"name": "a", "component": "alpha"}, {"name": "b"},
                                                    {"name": "c", "component": "beta"}, {"name": "d", "component": "delta"}],
                  "components": {"beta": {"argv": ["/bin/true"], "env": {}}, "delta": {"kubernetes_env": {}}}}
    text, path = play(tmp_path, descriptor)
    run = run_playbook(text, extra_vars={"fog_deploy_target": "kubernetes", "fog_deploy_kubernetes_manifests": str(tmp_path),
                                         "fog_deploy_app_file": str(path)})
    msg = failure(run)
    assert "%s has no kubernetes_env under components for microservices b, a, c (component unset, alpha, beta)" % path in msg, msg
    assert "give each microservice a component and its entry in the descriptor's components table a kubernetes_env" in msg, msg


DEVICES = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: The node's devices
      ansible.builtin.include_role:
        name: decenter.fog.fog_deploy
        tasks_from: devices.yml
      vars:
        fog_devices: [cam1:camera, mic1:microphone, cam2:camera]
"""


def test_cameras_without_how_they_run():
    msg = failure(run_playbook(DEVICES))
    assert msg.startswith("fog_deploy_device_kinds.camera, fog_deploy_camera_app_path not set, and this node has cameras"
                          " (cam1, cam2): fog_deploy_device_kinds.camera is the camera's argv, env and url"), msg


def test_a_device_table_without_cameras(tmp_path):
    run = run_playbook(DEVICES, extra_vars={"fog_deploy_camera_app_path": str(tmp_path),
                                            "fog_deploy_device_kinds": {"microphone": {"argv": ["/bin/true"]}}})
    assert failure(run).startswith("fog_deploy_device_kinds.camera not set, and this node has cameras (cam1, cam2)")


def test_a_camera_kind_without_its_url(tmp_path):
    run = run_playbook(DEVICES, extra_vars={"fog_deploy_camera_app_path": str(tmp_path),
                                            "fog_deploy_device_kinds": {"camera": {"argv": ["/bin/true"]}}})
    assert failure(run).startswith("fog_deploy_device_kinds.camera.url not set, and this node has cameras (cam1, cam2): "
                                   "fog_deploy_device_kinds.camera is the camera's argv, env and url"), failure(run)


ACL = """
- hosts: localhost
  gather_facts: false
  vars:
    fog_deploy_repository_password: not-a-real-one
    fog_deploy_placement: {{placement: {{reader: {{host: rented}}, writer: {{host: rented}}, keeper: {{host: localhost}}}}}}
  tasks:
    - name: Add the rented node as reservation 7
      ansible.builtin.add_host: {{name: rented, groups: reb_rented, reb_reservation: {{id: 7}}}}
    - name: Read the descriptor as the role does
      ansible.builtin.include_vars: {{file: {path}, name: fog_deploy__descriptor}}
    - name: Render the Repository's users
      ansible.builtin.debug:
        msg: "{{{{ lookup('ansible.builtin.template', '{template}') }}}}"
      vars:
        fog_deploy_app: "{{{{ lookup('ansible.builtin.file', '{path}') | from_yaml }}}}"
"""


def test_a_rented_nodes_repository_user_gets_the_acl_its_component_declares(tmp_path):
    """The rental users' ACL rule is the component's rental_acl in the app's descriptor (%s its device), not a rule
    of the role's; a component without one gets no user. The other values of the table are templates of a service
    (they name ms): rendering the users must not touch them."""
    descriptor = {"name": "demo", "microservices": [
        {"name": "writer", "component": "feeder", "device": "cam9"}, {"name": "reader", "component": "viewer"},
        {"name": "keeper", "component": "feeder", "device": "cam1"}],
        "components": {"feeder": {"argv": ["{{ ms.device }}"], "rental_acl": "-@all +xadd ~feed:%s"},
                       "viewer": {"argv": ["{{ ms.name }}"]}}}
    path = tmp_path / "app.yml"
    path.write_text(yaml.safe_dump(descriptor))
    template = ROLE / "templates" / "redis-users.acl.j2"
    run = run_playbook(ACL.format(path=path, template=template))
    assert run.rc == 0, run
    users = [line for line in run.task("Render the Repository's users")["msg"].splitlines() if line.strip()]
    assert users[0].startswith("user default on #"), users
    assert len(users) == 2 and users[1].startswith("user rental-7 on #"), users
    assert users[1].endswith(" -@all +xadd ~feed:cam9"), users


def test_an_app_without_a_name_is_refused_on_either_target():
    text = PLAY.format(app="{microservices: []}", placement="{}")
    for target in ("hosts", "kubernetes"):
        msg = failure(run_playbook(text, extra_vars={"fog_deploy_target": target}))
        assert msg.startswith("fog_deploy_app has no name; pass the app's descriptor"), (target, msg)
