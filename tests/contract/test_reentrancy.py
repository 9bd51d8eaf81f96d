"""Re-entering withdraw() from the payee's receive() gets nothing extra.

contracts/test/ReentrantReceiver.sol becomes owed funds as a buyer (a rejected request) or as a
seller (a settled reservation), then withdraws and re-enters the REB from its receive()."""
import pytest

from tests.contract.helpers import FP, HOUR, KEY, LIVE, ResState, spec

PRICE = 10 ** 15 + 7
QUIET, BUBBLE, SWALLOW, DRAIN, RESERVE = range(5)


def _selector(w3, sig):
    return bytes(w3.keccak(text=sig)[:4])


def _assert_balance_invariant(c, actors):
    live = sum(r["escrow"] for r in c.reservations(1, 300) if r["state"] in LIVE)
    assert c.balance(c.reb.address) == live + sum(c.owed(a) for a in actors)


@pytest.fixture
def attacker(chain, receiver_artifact):
    atk = chain.deploy_contract(receiver_artifact["abi"], receiver_artifact["bytecode"], chain.reb.address)
    assert atk.functions.reb().call() == chain.reb.address
    return atk


def _owed_as_buyer(c, atk, hours=2):
    """The attacker reserves the seller's offer 1 and the seller rejects: it is owed the escrow."""
    c.publish(nodeId="seoul-keti", pricePerHour=PRICE)
    rc = c.tx(atk.functions.reserve(1, hours, KEY, c.offer(1)["termsHash"], c.order()), c.stranger, value=hours * PRICE)
    assert c.events(rc)[0][1]["buyer"] == atk.address
    c.tx(c.reb.functions.reject(1, "no"), c.seller)
    assert c.owed(atk.address) == hours * PRICE
    return hours * PRICE


def test_bubbling_reentry_makes_the_withdraw_revert(chain, attacker):
    c, atk = chain, attacker
    amount = _owed_as_buyer(c, atk)
    c.tx(atk.functions.setMode(BUBBLE, 3), c.stranger)
    # the inner withdraw hits the lock, receive() reverts, the REB's transfer fails: all undone
    c.expect(atk.functions.attack(), c.stranger, "TransferFailed", atk.address, amount)
    assert c.owed(atk.address) == amount
    assert c.balance(atk.address) == 0
    assert c.balance(c.reb.address) == amount
    assert atk.functions.receivedCount().call() == 0
    _assert_balance_invariant(c, [atk.address, c.seller, c.buyer])
    # the funds are not lost: a well-behaved receive() collects them once
    c.tx(atk.functions.setMode(QUIET, 0), c.stranger)
    rc = c.tx(atk.functions.attack(), c.stranger)
    assert c.events(rc) == [("Withdrawn", {"account": atk.address, "amount": amount})]
    assert c.balance(atk.address) == amount and c.balance(c.reb.address) == 0


def test_swallowed_reentry_pays_exactly_once(chain, attacker):
    c, atk = chain, attacker
    amount = _owed_as_buyer(c, atk)
    c.tx(atk.functions.setMode(SWALLOW, 1), c.stranger)
    rc = c.tx(atk.functions.attack(), c.stranger)
    assert c.events(rc) == [("Withdrawn", {"account": atk.address, "amount": amount})]
    a = atk.functions
    assert (a.receivedCount().call(), a.receivedTotal().call()) == (1, amount)
    assert (a.reentryAttempts().call(), a.reentrySuccesses().call()) == (1, 0)
    assert bytes(a.lastReentryError().call()) == _selector(c.w3, "Reentrancy()")
    assert c.balance(atk.address) == amount
    assert c.owed(atk.address) == 0 and c.balance(c.reb.address) == 0
    c.expect(a.attack(), c.stranger, "NothingToWithdraw", atk.address)
    assert c.balance(atk.address) == amount


def test_seller_cannot_drain_other_escrow(chain, attacker):
    """The attacker sells a node and is owed its price while other buyers' escrow sits in the
    REB; re-entering withdraw() repeatedly yields its own credit once and nothing of the rest."""
    c, atk = chain, attacker
    f = c.reb.functions
    c.tx(atk.functions.register("evil provider"), c.stranger)
    c.tx(atk.functions.publish(spec(nodeId="evil", pricePerHour=PRICE)), c.stranger)  # offer 1
    c.publish(nodeId="honest", pricePerHour=3 * PRICE)                                # offer 2
    rid, _ = c.reserve(1, hours=2)
    rc = c.tx(atk.functions.accept(rid, "198.51.100.7:22", FP), c.stranger)
    end = c.reservation(rid)["endsAt"]
    assert end == c.block_time(rc) + 2 * HOUR
    c.reserve(2, hours=4, who=c.buyer2)          # 12 PRICE of someone else's escrow, live
    c.at(end)
    c.tx(f.settle(rid), c.buyer)
    assert c.owed(atk.address) == 2 * PRICE
    assert c.balance(c.reb.address) == 14 * PRICE
    c.tx(atk.functions.setMode(DRAIN, 5), c.stranger)
    rc = c.tx(atk.functions.attack(), c.stranger)
    assert c.events(rc) == [("Withdrawn", {"account": atk.address, "amount": 2 * PRICE})]
    assert c.balance(atk.address) == 2 * PRICE
    assert atk.functions.reentrySuccesses().call() == 0
    assert bytes(atk.functions.lastReentryError().call()) == _selector(c.w3, "Reentrancy()")
    assert c.balance(c.reb.address) == 12 * PRICE
    assert c.reservation(2)["state"] == ResState.REQUESTED
    _assert_balance_invariant(c, [atk.address, c.seller, c.buyer, c.buyer2])


def test_cross_function_reentry_keeps_the_books(chain, attacker):
    """Re-entering another function (reserve) with the money just received is ordinary use: it
    is booked as a new escrow and the balance invariant holds."""
    c, atk = chain, attacker
    amount = _owed_as_buyer(c, atk)                                   # 2 PRICE owed
    c.publish(who=c.seller2, nodeId="povo", pricePerHour=PRICE)      # offer 2, 2 h = amount
    c.tx(atk.functions.setReenterReserve(2, 2), c.stranger)
    c.tx(atk.functions.setMode(RESERVE, 0), c.stranger)
    rc = c.tx(atk.functions.attack(), c.stranger)
    assert [n for n, _ in c.events(rc)] == ["Withdrawn", "ReservationRequested"]
    assert atk.functions.reentrySuccesses().call() == 1
    r = c.reservation(2)
    assert (r["buyer"], r["offerId"], r["escrow"], r["state"]) == (atk.address, 2, amount, ResState.REQUESTED)
    assert c.owed(atk.address) == 0
    assert c.balance(atk.address) == 0
    assert c.balance(c.reb.address) == amount
    _assert_balance_invariant(c, [atk.address, c.seller, c.seller2])
