"""decenter.fog.gc_freeze, run for real: the repository's ansible.cfg enables it, and a task's worker (a fork of the
controller) inherits the controller's objects frozen, so its garbage collection leaves them alone. Without the
callback, nothing is frozen: the control that shows the check can fail."""
from tests.support.playbook_run import ROOT, run_playbook

# A filter runs in the task's worker process: it reports how many objects that process inherited frozen.
FILTER = """
import gc


class FilterModule:
    def filters(self):
        return {"frozen_objects": lambda _: gc.get_freeze_count()}
"""
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: First task
      ansible.builtin.debug:
        msg: "{{ 0 | frozen_objects }}"
    - name: Second task
      ansible.builtin.debug:
        msg: "{{ 0 | frozen_objects }}"
"""


def frozen(tmp_path, **env):
    (tmp_path / "frozen_objects.py").write_text(FILTER)
    run = run_playbook(PLAY, env=dict(env, ANSIBLE_FILTER_PLUGINS=str(tmp_path)))
    assert run.rc == 0, run.output[-3000:]
    return [int(run.task(name)["msg"]) for name in ("First task", "Second task")]


def test_the_workers_inherit_the_controllers_objects_frozen(tmp_path):
    first, second = frozen(tmp_path)
    # Ansible's own objects alone are tens of thousands; the second freeze keeps what the first did.
    assert first > 10000 and second >= first, (first, second)


def test_without_the_callback_nothing_is_frozen(tmp_path):
    config = tmp_path / "ansible.cfg"  # the repository's, less the line that enables the callback
    lines = (ROOT / "ansible.cfg").read_text().splitlines(keepends=True)
    config.write_text("".join(line for line in lines if not line.startswith("callbacks_enabled")))
    assert config.read_text() != (ROOT / "ansible.cfg").read_text()
    assert frozen(tmp_path, ANSIBLE_CONFIG=str(config)) == [0, 0]
