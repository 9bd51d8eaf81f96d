# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""decenter.fog.fog_run_lock: the record of the running ansible-playbook, on the controller (see the module's doc)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import json
import os
import time

from ansible.plugins.action import ActionBase


def process(pid):
    """(start time, command line) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().decode("utf-8", "replace").split("\0")
        if argv and os.path.basename(argv[0]).startswith("python"):
            argv = argv[1:]  # the interpreter of the ansible-playbook script
        command = " ".join(argv).strip()
    except (IOError, OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return fields[19], command


def playbook_process():
    """The ansible-playbook process: this task runs in one of its workers, a child of it."""
    return os.getppid()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "scope"))
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        path = self._task.args.get("path")
        scope = self._task.args.get("scope") or "this organization"
        if not path:
            return dict(result, failed=True, msg="fog_run_lock needs path: the lock file of the organization and lab.")
        path = os.path.expanduser(path)
        owner = playbook_process()
        started, command = process(owner) or ("", "")
        me = dict(pid=owner, start=started, command=command, since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        try:
            os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            return dict(result, failed=True, msg="cannot open the run lock %s: %s" % (path, error))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # only while the record is read and written
            raw = os.read(fd, 65536).decode("utf-8", "replace")
            try:
                holder = json.loads(raw) if raw.strip() else None
            except ValueError:
                holder = None
            live = holder and isinstance(holder.get("pid"), int) and process(holder["pid"])
            if live and live[0] == holder.get("start") and holder["pid"] != owner:
                return dict(result, failed=True, holder=holder, msg=(
                    "Another run for %s is in progress: `%s` (process %d, since %s). Runs at once would trample each "
                    "other; wait until it ends, then run again. Nothing was changed by this run."
                    % (scope, holder.get("command") or "ansible-playbook", holder["pid"], holder.get("since"))))
            if holder and holder.get("pid") == owner and holder.get("start") == started:
                return dict(result, changed=False, holder=holder)
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(me).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return dict(result, changed=False, holder=me)
