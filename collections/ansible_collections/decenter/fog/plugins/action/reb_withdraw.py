# -*- coding: utf-8 -*-
# (c) decenter-fog contributors; Apache-2.0
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.decenter.fog.plugins.plugin_utils.reb_action import RebAction


class ActionModule(RebAction):
    MODULE = "reb_withdraw"
