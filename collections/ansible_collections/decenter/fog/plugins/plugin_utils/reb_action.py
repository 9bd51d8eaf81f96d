# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Controller-side execution of the REB modules.

REB modules talk to a JSON-RPC endpoint, so they belong on the controller. Running them as
action plugins keeps web3 (about 1 s to import) loaded once in the controller process instead of
once per task in a fresh module process; the module files keep their documentation and remain
runnable as classic modules.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import module_kwargs
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
