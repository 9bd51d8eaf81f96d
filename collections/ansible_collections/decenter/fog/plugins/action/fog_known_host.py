# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""decenter.fog.fog_known_host on the controller: the file is the controller's own (see the module's doc)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.decenter.fog.plugins.module_utils.fog_module import FogError
from ansible_collections.decenter.fog.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    MODULE = "fog_known_host"
    ERRORS = (FogError,)
