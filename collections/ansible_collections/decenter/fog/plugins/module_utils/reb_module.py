# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Runs a REB module's `run(params, check_mode)` as a classic Ansible module.

The same `run` functions are called in-process by the controller-side action plugins
(plugins/plugin_utils/reb_action.py), which is how playbooks normally execute them.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import call_run, new_module
from ansible_collections.decenter.fog.plugins.module_utils.reb_client import WEB3_IMPORT_ERROR
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import take_warnings


def run_as_module(spec):
    """`spec` is the module's SPEC dict: argument_spec, run and optional validation keywords (see fog_module)."""
    module = new_module(spec)
    if WEB3_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("web3"), exception=WEB3_IMPORT_ERROR)
    result = call_run(module, spec, errors=(RebError,))
    for warning in take_warnings():
        module.warn(warning)
    module.exit_json(**result)
