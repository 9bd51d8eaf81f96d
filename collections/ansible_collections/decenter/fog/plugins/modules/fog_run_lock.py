#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fog_run_lock
short_description: One playbook run at a time per organization and lab, held until the run ends
description:
  - Runs on the controller (an action plugin). Records the running C(ansible-playbook) process in O(path) and
    fails with a plain message when another live run holds it, naming that run (its command, process id and
    start time); two runs at once would trample each other (one writes a WireGuard key the other reads).
  - The lock belongs to the C(ansible-playbook) process that runs the task and ends with it, however it ends
    (even C(kill -9)); a stale record of a process that is gone is taken over, never waited for. Importing the
    task again in the same run (C(federate.yml) chains several playbooks) finds the lock already held.
  - Holding the lock is not a change (it reports C(changed=false)), so a rerun still reports nothing changed.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  path:
    description:
      - The lock file on the controller, one per organization and lab, for example
        C({{ lab_dir }}/locks/provider_a.lock). Its directory is created (mode 0700).
    type: path
    required: true
  scope:
    description: What the lock protects, named in the message (for example C(provider_a on this lab)).
    type: str
    default: this organization
attributes:
  check_mode:
    support: full
    description: The lock is taken in check mode too (a check run reads what a real run writes).
  diff_mode:
    support: none
    description: Nothing to compare.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (Linux, it reads C(/proc)).
'''

EXAMPLES = r'''
- name: One run at a time for the buyer on this lab
  decenter.fog.fog_run_lock:
    path: "{{ lab_dir }}/locks/{{ fog_buyer | default('provider_a') }}.lock"
    scope: "{{ fog_buyer | default('provider_a') }} on this lab"
'''

RETURN = r'''
holder:
  description: The run that holds the lock now (this one).
  returned: success
  type: dict
  sample: {"pid": 4242, "command": "ansible-playbook playbooks/provision.yml", "since": "2026-12-05T00:30:00Z"}
'''

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True),
                                              scope=dict(type='str', default='this organization')),
                           supports_check_mode=True)
    module.fail_json(msg="decenter.fog.fog_run_lock runs on the controller as an action plugin only.")


if __name__ == '__main__':
    main()
