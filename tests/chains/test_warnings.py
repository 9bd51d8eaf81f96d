"""A REB task on an automine chain with confirmations: it completes and Ansible shows why it did not wait."""
from tests.chains.conftest import SELLER, deploy
from tests.reb_modules.conftest import play, run_playbook
from tests.support.evm_nodes import Hardhat

PLAYBOOK = play("""
- name: Register provider B with two confirmations
  decenter.fog.reb_provider:
    name: Provider B
    private_key: "{{ key_b }}"
    confirmations: 2
""")


def test_confirmations_on_hardhat_automine_warn_instead_of_hanging(tmp_path, wallet_state):
    node = Hardhat(tmp_path)
    try:
        reb = deploy(node)
        run = run_playbook(PLAYBOOK, extra_vars={"rpc_url": node.url, "reb_address": reb,
                                                 "key_b": node.keys()[SELLER]},
                           extra_env={"DECENTER_REB_STATE_DIR": str(wallet_state)}, secrets=node.keys())
        assert run.rc == 0, run
        result = run.task("Register provider B with two confirmations")
        assert result["changed"] is True
        assert result["warnings"] == [
            "this chain mines a block only when it gets a transaction (automine), so no block would confirm "
            "registerProvider: it counts as final once mined (confirmations=2 not waited for)."], result
    finally:
        node.stop()
