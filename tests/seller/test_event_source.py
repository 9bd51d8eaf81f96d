"""decenter.fog.reb_events against a real anvil (default gas limit): filtering, confirmations, the cursor across
kills, a chain that goes away and comes back, and bad arguments."""
import json
import signal
import time

import pytest

from tests.seller.market import (
    BUYER_A, BUYER_D, SELLER_B, SELLER_C, Market, SourceProcess, start_chain)


@pytest.fixture
def chain(tmp_path):
    node = start_chain(tmp_path)
    yield node
    node.stop()


@pytest.fixture
def market(chain):
    m = Market(chain)
    m.register(SELLER_B, "B")
    m.register(SELLER_C, "C")
    return m


def source_args(market, tmp_path, **extra):
    args = {"rpc_url": market.chain.url, "contract_address": market.reb.address,
            "seller": market.accounts[SELLER_B], "cursor_file": str(tmp_path / "cursor.json"),
            "poll_interval": 0.1, "backoff_initial": 0.2, "backoff_max": 0.8}
    args.update(extra)
    return args


def cursor_at(tmp_path):
    try:
        saved = json.loads((tmp_path / "cursor.json").read_text())
    except (OSError, ValueError):
        return (-1, -1)
    return (saved["block"], saved["log_index"])


def requested(events):
    return [e["reservation_id"] for e in events if e["type"] == "ReservationRequested"]


def test_only_the_sellers_events_in_order_with_parties(market, tmp_path):
    keti = market.publish(SELLER_B, "seoul-keti")
    other = market.publish(SELLER_C, "busan")
    mine, _ = market.reserve(BUYER_A, keti)
    market.reserve(BUYER_D, other)
    market.send(market.reb.functions.accept(mine, "198.18.0.21:22", b"\x22" * 32), SELLER_B)
    source = SourceProcess(source_args(market, tmp_path), tmp_path / "source.log")
    try:
        events = source.wait_for(lambda ev: len(ev) >= 3)
    finally:
        source.kill()
    assert events[0]["type"] == "Started" and events[0]["contract"] == market.reb.address
    assert [(e["type"], e["reservation_id"]) for e in events[1:]] == [
        ("ReservationRequested", mine), ("ReservationAccepted", mine)]
    first = events[1]
    assert first["node_id"] == "seoul-keti" and first["offer_id"] == keti
    assert first["buyer"] == market.accounts[BUYER_A] and first["seller"] == market.accounts[SELLER_B]
    assert events[2]["args"]["accessEndpoint"] == "198.18.0.21:22"


def test_buyer_filter(market, tmp_path):
    keti = market.publish(SELLER_B, "seoul-keti")
    other = market.publish(SELLER_C, "busan")
    market.reserve(BUYER_A, keti)
    theirs, _ = market.reserve(BUYER_D, other)
    args = source_args(market, tmp_path, buyer=market.accounts[BUYER_D])
    del args["seller"]
    source = SourceProcess(args, tmp_path / "source.log")
    try:
        events = source.wait_for(lambda ev: len(ev) >= 2)
    finally:
        source.kill()
    assert requested(events) == [theirs] and events[1]["seller"] == market.accounts[SELLER_C]


def test_waits_for_confirmations(market, tmp_path):
    keti = market.publish(SELLER_B, "seoul-keti")
    source = SourceProcess(source_args(market, tmp_path, confirmations=2), tmp_path / "source.log")
    try:
        source.wait_for(lambda ev: len(ev) == 1)  # Started
        rid, receipt = market.reserve(BUYER_A, keti)
        market.mine(1)  # one block on top: not yet
        with pytest.raises(AssertionError, match="timed out"):
            source.wait_for(lambda ev: requested(ev), timeout=1.5)
        market.mine(1)  # two blocks on top: handed on
        events = source.wait_for(lambda ev: requested(ev), timeout=10)
    finally:
        source.kill()
    assert requested(events) == [rid] and events[1]["block_number"] == receipt["blockNumber"]


def test_kills_and_restarts_neither_miss_nor_repeat(market, tmp_path):
    """20 requests from two buyers while the source is SIGKILLed and restarted after every fourth."""
    offers = [market.publish(SELLER_B, "node-%02d" % i) for i in range(20)]
    sent, seen = [], []
    for round_ in range(5):
        source = SourceProcess(source_args(market, tmp_path), tmp_path / "source.log")
        try:
            for offer in offers[round_ * 4:round_ * 4 + 4]:
                sent.append(market.reserve((BUYER_A, BUYER_D)[offer % 2], offer)[0])
            events = source.wait_for(lambda ev: set(sent) - set(seen) <= set(requested(ev)))
            # killed once the cursor records what was handed on: a kill between handing an event on and recording it
            # (microseconds) hands it on again after the restart - at least once, never lost
            last = (events[-1]["block_number"], events[-1]["log_index"])
            source.wait_for(lambda ev: cursor_at(tmp_path) >= last)
        finally:
            source.kill(signal.SIGKILL)
        assert events[0]["type"] == "Started"
        seen += requested(events)
    assert sorted(seen) == sorted(sent) and len(seen) == len(set(seen)) == 20
    # requests mined while no source runs are found by the next one, from the cursor on
    while_down = [market.reserve(BUYER_A, market.publish(SELLER_B, "late-%d" % i))[0] for i in range(3)]
    source = SourceProcess(source_args(market, tmp_path), tmp_path / "source.log")
    try:
        source.wait_for(lambda ev: len(requested(ev)) >= 3)
        market.mine(3)
        time.sleep(0.5)  # polls at 0.1 s: time for a repeat to show
        events = list(source.events)
    finally:
        source.kill()
    assert requested(events) == while_down
    cursor = json.loads((tmp_path / "cursor.json").read_text())
    assert cursor["contract"] == market.reb.address.lower() and cursor["block"] >= events[-1]["block_number"]


