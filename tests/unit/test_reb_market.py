"""Unit tests of offer filtering and ranking."""
import pytest

from ansible_collections.decenter.fog.plugins.module_utils.reb_market import (
    distance_km, offer_matches, rank_offers, refusal)


def offer(i, price, location="", region="SEOUL-KETI", devices=(("camkor1", "camera"),), state="open", **kw):
    base = dict(id=i, seller="0xAbC", price_per_hour=price, state=state, tier=1, cpu_millicores=2000,
                memory_mib=2048, storage_gib=10, min_hours=1, max_hours=10, available_from=100,
                available_until=100 + 20 * 3600, active_reservation=0, node_id="n%d" % i, region=region,
                location=location, architecture="amd64", devices=[dict(id=d, kind=k) for d, k in devices])
    base.update(kw)
    return base


def test_every_filter_excludes_what_it_should():
    o = offer(1, 10)
    assert offer_matches(o, {})
    for f in (dict(region="POVO"), dict(device="cam1"), dict(device_kind="microphone"),
              dict(min_cpu_millicores=2001), dict(min_memory_mib=4096), dict(min_storage_gib=11),
              dict(architecture="arm64"), dict(max_price_per_hour=9), dict(seller="0xdef"), dict(state="reserved"),
              dict(offer_id=2), dict(node_id="other"), dict(hours=11)):
        assert not offer_matches(o, f), f
    for f in (dict(region="SEOUL-KETI"), dict(device="camkor1"), dict(device_kind="camera"),
              dict(min_cpu_millicores=2000), dict(max_price_per_hour=10), dict(seller="0xABC"), dict(state="any"),
              dict(hours=10)):
        assert offer_matches(o, f), f


def test_hours_respect_the_availability_window():
    o = offer(1, 10)
    assert offer_matches(o, dict(hours=10), now=100)
    assert not offer_matches(o, dict(hours=10), now=99)  # not yet available
    assert not offer_matches(o, dict(hours=10), now=100 + 11 * 3600)  # would end after the window


def test_rank_cheapest_then_nearest_then_oldest():
    seoul, busan, far = "37.5665,126.9780", "35.1796,129.0756", "46.0667,11.1500"
    offers = [offer(1, 20, seoul), offer(2, 10, far), offer(3, 10, busan), offer(4, 10, busan), offer(5, 10, "")]
    ranked = [o["id"] for o in rank_offers(offers, near=seoul)]
    assert ranked == [3, 4, 2, 5, 1]
    assert [o["id"] for o in rank_offers(offers)] == [2, 3, 4, 5, 1]


def test_distance_is_great_circle():
    assert abs(distance_km((37.5665, 126.9780), (35.1796, 129.0756)) - 325) < 5
    assert distance_km((0, 0), (0, 0)) == 0


MATCHER_FILTERS = [dict(), dict(region="R1"), dict(device="cam1"), dict(device_kind="lidar"), dict(offer_id=2),
                   dict(node_id="n2"), dict(min_cpu_millicores=3000), dict(min_memory_mib=10), dict(min_storage_gib=7),
                   dict(architecture="arm64"), dict(max_price_per_hour=15), dict(seller="0XABC"),
                   dict(sellers=["0xDEF", "0x123"]), dict(state="any"), dict(state="reserved"), dict(hours=3),
                   dict(region="R1", device_kind="camera", max_price_per_hour=30, state="any")]


@pytest.mark.parametrize("filters", MATCHER_FILTERS)
def test_the_compiled_matcher_agrees_with_offer_matches(filters):
    from ansible_collections.decenter.fog.plugins.module_utils.reb_market import matcher
    offers = [dict(id=i, node_id="n%d" % i, region="R%d" % (i % 2), devices=[dict(id="cam%d" % (i % 3),
                   kind=("camera", "lidar")[i % 2])], cpu_millicores=1000 * i, memory_mib=i * 7, storage_gib=i,
                   architecture=("amd64", "arm64")[i % 2], price_per_hour=10 * i, seller=("0xabc", "0xdef")[i % 2],
                   state=("open", "reserved")[i % 3 == 0], min_hours=1, max_hours=2 + i % 3, available_from=0,
                   available_until=10 ** 9) for i in range(1, 9)]
    wanted = matcher(filters, now=100)
    assert [o["id"] for o in offers if wanted(o)] == [o["id"] for o in offers if offer_matches(o, filters, 100)]


def test_refusal_says_why_in_the_rebs_own_words():
    o = offer(3, 10)
    assert refusal(o, "0xBuyer") is None and refusal(o, "0xBuyer", hours=10, now=100) is None
    assert refusal(o, "0xabc") == ("own", "offer 3 is your own: a seller cannot reserve its own node.")
    kind, sentence = refusal(offer(3, 10, state="withdrawn"), "0xBuyer")
    assert kind == "not_open" and sentence.startswith("offer 3 is not open (it is withdrawn)")
    kind, sentence = refusal(o, "0xBuyer", hours=11)
    assert kind == "hours" and sentence == ("offer 3: 11 hours is outside what the offer allows (1 to 10 hours); "
                                            "change hours.")
    kind, sentence = refusal(o, "0xBuyer", hours=10, now=100 + 11 * 3600)
    assert kind == "availability" and "available only from 100 to 72100 (unix time)" in sentence
    assert refusal(o, None, hours=2, now=99)[0] == "availability", "before the window opens"
