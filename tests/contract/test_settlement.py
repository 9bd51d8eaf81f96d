"""Release before/at/after the end, settle, and withdrawal of the funds, to the wei."""
import pytest

from tests.contract.helpers import HOUR, ZERO32, OfferState, ResState

PRICE = 10 ** 15 + 7   # wei per hour: escrow / duration is never a whole number
HOURS = 3
ESCROW = HOURS * PRICE
DURATION = HOURS * HOUR


@pytest.fixture
def accepted(chain):
    """Offer 1 of `seller`, reservation 1 of `buyer` for HOURS hours, accepted.
    Returns (chain, acceptedAt, balances of seller and buyer before anything they paid for)."""
    chain.publish(nodeId="seoul-keti", pricePerHour=PRICE)
    start = {a: chain.balance(a) for a in (chain.seller, chain.buyer)}
    rid, rc_res = chain.reserve(1, hours=HOURS)
    rc_acc = chain.accept(rid)
    fees = {chain.buyer: chain.fee(rc_res), chain.seller: chain.fee(rc_acc)}
    t = chain.block_time(rc_acc)
    assert chain.reservation(rid)["endsAt"] == t + DURATION
    return chain, t, start, fees


def _withdraw_exact(c, who, expected):
    """`who` withdraws; its balance grows by exactly `expected` minus the gas it paid."""
    f = c.reb.functions
    if expected == 0:
        c.expect(f.withdraw(), who, "NothingToWithdraw", who, mine=False)
        return 0
    before = c.balance(who)
    rc = c.tx(f.withdraw(), who)
    assert c.events(rc) == [("Withdrawn", {"account": who, "amount": expected})]
    assert c.balance(who) == before + expected - c.fee(rc)
    assert c.owed(who) == 0
    c.expect(f.withdraw(), who, "NothingToWithdraw", who, mine=False)
    return c.fee(rc)


ELAPSED = [1, DURATION // 4, DURATION // 3, DURATION // 2, 2 * DURATION // 3 + 17, DURATION - 1,
           DURATION, DURATION + 1, DURATION + 30 * 24 * HOUR]


@pytest.mark.parametrize("elapsed", ELAPSED)
def test_release_pays_time_share(accepted, elapsed):
    c, t, start, fees = accepted
    f = c.reb.functions
    c.at(t + elapsed)
    rc = c.tx(f.release(1), c.buyer)
    assert c.block_time(rc) == t + elapsed
    fees[c.buyer] += c.fee(rc)
    to_seller = ESCROW if elapsed >= DURATION else ESCROW * elapsed // DURATION
    to_buyer = ESCROW - to_seller
    if elapsed < DURATION:  # rounded down, in the buyer's favour
        assert to_seller * DURATION <= ESCROW * elapsed < (to_seller + 1) * DURATION
    assert c.events(rc) == [("ReservationReleased", {"reservationId": 1, "toSeller": to_seller, "toBuyer": to_buyer})]
    r = c.reservation(1)
    assert r["state"] == ResState.RELEASED
    assert r["escrow"] == ESCROW  # kept for the record
    assert (r["buyerKey"], r["hostKeyFingerprint"], r["accessEndpoint"]) == (ZERO32, ZERO32, "")
    assert (c.offer(1)["state"], c.offer(1)["activeReservation"]) == (OfferState.OPEN, 0)
    assert (c.owed(c.seller), c.owed(c.buyer)) == (to_seller, to_buyer)
    assert c.balance(c.reb.address) == ESCROW
    fees[c.seller] += _withdraw_exact(c, c.seller, to_seller)
    fees[c.buyer] += _withdraw_exact(c, c.buyer, to_buyer)
    assert c.balance(c.reb.address) == 0
    # end to end, to the wei: what each side paid in gas is all that is unaccounted for
    assert c.balance(c.seller) == start[c.seller] + to_seller - fees[c.seller]
    assert c.balance(c.buyer) == start[c.buyer] - to_seller - fees[c.buyer]


# anvil only: py-evm's blocks always advance the clock by at least one second.
@pytest.mark.parametrize("chain", ["anvil"], indirect=True)
def test_release_in_the_accept_block_pays_nothing(chain):
    """Zero elapsed seconds: the whole escrow goes back (anvil can mine two blocks in one second)."""
    chain.publish(pricePerHour=PRICE)
    rid, _ = chain.reserve(1, hours=HOURS)
    rc = chain.accept(rid)
    t = chain.block_time(rc)
    chain.at(t)
    rc = chain.tx(chain.reb.functions.release(rid), chain.buyer)
    assert chain.block_time(rc) == t
    assert chain.events(rc) == [("ReservationReleased", {"reservationId": rid, "toSeller": 0, "toBuyer": ESCROW})]
    assert (chain.owed(chain.seller), chain.owed(chain.buyer)) == (0, ESCROW)


