# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Controller-side execution of the REB modules.

REB modules talk to a JSON-RPC endpoint, so they belong on the controller. Running them as
action plugins keeps web3 (about 1 s to import) loaded once in the controller process instead of
once per task in a fresh module process; the module files keep their documentation and remain
runnable as classic modules.

Chain options a task leaves unset (neither in its arguments nor in a module_defaults entry) come from the
inventory variables reb_<option> (reb_rpc_url, reb_chain_id, reb_contract_address, reb_private_key, ...), so a
play needs no module_defaults block; an empty or undefined variable sets nothing, and the DECENTER_REB_*
environment variables and the option's default apply as before.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleActionFail, AnsibleUndefinedVariable

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import CHAIN_OPTION_NAMES
# Imported here, at plugin load, on purpose: see the module docstring.
from ansible_collections.decenter.fog.plugins.module_utils import reb_client  # noqa: F401 pylint: disable=unused-import
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import take_warnings
from ansible_collections.decenter.fog.plugins.plugin_utils.controller_action import ControllerAction


class RebAction(ControllerAction):
    """Subclasses set MODULE to the module name under plugins/modules."""

    ERRORS = (RebError,)

    def more_args(self, task_vars):
        return self._chain_vars(task_vars)

    def before_run(self):
        take_warnings()  # what an earlier task left behind is not this task's

    def after_run(self, outcome):
        warnings = take_warnings()
        if warnings:
            outcome["warnings"] = outcome.get("warnings", []) + warnings
        return outcome

    def _chain_vars(self, task_vars):
        """The chain options the task leaves unset, from the variables reb_<option> that are set and not empty."""
        found = {}
        for option in CHAIN_OPTION_NAMES:
            name = "reb_" + option
            if option in self._task.args or name not in task_vars:
                continue
            try:
                value = self._templar.template(task_vars[name])
            except AnsibleUndefinedVariable:
                continue
            except Exception as e:
                # A broken wallet variable must not echo what it holds: name it, not its value.
                detail = "" if option == "private_key" else ": %s" % e
                raise AnsibleActionFail("%s: the variable %s could not be read%s" % (self.MODULE, name, detail))
            if value is not None and value != "":
                found[option] = value
        return found
