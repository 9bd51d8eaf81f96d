# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Runs a module's pure `run(params, check_mode)` as a classic Ansible module.

A module declares `SPEC = dict(argument_spec=..., <other AnsibleModule keywords>, run=run)`; `run` returns the
result dict (with an optional `diff`, dropped unless the task asks for a diff) or raises one of the module's error
classes with a sentence the user can act on. No Ansible module object reaches `run`.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess

from ansible.module_utils.basic import AnsibleModule


class FogError(Exception):
    """A failure with a message for the user; `result` holds extra keys for the failed task's result."""

    def __init__(self, msg, **result):
        super(FogError, self).__init__(msg)
        self.msg = msg
        self.result = result


def run_command(args, env_update=None, new_session=False):
    """rc, stdout and stderr (text) of a command (a list, no shell) for a `run` that has no module object: in the C
    locale, so its output parses the same everywhere; a program that cannot be started is a failed command (rc 127,
    the reason as stderr), not a traceback.

    new_session: the command (and any daemon it leaves) in a session of its own, out of the module's process group.
    ansible-core ends a play by terminating each worker still alive, and a worker passes SIGTERM on to its whole
    process group (WorkerProcess._term, os.killpg); AnsibleModule.run_command cannot start a new session."""
    env = dict(os.environ, LANG="C", LC_ALL="C", LC_MESSAGES="C")
    env.update(env_update or {})
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, close_fds=True, start_new_session=new_session)
    except OSError as e:
        return 127, "", str(e)
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def module_kwargs(spec):
    """The AnsibleModule keywords of a SPEC (all but `run`)."""
    return dict((k, v) for k, v in spec.items() if k != "run")


def new_module(spec):
    return AnsibleModule(supports_check_mode=True, **module_kwargs(spec))


def call_run(module, spec, errors=(FogError,)):
    """The result of the SPEC's `run`, or the module fails with the error's sentence (and its result keys)."""
    try:
        result, error = spec["run"](module.params, module.check_mode), None
    except errors as e:
        result, error = None, e
    if error is not None:  # outside the handler: the message is the whole story, no exception chain is attached
        module.fail_json(msg=str(error), **getattr(error, "result", {}))
    if not module._diff:
        result.pop("diff", None)
    return result


def run_as_module(spec, errors=(FogError,)):
    """Parse the arguments by `spec`, call its `run`, exit with the result or fail with the error's sentence."""
    module = new_module(spec)
    module.exit_json(**call_run(module, spec, errors))
