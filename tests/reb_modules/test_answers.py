"""decenter.fog.reb_answers: the seller's answers to many requests in one task - every transaction sent before any
receipt is waited for (they share a block), each answer at most once, check mode sending nothing, and an answer that
cannot go out failing the task with its sentence while the others still go out."""
import threading
import time

from tests.reb_modules.conftest import A, B

PRICE = 10 ** 15  # wei per hour


def _requests(reb, ssh_material, nodes):
    key_a, key_b = reb.keys[A], reb.keys[B]
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=key_b)
    ids = []
    for node in nodes:
        offer = reb.ok("reb_offer", private_key=key_b, node_id=node, region="SEOUL-KETI", cpu_millicores=1000,
                       memory_mib=1024, price_per_hour=PRICE)["offer"]["id"]
        ids.append(reb.ok("reb_reservation", private_key=key_a, state="requested", offer_id=offer, hours=1,
                          buyer_public_key=ssh_material["buyer_public_key"])["reservation"]["id"])
    return ids


def _state(reb, rid):
    return reb.ok("reb_reservation_info", reservation_id=rid)["reservations"][0]["state"]


def test_answers_go_out_before_any_is_waited_for_and_share_a_block(reb, ssh_material):
    ids = _requests(reb, ssh_material, ["burst-%d" % i for i in range(4)])
    seller = reb.accounts[B]
    answers = [dict(reservation_id=r, state="accepted", access_endpoint="198.51.100.%d:22" % i,
                    host_key_fingerprint=ssh_material["host_fingerprint"]) for i, r in enumerate(ids[:3])]
    answers.append(dict(reservation_id=ids[3], state="rejected", reason="max_rentals_per_node=1"))
    nonce = reb.w3.eth.get_transaction_count(seller)

    checked = reb.ok("reb_answers", private_key=reb.keys[B], answers=answers, check_mode=True)
    assert checked["changed"] and [a["changed"] for a in checked["answers"]] == [True] * 4
    assert reb.w3.eth.get_transaction_count(seller, "pending") == nonce  # check mode sent nothing

    reb.w3.provider.make_request("evm_setAutomine", [False])
    run = {}
    worker = threading.Thread(target=lambda: run.update(result=reb.do("reb_answers", private_key=reb.keys[B],
                                                                       answers=answers)))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while (reb.w3.eth.get_transaction_count(seller, "pending") - nonce < 4 and worker.is_alive()
               and time.monotonic() < deadline):
            time.sleep(0.05)
        pending = reb.w3.eth.get_transaction_count(seller, "pending") - nonce
    finally:
        reb.w3.provider.make_request("evm_setAutomine", [True])
        reb.w3.provider.make_request("evm_mine", [])
        worker.join(120)
    assert pending == 4, "only %d of the 4 answers were sent before the task waited for a receipt" % pending
    result = run["result"]
    assert not result.get("failed") and result["changed"], result
    blocks = {reb.w3.eth.get_transaction_receipt(a["transaction_hash"])["blockNumber"] for a in result["answers"]}
    assert len(blocks) == 1
    assert [_state(reb, r) for r in ids] == ["accepted"] * 3 + ["rejected"]

    again = reb.ok("reb_answers", private_key=reb.keys[B], answers=answers)
    assert not again["changed"] and not any(a["changed"] for a in again["answers"])
    assert reb.w3.eth.get_transaction_count(seller) == nonce + 4  # one transaction per answer, none repeated


def test_an_answer_that_cannot_go_out_fails_the_task_and_the_others_go_out(reb, ssh_material):
    ids = _requests(reb, ssh_material, ["mixed-%d" % i for i in range(2)])
    reb.ok("reb_reservation", private_key=reb.keys[A], state="cancelled", reservation_id=ids[0])
    answers = [dict(reservation_id=ids[0], state="accepted", access_endpoint="198.51.100.1:22",
                    host_key_fingerprint=ssh_material["host_fingerprint"]),
               dict(reservation_id=ids[1], state="rejected", reason="buyer is in refused_buyers")]

    result = reb.do("reb_answers", private_key=reb.keys[B], answers=answers)

    assert result["failed"] and result["changed"]
    assert "1 of 2 answers failed" in result["msg"]
    assert "reservation %d (accepted): reservation %d is cancelled; it must be requested to become accepted." % (
        ids[0], ids[0]) in result["msg"]
    assert "transaction_hash" in result["answers"][1] and _state(reb, ids[1]) == "rejected"


def test_a_reservation_answered_twice_in_one_task_is_refused_before_anything_is_sent(reb, ssh_material):
    (rid,) = _requests(reb, ssh_material, ["twice-0"])
    nonce = reb.w3.eth.get_transaction_count(reb.accounts[B])
    result = reb.do("reb_answers", private_key=reb.keys[B], answers=[
        dict(reservation_id=rid, state="rejected"),
        dict(reservation_id=rid, state="accepted", access_endpoint="198.51.100.1:22",
             host_key_fingerprint=ssh_material["host_fingerprint"])])
    assert result["failed"] and "answers name reservation %d more than once" % rid in result["msg"]
    assert reb.w3.eth.get_transaction_count(reb.accounts[B]) == nonce
