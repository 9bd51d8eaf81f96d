# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The one place for chain options (argument spec + env fallbacks), free of web3 so that the
inventory plugin can read them without paying web3's import."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import env_fallback

CHAIN_ARGUMENT_SPEC = dict(
    rpc_url=dict(type="str", default="http://127.0.0.1:8545", fallback=(env_fallback, ["DECENTER_REB_RPC_URL"])),
    chain_id=dict(type="int", fallback=(env_fallback, ["DECENTER_REB_CHAIN_ID"])),
    contract_address=dict(type="str", fallback=(env_fallback, ["DECENTER_REB_CONTRACT"])),
    private_key=dict(type="str", no_log=True, fallback=(env_fallback, ["DECENTER_REB_PRIVATE_KEY"])),
    confirmations=dict(type="int", default=0),
    timeout=dict(type="float", default=30.0),
)
CHAIN_OPTION_NAMES = tuple(CHAIN_ARGUMENT_SPEC)


def chain_argument_spec(**extra):
    """A module's argument spec: the chain options plus its own."""
    spec = dict(CHAIN_ARGUMENT_SPEC)
    spec.update(extra)
    return spec
