# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.decenter.fog.plugins.plugin_utils.reb_action import RebAction


class ActionModule(RebAction):
    MODULE = "reb_answers"
