"""`--check` on a chain without a REB: reb_contract predicts the deployment, the next REB task says what to do."""
from tests.chains.conftest import DEPLOYER
from tests.reb_modules.conftest import run_playbook
from tests.support.chain import Anvil

PLAYBOOK = """\
- name: Deploy and register, as lab_up does
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/decenter.fog.reb:
      rpc_url: "{{ rpc_url }}"
  tasks:
    - name: Deploy the REB
      decenter.fog.reb_contract:
        private_key: "{{ key }}"
      register: reb

    - name: Register provider B
      decenter.fog.reb_provider:
        name: Provider B
        contract_address: "{{ reb.contract_address }}"
        private_key: "{{ key }}"
"""


def test_check_mode_without_a_reb_says_what_to_do(tmp_path, wallet_state):
    node = Anvil(tmp_path)
    try:
        key = node.keys()[DEPLOYER]
        run = run_playbook(PLAYBOOK, extra_vars={"rpc_url": node.url, "key": key}, args=("--check",),
                           extra_env={"DECENTER_REB_STATE_DIR": str(wallet_state)}, secrets=node.keys())
        assert run.task("Deploy the REB")["changed"] is True
        message = run.task("Register provider B")["msg"]
        assert "In check mode (--check) a REB that reb_contract would deploy does not exist yet, so the tasks " \
               "after it cannot run: deploy it once without --check (or point contract_address at an existing " \
               "REB), then check." in message, message
        assert node.w3.eth.get_transaction_count(node.w3.eth.accounts[DEPLOYER]) == 0
        assert node.w3.eth.block_number == 0
    finally:
        node.stop()
