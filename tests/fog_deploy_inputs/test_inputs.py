"""decenter.fog.fog_deploy's inputs from outside the role: where the app lives and the app's component table. A run
that lacks one fails with a sentence naming it before it touches a host or a cluster. (The table of
apps/simple_ocr/app.yml running for real: molecule's fog_deploy scenario and the lab.)"""
import yaml

from tests.support.playbook_run import run_playbook

PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: decenter.fog.fog_deploy
      fog_deploy_app: {app}
      fog_deploy_placement: {{placement: {{a: {{host: localhost, region: R}}, b: {{host: localhost, region: R}}}}}}
      fog_deploy_repository_password: not-a-real-one
"""


def play(tmp_path, descriptor):
    path = tmp_path / "app.yml"
    path.write_text(yaml.safe_dump(descriptor))
    return PLAY.format(app=yaml.safe_dump(descriptor, default_flow_style=True).strip()), path


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
