"""At -vvv (with --diff, a debug of every result and failing tasks) no private key is ever printed,
whether it comes from DECENTER_REB_PRIVATE_KEY or from -e on the command line."""
import re

import pytest

from tests.reb_modules.conftest import A, B, run_playbook
from tests.support.chain import free_port

PLAYBOOK = """\
- name: Everything a -vvv run can print
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/decenter.fog.reb:
      private_key: "{{ reb_key | default(omit) }}"
  tasks:
    - name: Register the provider
      decenter.fog.reb_provider:
        name: "{{ provider_name }}"
      register: provider

    - name: Offer a node
      decenter.fog.reb_offer:
        node_id: secret-node
        region: SEOUL-KETI
        cpu_millicores: 1000
        memory_mib: 1024
        price_per_hour: 1000
      register: offer

    - name: Read my reservations and what I am owed
      decenter.fog.reb_reservation_info:
        seller: self
      register: mine

    - name: Collect (nothing owed)
      decenter.fog.reb_withdraw:
      register: payout

    - name: Show every registered result
      ansible.builtin.debug:
        msg: "{{ [provider, offer, mine, payout] }}"

    - name: An invalid offer fails
      decenter.fog.reb_offer:
        node_id: secret-node
        region: SEOUL-KETI
        tier: 300
        cpu_millicores: 1000
        memory_mib: 1024
        price_per_hour: 1000
      ignore_errors: true

    - name: A call the REB refuses fails
      decenter.fog.reb_reservation:
        state: cancelled
        reservation_id: 999
      ignore_errors: true

    - name: An unreachable endpoint fails
      decenter.fog.reb_withdraw:
        rpc_url: "{{ closed_url }}"
      ignore_errors: true
"""


@pytest.mark.parametrize("how", ["env", "extra_vars"])
def test_vvv_output_never_contains_the_key(reb, how):
    if how == "env":  # 0x-prefixed, as copied from a wallet
        key = "0x" + reb.keys[B].removeprefix("0x")
        env, args, name = {"DECENTER_REB_PRIVATE_KEY": key}, [], "Provider B"
    else:  # bare hex, on the command line
        key = reb.keys[A].removeprefix("0x")
        env, args, name = {}, ["-e", "reb_key=%s" % key], "Provider A"
    env.update(DECENTER_REB_RPC_URL=reb.url, DECENTER_REB_CONTRACT=reb.address)
    closed_url = "http://127.0.0.1:%d" % free_port()
    run = run_playbook(PLAYBOOK, extra_env=env, args=["-vvv", "--diff", "-e", "provider_name=%s" % name,
                                                      "-e", "closed_url=%s" % closed_url] + args,
                       callback="ansible.builtin.default", secrets=reb.keys)
    assert run.rc == 0, run
    recap = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0\s+skipped=0\s+"
                      r"rescued=0\s+ignored=(\d+)", run.stdout)
    assert recap and recap.groups() == ("8", "2", "3"), run  # the tasks did run, and printed their results
    assert "is out of range" in run.stdout and "does not exist on this REB" in run.stdout
    assert "cannot reach the Ethereum JSON-RPC endpoint %s" % closed_url in run.stdout
    address = reb.accounts[B if how == "env" else A]
    assert address in run.stdout
    # run_playbook already refused any of the keys; say it again for the one used here
    for form in (key, key.removeprefix("0x"), key.removeprefix("0x").upper()):
        assert form not in run.output
