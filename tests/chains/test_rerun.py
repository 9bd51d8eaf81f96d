"""A task that timed out, then a rerun: one transaction mined, never two (publish, reserve, deploy).

anvil mines only when the test says so (automine off, no interval), so a timeout is certain and the
rerun's moment is chosen. Before the journal, the rerun read the committed state (nothing yet), sent
the transaction again and the duplicate reverted after burning gas (publish) or carried the escrow a
second time (reserve), and a rerun of reb_contract deployed a second REB.

Each run is a fresh process as far as the REB code can tell: a new ansible-playbook (publish), a new RebClient
(reserve, the mined publish), or reb_contract's run() in-process after tests.support.reb_inproc.fresh_process()
(deploy): the journal on disk is all a rerun shares with the run before.
"""
import contextlib
import re
import threading
import time

import pytest

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from tests.chains.conftest import BUYER, DEPLOYER, SELLER, client, deploy, gas_paid, offer_spec
from tests.reb_modules.conftest import play, run_playbook
from tests.support.chain import Anvil
from tests.support.reb_inproc import fresh_process, run_module


def _sent_re(seconds):
    return re.compile(r"^(\w+) was sent \(tx (0x[0-9a-f]{64})\) but not mined within %s s; a rerun waits for this "
                      r"transaction instead of sending another" % re.escape(seconds))


@pytest.fixture(scope="module")
def manual(tmp_path_factory):
    """anvil that mines only on evm_mine (or inside `mining`)."""
    node = Anvil(tmp_path_factory.mktemp("manual"))
    node.w3.provider.make_request("evm_setAutomine", [False])
    yield node
    node.stop()


@contextlib.contextmanager
def mining(node):
    """Setup steps that are not under test: mined at once."""
    node.w3.provider.make_request("evm_setAutomine", [True])
    try:
        yield
    finally:
        node.w3.provider.make_request("evm_setAutomine", [False])


def mine(node):
    node.w3.provider.make_request("evm_mine", [])


@pytest.fixture(scope="module")
def reb(manual):
    with mining(manual):
        address = deploy(manual)
        seller = client(manual, SELLER, address)
        seller.transact("registerProvider", "Provider B")
    return address


def _timed_out(error, what, seconds="0.3"):
    match = _sent_re(seconds).match(str(error))
    assert match and match.group(1) == what, str(error)
    return match.group(2)


def _hex(receipt):
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _in_background(fn, *args, **kwargs):
    """Start fn in a thread; returns (thread, outcome list) - the outcome is its result or RebError."""
    outcome = []

    def run():
        try:
            outcome.append(fn(*args, **kwargs))
        except RebError as e:
            outcome.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_deploy_times_out_and_the_rerun_reports_that_deployment(manual, wallet_state):
    deployer = manual.w3.eth.accounts[DEPLOYER]
    nonce = manual.w3.eth.get_transaction_count(deployer)
    env = {"DECENTER_REB_RPC_URL": manual.url, "DECENTER_REB_STATE_DIR": str(wallet_state)}

    def deploy_run(**extra):
        """reb_contract with the deployer's key (as tests.reb_modules.conftest.DEPLOY_PLAYBOOK), in a fresh process."""
        fresh_process()
        return run_module("reb_contract", dict(private_key=manual.keys()[DEPLOYER], **extra), env=env,
                          secrets=manual.keys())

    first = deploy_run(timeout=0.3)
    assert first.get("failed") is True, first
    sent = _timed_out(first["msg"], "deploy")
    pending = deploy_run(timeout=0.3)
    assert _timed_out(pending["msg"], "deploy") == sent  # waited for it, sent nothing
    mine(manual)
    result = deploy_run()
    assert not result.get("failed"), result
    assert result["changed"] is True and result["transaction_hash"] == sent
    assert result["contract_address"] == manual.w3.eth.get_transaction_receipt(sent)["contractAddress"]
    assert manual.w3.eth.get_transaction_count(deployer) == nonce + 1  # one deployment, not two
    # the address was reported once: a later run without contract_address deploys a new REB, as documented
    with mining(manual):
        later = deploy_run()
    assert later["contract_address"] != result["contract_address"]
    assert manual.w3.eth.get_transaction_count(deployer) == nonce + 2


PUBLISH = play("""
- name: Register provider B
  decenter.fog.reb_provider:
    name: Provider B
    private_key: "{{ key_b }}"

- name: Offer edge-rerun
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    timeout: "{{ publish_timeout }}"
    node_id: edge-rerun
    region: SEOUL-KETI
    cpu_millicores: 2000
    memory_mib: 2048
    price_per_hour: 1000000000000
""")