def test_release_access(accepted):
    c, t, _, _ = accepted
    f = c.reb.functions
    for who in (c.seller, c.stranger, c.buyer2):
        c.expect(f.release(1), who, "NotBuyer", 1, who)
    c.expect(f.release(2), c.buyer, "ReservationNotFound", 2)
    c.tx(f.release(1), c.buyer)
    c.expect(f.release(1), c.buyer, "WrongReservationState", 1, ResState.RELEASED)
    c.expect(f.settle(1), c.stranger, "WrongReservationState", 1, ResState.RELEASED)
    # a request that was never accepted cannot be released (cancel is the way out)
    rid, _ = c.reserve(1, hours=1, who=c.buyer2)
    c.expect(f.release(rid), c.buyer2, "WrongReservationState", rid, ResState.REQUESTED)


def test_settle(accepted):
    c, t, start, fees = accepted
    f = c.reb.functions
    end = t + DURATION
    c.expect(f.settle(1), c.stranger, "NotEnded", 1, end)
    c.at(end - 1)
    c.expect(f.settle(1), c.stranger, "NotEnded", 1, end)
    assert c.reservation(1)["state"] == ResState.ACCEPTED
    c.at(end)
    rc = c.tx(f.settle(1), c.stranger)  # anyone may settle once the time is over
    assert c.block_time(rc) == end
    assert c.events(rc) == [("ReservationSettled", {"reservationId": 1, "toSeller": ESCROW})]
    r = c.reservation(1)
    assert r["state"] == ResState.SETTLED
    assert (r["buyerKey"], r["hostKeyFingerprint"], r["accessEndpoint"]) == (ZERO32, ZERO32, "")
    assert c.offer(1)["state"] == OfferState.OPEN
    assert (c.owed(c.seller), c.owed(c.buyer), c.owed(c.stranger)) == (ESCROW, 0, 0)
    c.expect(f.settle(1), c.stranger, "WrongReservationState", 1, ResState.SETTLED)
    c.expect(f.release(1), c.buyer, "WrongReservationState", 1, ResState.SETTLED)
    fees[c.seller] += _withdraw_exact(c, c.seller, ESCROW)
    _withdraw_exact(c, c.buyer, 0)
    assert c.balance(c.seller) == start[c.seller] + ESCROW - fees[c.seller]
    assert c.balance(c.reb.address) == 0


def test_settle_long_after_end(accepted):
    c, t, _, _ = accepted
    c.advance(DURATION + 365 * 24 * HOUR)   # anvil: evm_increaseTime + evm_mine; py-evm: time_travel
    assert c.now() >= t + DURATION + 365 * 24 * HOUR
    rc = c.tx(c.reb.functions.settle(1), c.seller)
    assert c.events(rc) == [("ReservationSettled", {"reservationId": 1, "toSeller": ESCROW})]
    assert c.owed(c.seller) == ESCROW


def test_settle_requires_acceptance(chain):
    f = chain.reb.functions
    chain.publish(pricePerHour=PRICE)
    chain.expect(f.settle(1), chain.stranger, "ReservationNotFound", 1)
    rid, rc = chain.reserve(1, hours=1)
    chain.advance(10 * HOUR)
    chain.expect(f.settle(rid), chain.stranger, "WrongReservationState", rid, ResState.REQUESTED)
    chain.tx(f.expire(rid), chain.stranger)
    chain.expect(f.settle(rid), chain.stranger, "WrongReservationState", rid, ResState.EXPIRED)


def test_withdraw_nothing(chain):
    for who in (chain.buyer, chain.seller, chain.stranger):
        chain.expect(chain.reb.functions.withdraw(), who, "NothingToWithdraw", who)


def test_owed_accumulates_and_is_paid_once(chain):
    """Credits from several reservations add up; one withdraw pays the sum, exactly once."""
    f = chain.reb.functions
    o1, _ = chain.publish(nodeId="a", pricePerHour=PRICE)
    o2, _ = chain.publish(nodeId="b", pricePerHour=2 * PRICE)
    r1, _ = chain.reserve(o1, hours=1)
    r2, _ = chain.reserve(o2, hours=2, who=chain.buyer2)
    chain.accept(r1)
    rc = chain.accept(r2)
    chain.at(chain.block_time(rc) + 2 * HOUR)
    chain.tx(f.settle(r1), chain.stranger)
    chain.tx(f.settle(r2), chain.stranger)
    total = PRICE + 4 * PRICE
    assert chain.owed(chain.seller) == total
    # the buyer's refunds accumulate too
    r3, _ = chain.reserve(o1, hours=2)
    chain.tx(f.reject(r3, "no"), chain.seller)
    r4, _ = chain.reserve(o2, hours=1)
    chain.tx(f.cancel(r4), chain.buyer)
    assert chain.owed(chain.buyer) == 2 * PRICE + 2 * PRICE
    assert chain.balance(chain.reb.address) == total + 4 * PRICE
    _withdraw_exact(chain, chain.seller, total)
    _withdraw_exact(chain, chain.buyer, 4 * PRICE)
    assert chain.balance(chain.reb.address) == 0
