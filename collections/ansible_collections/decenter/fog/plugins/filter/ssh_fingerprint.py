# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: ssh_fingerprint
short_description: OpenSSH SHA256 fingerprint of a public key line
description:
  - Returns what C(ssh-keygen -lf) prints as fingerprint, e.g. C(SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU).
  - Used by sellers to record a node's host key in a reservation, and by buyers to check it.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
positional: _input
options:
  _input:
    description: An OpenSSH public key line (C(type base64 [comment])).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Fingerprint of the node's host key
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', '/etc/ssh/ssh_host_ed25519_key.pub') | decenter.fog.ssh_fingerprint }}"
'''

RETURN = r'''
_value:
  description: The fingerprint.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import fingerprint_of_public_key
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError


def ssh_fingerprint(public_key):
    try:
        return fingerprint_of_public_key(public_key)
    except (RebError, ValueError) as e:
        raise AnsibleFilterError("ssh_fingerprint: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"ssh_fingerprint": ssh_fingerprint}