def test_publish_times_out_and_the_rerun_waits_for_the_same_transaction(manual, reb, wallet_state):
    seller = manual.w3.eth.accounts[SELLER]
    env = {"DECENTER_REB_STATE_DIR": str(wallet_state)}
    variables = {"rpc_url": manual.url, "reb_address": reb, "key_b": manual.keys()[SELLER]}
    nonce = manual.w3.eth.get_transaction_count(seller)
    first = run_playbook(PUBLISH, extra_env=env, extra_vars=dict(variables, publish_timeout=0.3))
    assert first.rc != 0 and first.task("Register provider B")["changed"] is False
    sent = _timed_out(first.task("Offer edge-rerun")["msg"], "publishOffer")
    pending = run_playbook(PUBLISH, extra_env=env, extra_vars=dict(variables, publish_timeout=1))
    assert _timed_out(pending.task("Offer edge-rerun")["msg"], "publishOffer", "1") == sent
    assert manual.w3.eth.get_transaction_count(seller, "pending") == nonce + 1  # no second transaction
    mine(manual)
    rerun = run_playbook(PUBLISH, extra_env=env, extra_vars=dict(variables, publish_timeout=30))
    assert rerun.rc == 0 and rerun.changed_tasks() == [], rerun  # mined: the state says it is done
    assert manual.w3.eth.get_transaction_receipt(sent)["status"] == 1
    assert manual.w3.eth.get_transaction_count(seller) == nonce + 1


def test_reserve_times_out_and_the_rerun_pays_once(manual, reb):
    with mining(manual):
        seller = client(manual, SELLER, reb)
        seller.transact("publishOffer", offer_spec("edge-reserve"))
    offer_id = seller.offer_id_of(seller.address, "edge-reserve")
    w3, escrow = manual.w3, 2 * 10 ** 12
    buyer_address = client(manual, BUYER, reb).address
    nonce, balance = w3.eth.get_transaction_count(buyer_address), w3.eth.get_balance(buyer_address)
    order = (offer_id, 2, b"\x07" * 32, bytes.fromhex(seller.offer(offer_id)["terms_hash"][2:]), b"\x0b" * 32)
    with pytest.raises(RebError) as first:
        client(manual, BUYER, reb, timeout=0.3).transact("reserve", *order, value=escrow)
    sent = _timed_out(first.value, "reserve")
    rerun, outcome = _in_background(client(manual, BUYER, reb).transact, "reserve", *order, value=escrow)
    time.sleep(1)  # the rerun finds the pending reserve and waits for it
    mine(manual)
    rerun.join(30)
    assert len(outcome) == 1 and not isinstance(outcome[0], RebError), outcome
    receipt = outcome[0]
    assert _hex(receipt) == sent and receipt["status"] == 1
    assert w3.eth.get_transaction_count(buyer_address) == nonce + 1
    assert w3.eth.get_balance(buyer_address) == balance - escrow - gas_paid(w3, [receipt])
    assert seller.offer(offer_id)["state"] == "reserved"


def test_a_rerun_after_the_transaction_was_mined_reports_it_instead_of_reverting(manual, reb):
    # The first run timed out; by the rerun the publish was mined, but the rerun's own read came just before
    # (its call now reverts with NodeIdTaken): the mined transaction of the same intent is the answer.
    seller = client(manual, SELLER, reb)
    nonce = seller.nonce()
    with pytest.raises(RebError) as first:
        client(manual, SELLER, reb, timeout=0.3).transact("publishOffer", offer_spec("edge-mined"))
    sent = _timed_out(first.value, "publishOffer")
    mine(manual)
    receipt = client(manual, SELLER, reb).transact("publishOffer", offer_spec("edge-mined"))
    assert _hex(receipt) == sent and receipt["status"] == 1
    assert manual.w3.eth.get_transaction_count(seller.address) == nonce + 1
    # a third run right after it (another run that read the chain before the publish was mined): the same answer
    third = client(manual, SELLER, reb).transact("publishOffer", offer_spec("edge-mined"))
    assert _hex(third) == sent
    assert manual.w3.eth.get_transaction_count(seller.address, "pending") == nonce + 1
    # a call that fails for another reason is refused with that reason, never answered with our publish
    with pytest.raises(RebError) as other:
        client(manual, SELLER, reb).transact("publishOffer", offer_spec("edge-mined", price=7))
    assert "node edge-mined is already offered by this seller" in str(other.value)
