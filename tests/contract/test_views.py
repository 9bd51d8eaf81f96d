"""Views: pagination of offers and reservations, lookups of missing ids, constants."""
import pytest

from tests.contract.helpers import KEY, WINDOW

MAX_PAGE = 300


def test_constants(chain):
    f = chain.reb.functions
    assert f.MAX_PAGE().call() == MAX_PAGE
    assert f.acceptWindow().call() == WINDOW
    assert (f.offerCount().call(), f.reservationCount().call()) == (0, 0)


def test_empty_market_pages(chain):
    assert chain.offers(0, 10) == [] and chain.offers(1, 10) == [] and chain.offers(1, 0) == []
    assert chain.reservations(0, 10) == [] and chain.reservations(1, MAX_PAGE) == []


@pytest.fixture
def five(chain):
    """Five offers (ids 1..5) of two sellers, and three reservations (ids 1..3)."""
    for i in range(3):
        chain.publish(nodeId="b%d" % i, pricePerHour=100 + i)
    for i in range(2):
        chain.publish(who=chain.seller2, nodeId="a%d" % i, pricePerHour=200 + i)
    for oid in (1, 4, 5):
        chain.reserve(oid, hours=1)
    return chain


def _ids(page):
    return [o["nodeId"] for o in page]


def test_get_offers_pages(five):
    c = five
    names = ["b0", "b1", "b2", "a0", "a1"]
    assert _ids(c.offers(1, 5)) == names
    assert _ids(c.offers(0, 2)) == names[:2]          # firstId 0 means 1
    assert _ids(c.offers(0, 0)) == []
    assert _ids(c.offers(2, 2)) == names[1:3]
    assert _ids(c.offers(4, 10)) == names[3:]          # clipped at the end
    assert _ids(c.offers(5, 1)) == ["a1"]
    assert _ids(c.offers(5, MAX_PAGE)) == ["a1"]
    assert c.offers(6, 1) == []                        # beyond the end
    assert c.offers(10 ** 30, MAX_PAGE) == []
    assert c.offers(2 ** 256 - 1, 1) == []
    # the page holds the same structs as getOffer
    assert c.offers(1, 5) == [c.offer(i) for i in range(1, 6)]
    assert [o["seller"] for o in c.offers(0, 5)] == [c.seller] * 3 + [c.seller2] * 2


def test_get_reservations_pages(five):
    c = five
    all_ = c.reservations(1, 10)
    assert [r["offerId"] for r in all_] == [1, 4, 5]
    assert all_ == [c.reservation(i) for i in (1, 2, 3)]
    assert [r["offerId"] for r in c.reservations(0, 1)] == [1]
    assert [r["offerId"] for r in c.reservations(2, 1)] == [4]
    assert [r["offerId"] for r in c.reservations(3, 100)] == [5]
    assert c.reservations(4, 1) == [] and c.reservations(1, 0) == []
    assert all(r["buyerKey"] == KEY for r in all_)


def test_page_too_large(five):
    f = five.reb.functions
    for fn in (f.getOffers, f.getReservations):
        for first in (0, 1, 10 ** 9):
            five.expect(fn(first, MAX_PAGE + 1), five.stranger, "PageTooLarge", MAX_PAGE + 1, MAX_PAGE, mine=False)
        five.expect(fn(1, 2 ** 256 - 1), five.stranger, "PageTooLarge", 2 ** 256 - 1, MAX_PAGE, mine=False)


def test_missing_ids(five):
    f = five.reb.functions
    for bad in (0, 6, 2 ** 256 - 1):
        five.expect(f.getOffer(bad), five.stranger, "OfferNotFound", bad, mine=False)
    for bad in (0, 4):
        five.expect(f.getReservation(bad), five.stranger, "ReservationNotFound", bad, mine=False)
    assert f.offerIdOf(five.seller, "nope").call() == 0
    assert f.offerIdOf(five.seller, "b2").call() == 3
    assert f.offerIdOf(five.seller2, "a1").call() == 5
    assert f.owed(five.stranger).call() == 0
