"""ganache 7.9.2 (newest fork shanghai) cannot run the REB: refused in one sentence, nothing spent.

Before the capability check, reb_contract deployed (gas spent), a rerun called the REB "verified", and
every later task failed with `invalid opcode`. Its revert shape (`{'result': '0x…'}`) is decoded too.
"""
import pytest
from eth_utils import keccak

from tests.chains.conftest import DEPLOYER, SELLER, client
from tests.reb_modules.conftest import DEPLOY_PLAYBOOK, run_playbook
from tests.support.chain import CHAIN_ID, artifact
from tests.support.evm_nodes import Ganache
from tests.support.reb_inproc import run_module

REFUSAL = ("cannot run the REB: it lacks the Cancun opcodes TSTORE/TLOAD/MCOPY the contract needs (probe: VM "
           "Exception while processing transaction: invalid opcode); use a node with the Cancun fork or later")


@pytest.fixture(scope="module")
def ganache(tmp_path_factory):
    node = Ganache(tmp_path_factory.mktemp("ganache"))
    yield node
    node.stop()


def _spent(node):
    address = node.w3.eth.accounts[DEPLOYER]
    return node.w3.eth.get_transaction_count(address), node.w3.eth.get_balance(address), node.w3.eth.block_number


@pytest.mark.parametrize("how", ["run", "check"])
def test_reb_contract_refuses_ganache_and_spends_nothing(ganache, how):
    before = _spent(ganache)
    if how == "run":  # through ansible-playbook: the sentence reaches the user as the task's failure
        run = run_playbook(DEPLOY_PLAYBOOK, extra_env={"DECENTER_REB_RPC_URL": ganache.url},
                           extra_vars={"deployer_key": ganache.keys()[DEPLOYER]}, secrets=ganache.keys())
        assert run.rc != 0
        result = run.task("Deploy the REB")
    else:  # check mode, in-process (tests/support/reb_inproc: run() as the action plugin calls it)
        result = run_module("reb_contract", {"private_key": ganache.keys()[DEPLOYER]}, check_mode=True,
                            env={"DECENTER_REB_RPC_URL": ganache.url}, secrets=ganache.keys())
    assert result.get("failed") is True, result
    message = result["msg"]
    assert message == ("the chain at %s (chain id 31337) %s (e.g. anvil or Hardhat 3, geth/Besu with Cancun "
                       "active). Nothing was deployed or spent." % (ganache.url, REFUSAL)), message
    assert _spent(ganache) == before  # no transaction, no block: only the free eth_call probe


def test_a_reb_already_on_ganache_is_refused_before_use(ganache):
    # Deployed outside the collection (ganache accepts the code), then used: refused, not `invalid opcode`.
    w3 = ganache.w3
    a = artifact()
    tx = w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"]).constructor(3600).transact(
        {"from": w3.eth.accounts[SELLER], "gas": 6000000})
    address = w3.eth.wait_for_transaction_receipt(tx, timeout=30)["contractAddress"]
    result = run_module("reb_offer_info", dict(rpc_url=ganache.url, chain_id=CHAIN_ID, contract_address=address))
    assert result.get("failed") is True
    assert REFUSAL in result["msg"], result


def _reverting_init_code():
    """Init code that reverts with ReservationNotFound(999), as the REB does for an unknown reservation."""
    payload = keccak(text="ReservationNotFound(uint256)")[:4] + (999).to_bytes(32, "big")
    first, second = payload[:32], payload[32:].ljust(32, b"\0")
    return "0x7f%s6000527f%s60205260246000fd" % (first.hex(), second.hex())


@pytest.mark.parametrize("method", ["call", "estimate_gas"])
def test_ganache_revert_shapes_are_explained(ganache, method):
    reader = client(ganache, DEPLOYER)  # no contract: the capability check does not run for this
    with pytest.raises(Exception) as raised:
        getattr(ganache.w3.eth, method)({"from": reader.address, "data": _reverting_init_code()})
    if method == "estimate_gas":  # the shape of the issue: {'hash': …, 'programCounter': …, 'result': '0x…'}
        assert isinstance(raised.value.data, dict) and raised.value.data["result"].startswith("0x0362e90d")
    assert reader.explain(raised.value) == "reservation 999 does not exist on this REB."
