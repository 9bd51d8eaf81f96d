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

import importlib

from ansible.errors import AnsibleActionFail, AnsibleUndefinedVariable
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import module_kwargs
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import CHAIN_OPTION_NAMES
# Imported here, at plugin load, on purpose: see the module docstring.
from ansible_collections.decenter.fog.plugins.module_utils import reb_client  # noqa: F401 pylint: disable=unused-import
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import take_warnings


class RebAction(ActionBase):
    """Subclasses set MODULE to the module name under plugins/modules."""

    MODULE = None
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(RebAction, self).run(tmp, task_vars)
        spec = importlib.import_module("ansible_collections.decenter.fog.plugins.modules." + self.MODULE).SPEC
        kwargs = module_kwargs(spec)
        # Task arguments (module_defaults already merged in by Ansible) win over the inventory's variables.
        self._task.args.update(self._chain_vars(task_vars or {}))
        validation, params = self.validate_argument_spec(**kwargs)
        secrets = validation._no_log_values
        take_warnings()  # what an earlier task left behind is not this task's
        try:
            outcome = spec["run"](params, bool(self._task.check_mode))
        except RebError as e:
            raise AnsibleActionFail(remove_values(str(e), secrets))
        except AnsibleActionFail:
            raise
        except Exception as e:  # a bug of ours: say what, keep secrets out, no traceback for users
            raise AnsibleActionFail(remove_values("%s failed unexpectedly: %s: %s"
                                                  % (self.MODULE, type(e).__name__, e), secrets))
        if not self._task.diff:
            outcome.pop("diff", None)
        warnings = take_warnings()
        if warnings:
            outcome["warnings"] = outcome.get("warnings", []) + warnings
        result.update(remove_values(outcome, secrets))
        return result

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
