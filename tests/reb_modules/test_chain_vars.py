"""Chain options from the inventory's variables (reb_rpc_url, reb_chain_id, reb_contract_address, reb_private_key),
read by the action plugin: no module_defaults block in the play. A task's own argument wins, a variable beats
DECENTER_REB_*, the key from a variable is never printed (-vvv), and check mode sends nothing."""
from tests.reb_modules.conftest import B, CHAIN_ID, run_playbook
from tests.support.chain import free_port

PLAYBOOK = """\
- name: REB tasks with the chain options from variables only
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Register the provider
      decenter.fog.reb_provider:
        name: Provider B (vars)
      register: provider

    - name: Read the offers
      decenter.fog.reb_offer_info:
        limit: 1

    - name: A task's own rpc_url wins over reb_rpc_url
      decenter.fog.reb_offer_info:
        rpc_url: "{{ closed_url }}"
      ignore_errors: true
"""


def chain_vars(reb, key):
    return dict(reb_rpc_url=reb.url, reb_chain_id=CHAIN_ID, reb_contract_address=reb.address, reb_private_key=key,
                closed_url="http://127.0.0.1:%d" % free_port())


def test_chain_options_come_from_the_variables_and_the_task_wins(reb):
    key = reb.keys[B]
    env = {"DECENTER_REB_RPC_URL": "http://127.0.0.1:%d" % free_port()}  # the variable beats the environment
    before = reb.nonces(reb.accounts[B])

    checked = run_playbook(PLAYBOOK, extra_vars=chain_vars(reb, key), extra_env=env, args=["--check"],
                           secrets=reb.keys)
    assert checked.rc == 0, checked
    assert checked.task("Register the provider")["changed"] is True
    assert reb.nonces(reb.accounts[B]) == before, "check mode sent a transaction"

    v = chain_vars(reb, key)
    run = run_playbook(PLAYBOOK, extra_vars=v, extra_env=env, secrets=reb.keys)
    assert run.rc == 0, run
    assert run.task("Register the provider")["changed"] is True
    assert "diff" not in run.task("Register the provider")  # the action plugin keeps a diff for --diff only
    assert reb.contract.functions.providerOf(reb.accounts[B]).call() == ["Provider B (vars)", True]
    assert "cannot reach the Ethereum JSON-RPC endpoint %s" % v["closed_url"] in \
        run.task("A task's own rpc_url wins over reb_rpc_url")["msg"]

    again = run_playbook(PLAYBOOK, extra_vars=chain_vars(reb, key), extra_env=env, secrets=reb.keys)
    assert again.rc == 0 and again.task("Register the provider")["changed"] is False, again


def test_the_key_from_a_variable_is_never_printed(reb):
    key = reb.keys[B]
    run = run_playbook(PLAYBOOK, extra_vars=chain_vars(reb, key), args=["-vvv", "--diff"],
                       callback="ansible.builtin.default", secrets=reb.keys)
    assert run.rc == 0, run
    for form in (key, key.removeprefix("0x"), key.removeprefix("0x").upper()):
        assert form not in run.output