def test_chain_down_is_retried_with_backoff_then_resumes(tmp_path):
    state = tmp_path / "anvil-state.json"
    chain = start_chain(tmp_path, state_file=state)
    market = Market(chain)
    market.register(SELLER_B, "B")
    keti = market.publish(SELLER_B, "seoul-keti")
    source = SourceProcess(source_args(market, tmp_path), tmp_path / "source.log")
    try:
        source.wait_for(lambda ev: len(ev) == 1)
        chain.stop()  # anvil writes its state file on the way out
        log = tmp_path / "source.log"
        for _ in range(100):  # bounded: a few failed attempts, with growing waits
            if log.read_text().count("retrying in") >= 3:
                break
            time.sleep(0.1)
        chain = start_chain(tmp_path, state_file=state, port=chain.port)
        market.w3 = chain.w3
        market.chain = chain
        rid, _ = market.reserve(BUYER_A, keti)
        events = source.wait_for(lambda ev: requested(ev))
    finally:
        source.kill()
        chain.stop()
    text = (tmp_path / "source.log").read_text()
    assert "retrying in 0.2 s" in text and "retrying in 0.4 s" in text and "retrying in 0.8 s" in text
    assert "answers again after" in text
    assert requested(events) == [rid] and [e["type"] for e in events].count("Started") == 1


def test_a_rebuilt_chain_is_read_from_its_start(tmp_path):
    """The lab's chain rebuilt: the REB at the same address, blocks numbered from 0 again."""
    cursor = tmp_path / "cursor.json"
    for rebuild in range(2):
        chain = start_chain(tmp_path)
        try:
            market = Market(chain)
            market.register(SELLER_B, "B")
            offer = market.publish(SELLER_B, "seoul-keti")
            if rebuild == 0:
                for _ in range(5):  # the first chain grows longer than the second
                    market.publish(SELLER_B, "pad-%d" % _)
            rid, _ = market.reserve(BUYER_A, offer)
            source = SourceProcess(source_args(market, tmp_path), tmp_path / "source.log")
            try:
                events = source.wait_for(lambda ev: requested(ev))
                # the next round must find a cursor past the second chain's end: kill only once it is written
                last = (events[-1]["block_number"], events[-1]["log_index"])
                source.wait_for(lambda ev: cursor_at(tmp_path) >= last)
            finally:
                source.kill()
            assert requested(events) == [rid]
        finally:
            chain.stop()
    assert cursor.exists()
    assert "which this chain does not have" in (tmp_path / "source.log").read_text()


@pytest.mark.parametrize("args, message", [
    ({"seller": "0x" + "00" * 20}, "needs contract_address"),
    ({"contract_address": "0x" + "11" * 20}, "needs seller or buyer"),
    ({"contract_address": "0x" + "11" * 20, "seller": "0x1"}, "seller='0x1' is not an Ethereum address"),
    ({"contract_address": "0x" + "11" * 20, "seller": "0x" + "22" * 20, "confirmations": "many"},
     "confirmations='many'"),
    ({"contract_address": "0x" + "11" * 20, "seller": "0x" + "22" * 20, "events": ["OfferPublished"]},
     "OfferPublished"),
])
def test_bad_arguments_say_what_to_fix(args, message, monkeypatch):
    from tests.seller.plugin import load_source
    monkeypatch.delenv("DECENTER_REB_CONTRACT", raising=False)
    with pytest.raises(ValueError, match=message):
        load_source().settings(args)


def test_an_address_a_rulebook_rendered_as_a_number_is_turned_back():
    from tests.seller.plugin import load_source
    address = "0x00a0Ee7A142d267C1f36714E4a8F75612F20a797"
    s = load_source().settings({"contract_address": int(address, 16), "seller": address})
    assert s["contract_address"] == address.lower() and s["seller"] == address


def test_ticks_come_while_the_market_is_quiet_and_only_when_asked_for(market, tmp_path):
    quiet = SourceProcess(source_args(market, tmp_path, tick_interval=0, cursor_file=str(tmp_path / "quiet.json")),
                          tmp_path / "quiet.log")
    ticking = SourceProcess(source_args(market, tmp_path, tick_interval=0.5), tmp_path / "source.log")
    try:
        events = ticking.wait_for(lambda ev: len([e for e in ev if e["type"] == "Tick"]) >= 2)
        quiet.wait_for(lambda ev: len(ev) >= 1)
        time.sleep(1.5)  # three tick intervals: the source without ticks stays silent
        silent = list(quiet.events)
    finally:
        ticking.kill()
        quiet.kill()
    assert events[0]["type"] == "Started" and {e["type"] for e in events[1:]} == {"Tick"}
    assert [e["type"] for e in silent] == ["Started"]
