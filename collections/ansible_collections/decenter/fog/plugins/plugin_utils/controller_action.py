# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Controller-side execution of a module written as SPEC + `run(params, check_mode)` (see module_utils/fog_module).

A module that only computes or talks to an endpoint belongs on the controller. Run as an action plugin, its `run`
is called in a worker of the ansible-playbook process: no module process to start, no AnsiballZ payload to build,
and what the controller already imported stays imported (about 0.5 s per task on our machines). The module file
keeps its documentation and remains runnable as a classic module.

The arguments are validated by Ansible's own validator against the SPEC; values of no_log options never reach the
result; an error of the module's own kinds (ERRORS) fails the task with its sentence and the keys it carries, any
other exception with a sentence that names the module, never a traceback.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import module_kwargs


class ControllerAction(ActionBase):
    """Subclasses set MODULE (the module name under plugins/modules) and ERRORS (the exceptions whose message is the
    user's sentence; a `result` attribute holds more keys for the failed task's result)."""

    MODULE = None
    ERRORS = ()
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerAction, self).run(tmp, task_vars)
        spec = importlib.import_module("ansible_collections.decenter.fog.plugins.modules." + self.MODULE).SPEC
        # Task arguments (module_defaults already merged in by Ansible) win over what more_args finds.
        self._task.args.update(self.more_args(task_vars or {}))
        validation, params = self.validate_argument_spec(**module_kwargs(spec))
        secrets = validation._no_log_values
        self.before_run()
        try:
            outcome = spec["run"](params, bool(self._task.check_mode))
        except self.ERRORS as e:
            raise AnsibleActionFail(remove_values(str(e), secrets),
                                    result=remove_values(dict(getattr(e, "result", None) or {}), secrets))
        except AnsibleActionFail:
            raise
        except Exception as e:  # a bug of ours: say what, keep secrets out, no traceback for users
            raise AnsibleActionFail(remove_values("%s failed unexpectedly: %s: %s"
                                                  % (self.MODULE, type(e).__name__, e), secrets))
        if not self._task.diff:
            outcome.pop("diff", None)
        result.update(remove_values(self.after_run(outcome), secrets))
        return result

    def more_args(self, task_vars):
        """Arguments the task leaves unset that the action finds elsewhere (the inventory's variables)."""
        return {}

    def before_run(self):
        """Called right before the module's run."""

    def after_run(self, outcome):
        """The module's result, as the task reports it."""
        return outcome
