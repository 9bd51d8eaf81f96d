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

from ansible.module_utils.basic import AnsibleModule


class FogError(Exception):
    """A failure with a message for the user; `result` holds extra keys for the failed task's result."""

    def __init__(self, msg, **result):
        super(FogError, self).__init__(msg)
        self.msg = msg
        self.result = result


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
