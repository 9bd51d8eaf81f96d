#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fog_known_host
short_description: Trust one host key for one host in a known_hosts file on the controller
description:
  - Runs on the controller (an action plugin, no module process). Makes O(path) hold exactly one line for O(name),
    C(<name> <key>), and no other line for that name (a host whose key changed is trusted by its new key only).
    Other hosts' lines are kept as they are; a file that is already so is only read.
  - The file is rewritten whole and renamed into place (a reader never sees half a file), under a lock on its
    directory, so tasks of several hosts that write one file at once lose nothing. A new file gets mode 0644, in a
    directory created with mode 0700 when missing; an existing file keeps its mode.
  - Lines are matched by their plain host name; hashed names (C(|1|...)) are left alone.
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  path:
    description: The known_hosts file.
    type: path
    required: true
  name:
    description:
      - The host as SSH looks it up - C(198.51.100.4), or C([198.51.100.4]:2222) for a port other than 22.
    type: str
    required: true
  key:
    description: The host's public key, C(<type> <base64>) (a comment after them is dropped).
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Nothing is written; C(changed) says whether the file would change.
  diff_mode:
    support: full
    description: The file before and after.
  platform:
    support: full
    platforms: posix
    description: The controller.
notes:
  - Replaces C(ansible.builtin.known_hosts) for a file the controller owns, without its module process (about
    0.35 s per task on our machines).
'''

EXAMPLES = r'''
- name: Trust the node by the key whose fingerprint its seller recorded on chain
  decenter.fog.fog_known_host:
    path: "{{ fog_rented_known_hosts }}"
    name: "[198.51.100.4]:2222"
    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
'''

RETURN = r'''
line:
  description: The line that trusts the host.
  returned: success
  type: str
  sample: "[198.51.100.4]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
removed:
  description: Lines for O(name) that the file held and no longer does (another key, or a duplicate).
  returned: success
  type: list
  elements: str
'''

import fcntl
import os
import re

from ansible_collections.decenter.fog.plugins.module_utils.fog_files import write_atomically
from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError, run_as_module

KEY_TYPE = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)$")
BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def run(params, check_mode):
    path, name = params["path"], params["name"]
    fields = params["key"].split()
    if not name or len(name.split()) != 1 or name.startswith(("#", "|")):
        raise FogError("name=%r is not a host as known_hosts names it: give an address or a host name, or "
                       "[address]:port for a port other than 22." % name)
    if len(fields) < 2 or not KEY_TYPE.match(fields[0]) or not BASE64.match(fields[1]):
        raise FogError("key for %s is not an SSH public key (<type> <base64>, e.g. ssh-ed25519 AAAA...): it starts "
                       "%r." % (name, params["key"][:40]))
    line = "%s %s %s" % (name, fields[0], fields[1])
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        if check_mode:
            return dict(changed=True, line=line, removed=[], diff=dict(before="", after=line + "\n"))
        try:
            os.makedirs(directory, 0o700)
        except OSError as e:
            raise FogError("cannot create the directory %s of %s: %s" % (directory, path, e))
    lock = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # tasks of several hosts may write this file at once
        before = _read(path)
        lines = before.splitlines()
        mine = [item for item in lines if item.split(None, 1)[0:1] == [name]]
        removed = list(mine)
        if line in removed:
            removed.remove(line)  # one copy stays: the others, and lines of other keys, go
        result = dict(changed=mine != [line], line=line, removed=removed)
        if not result["changed"]:
            return result
        after = "".join(item + "\n" for item in lines if item not in mine) + line + "\n"
        result["diff"] = dict(before=before, after=after)
        if not check_mode:
            _write(path, after)
        return result
    finally:
        os.close(lock)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (IOError, OSError) as e:
        if not os.path.exists(path):
            return ""
        raise FogError("cannot read %s: %s" % (path, e))


def _write(path, text):
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o644
    try:
        write_atomically(path, text, mode)
    except (IOError, OSError) as e:
        raise FogError("cannot write %s: %s" % (path, e))


SPEC = dict(argument_spec=dict(path=dict(type="path", required=True), name=dict(type="str", required=True),
                               key=dict(type="str", required=True, no_log=False)),
            run=run)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
