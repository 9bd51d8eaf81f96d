#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fog_ssh_keypair
short_description: An Ed25519 SSH key pair on the controller, made once and then only read
description:
  - Runs on the controller (an action plugin, no module process). A buyer's provisioning key, the lab's admin keys.
  - When O(path) holds no key, makes an Ed25519 pair with C(ssh-keygen) (no passphrase) - the private half in O(path)
    (mode 0600, in a directory created with mode 0700 when missing), the public half in C(<path>.pub). An existing
    pair is read, never replaced; a missing public half is derived from the private one.
  - A key of another type in O(path) is refused (the REB takes Ed25519 provisioning keys), and left as it is.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  path:
    description: The private key's file; the public key is C(<path>.pub).
    type: path
    required: true
  comment:
    description: The comment of a key made now (an existing key keeps its own).
    type: str
    default: ''
attributes:
  check_mode:
    support: full
    description: Nothing is written to O(path); C(changed) says whether a pair would be made (see RV(public_key)).
  diff_mode:
    support: none
    description: Keys are not shown.
  platform:
    support: full
    platforms: posix
    description: The controller, with the OpenSSH client's C(ssh-keygen).
notes:
  - Replaces C(community.crypto.openssh_keypair) where a plain Ed25519 pair is wanted, without its module process
    (about 0.4 s per task on our machines).
'''

EXAMPLES = r'''
- name: The buyer's provisioning key, made on the first run
  decenter.fog.fog_ssh_keypair:
    path: "{{ fog_provisioning_key }}"
    comment: provider_a-provisioning
  register: fog_key

- name: Show it
  ansible.builtin.debug:
    msg: "{{ fog_key.public_key }}"
'''

RETURN = r'''
public_key:
  description:
    - The public key, type and base64 (no comment).
    - In check mode, when the pair would be made, the public half of a pair made in a temporary directory and deleted
      at once, so that the tasks after it can check what they would do with a key; the real key will differ.
  returned: success
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
path:
  description: The private key's file.
  returned: success
  type: str
'''

import os
import shutil
import tempfile

from ansible_collections.decenter.fog.plugins.module_utils.fog_files import write_atomically
from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError, run_as_module, run_command


def run(params, check_mode):
    path = params["path"]
    public_path = path + ".pub"
    if os.path.isfile(path) and os.path.isfile(public_path):
        return dict(changed=False, path=path, public_key=_public(_read(public_path), public_path))
    if check_mode:
        return dict(changed=True, path=path, public_key=_throwaway_public_key())
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, 0o700)
        except OSError as e:
            raise FogError("cannot create the key's directory %s: %s" % (directory, e))
    if os.path.isfile(path):  # the public half was lost: derive it, never replace the key
        public = _public(_ssh_keygen(["-y", "-f", path]), path)
        try:
            write_atomically(public_path, public + "\n", 0o644)
        except (IOError, OSError) as e:
            raise FogError("cannot write %s: %s" % (public_path, e))
    else:
        _ssh_keygen(["-q", "-t", "ed25519", "-N", "", "-C", params["comment"], "-f", path])
        public = _public(_read(public_path), public_path)
    return dict(changed=True, path=path, public_key=public)


def _throwaway_public_key():
    """The public half of a pair made in a temporary directory and deleted: in check mode a first run's later tasks
    (the reservation's own check) get a well-formed key; the real key will differ."""
    directory = tempfile.mkdtemp(prefix="fog-ssh-keypair-check-")
    try:
        _ssh_keygen(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", os.path.join(directory, "key")])
        return _public(_read(os.path.join(directory, "key.pub")), "the check mode's key")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _ssh_keygen(args):
    """ssh-keygen's output; FogError with its message when it fails or is missing."""
    rc, out, err = run_command(["ssh-keygen"] + args)
    if rc == 127 and not out:
        raise FogError("ssh-keygen cannot be run on the controller (%s): install the OpenSSH client (Debian: "
                       "openssh-client)." % err.strip())
    if rc != 0:
        raise FogError("ssh-keygen %s failed (rc %d): %s" % (" ".join(args[:-1]), rc, (err or out).strip()))
    return out


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (IOError, OSError) as e:
        raise FogError("cannot read %s: %s" % (path, e))


def _public(text, source):
    fields = text.split()
    if len(fields) < 2 or fields[0] != "ssh-ed25519":
        raise FogError("%s does not hold an Ed25519 key (it starts %r): the REB takes Ed25519 provisioning keys. "
                       "Move that key away, or point the task at another path." % (source, " ".join(fields[:1])))
    return " ".join(fields[:2])


SPEC = dict(argument_spec=dict(path=dict(type="path", required=True), comment=dict(type="str", default="")),
            run=run)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
