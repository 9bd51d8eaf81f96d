"""Property-based test: random actors drive the REB on py-evm against a Python model.

Every step predicts the outcome (success with its events, or the exact custom error) from the
model, checks the chain agrees, and after every step the invariants are checked:
  * the REB's ether balance == escrow of Requested/Accepted reservations + sum of owed() of all actors;
  * an offer is Reserved iff exactly one reservation on it is Requested/Accepted (and it is the
    offer's activeReservation);
  * the chain's offers, reservations and owed() equal the model's;
and a withdraw never pays an actor more than the model says it is owed.
"""
import collections

import pytest
from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from web3 import EthereumTesterProvider, Web3

from tests.contract.helpers import (HOUR, KEY, LIVE, WINDOW, Chain, OfferState, ResState, _abi_type, terms_hash,
                                    ahead_of_the_clock, spec)

STATS = collections.Counter()  # "function -> outcome": what the random walks exercised
NODES = ["n0", "n1", "n2"]
PRICES = [1, 999, 10 ** 15 + 7]
MAX_OFFERS = 5  # keeps the market (and the per-step reads) small
JUMPS = [3601, 1800, 7200, 1, 59, 3599, 3600, 36000, 3 * 24 * HOUR]


class Model:
    def __init__(self, actors):
        self.offers = {}        # id -> dict
        self.res = {}           # id -> dict
        self.node_of = {}       # (seller, nodeId) -> offer id
        self.owed = {a: 0 for a in actors}


class REBMachine(RuleBasedStateMachine):
    """Set `base` (see make_machine_base) before running; every example starts from its snapshot."""
    base = None

    def __init__(self):
        super().__init__()
        self.c, snap, self.actors, self.registered, offers = REBMachine.base
        self.tester = self.c.w3.provider.ethereum_tester
        self.tester.revert_to_snapshot(snap)
        self.m = Model(self.actors)
        for oid, (seller, node, p) in enumerate(offers, start=1):  # published before the snapshot
            self.m.offers[oid] = self._offer_record(seller, node, p)
            self.m.node_of[(seller, node)] = oid
        self._cache_key = None
        self._view = None

    # ------------------------------------------------------------------ plumbing
    @property
    def f(self):
        return self.c.reb.functions

    def pending_time(self):
        return self.tester.get_block_by_number("pending")["timestamp"]

    def run(self, fn, actor, expected_error, value=0, events=None):
        """Expected error -> check the revert; else send and check the events. Returns the receipt."""
        STATS["%s -> %s" % (fn.fn_name, expected_error[0] if expected_error else "ok")] += 1
        if expected_error is not None:
            got = self.c.revert(fn, actor, value=value, mine=False)
            assert got == expected_error, "%s: expected %r, chain says %r" % (fn.fn_name, expected_error, got)
            return None
        t = self.pending_time()
        rc = self.c.tx(fn, actor, value=value)
        assert self.c.block_time(rc) == t
        if events is not None:  # the arguments named in `events` (REB v2 events carry more: terms, hashes)
            got = self.c.events(rc)
            assert [(n, dict((k, a.get(k)) for k in e)) for (n, a), (_, e) in zip(got, events)] == events \
                and len(got) == len(events), got
        return rc

    def any_res(self, state):
        return any(r["state"] == state for r in self.m.res.values())

    def any_open_offer(self):
        return any(o["state"] == OfferState.OPEN for o in self.m.offers.values())

    @staticmethod
    def usually(data, label):
        """True 4 times out of 5 (and in the simplest example): the valid choice, so that the
        random walks make progress; False picks a choice that may be wrong."""
        return data.draw(st.integers(0, 4), label=label) < 4

    def pick_actor(self, data, right):
        if right is not None and self.usually(data, "right actor"):
            return right
        return data.draw(st.sampled_from(self.actors), label="actor")

    def pick_offer(self, data):
        n = len(self.m.offers)
        open_ = [i for i, o in self.m.offers.items() if o["state"] == OfferState.OPEN]
        if open_ and self.usually(data, "open offer"):
            return data.draw(st.sampled_from(open_), label="offer")
        return data.draw(st.integers(0, n + 1), label="offer id")

    def pick_res(self, data, state):
        """Mostly a reservation in `state`, sometimes any id (including missing ones)."""
        n = len(self.m.res)
        fit = [i for i, r in self.m.res.items() if r["state"] == state]
        if fit and self.usually(data, "reservation in state"):
            return data.draw(st.sampled_from(fit), label="reservation")
        return data.draw(st.integers(0, n + 1), label="reservation id")

    def _close(self, rid, state, to_seller):
        r = self.m.res[rid]
        o = self.m.offers[r["offer"]]
        r["state"] = state
        self.m.owed[o["seller"]] += to_seller
        self.m.owed[r["buyer"]] += r["escrow"] - to_seller
        o["state"] = OfferState.OPEN
        o["active"] = 0

    # --------------------------------------------------------------------- offers
    def _spec_params(self, data, t):
        """Usually a node available from the past on for a long time; otherwise a narrow or
        future window (where OutsideAvailability happens)."""
        price = data.draw(st.sampled_from(PRICES[::-1]), label="price")
        if self.usually(data, "wide window"):
            return dict(pricePerHour=price, minHours=1, maxHours=31, availableFrom=max(0, t - 36000),
                        availableUntil=t + 1000 * HOUR)
        min_h = data.draw(st.sampled_from([1, 2]), label="minHours")
        frm = t + data.draw(st.sampled_from([-36000, 0, 1800]), label="from")
        return dict(
            pricePerHour=price,
            minHours=min_h, maxHours=min_h + data.draw(st.sampled_from([0, 3, 30]), label="span"),
            availableFrom=frm,
            availableUntil=frm + data.draw(st.sampled_from([3 * HOUR, 30 * HOUR]), label="until"))

    @staticmethod
    def _offer_record(seller, node, p):
        return dict(seller=seller, node=node, state=OfferState.OPEN, active=0, price=p["pricePerHour"],
                    min=p["minHours"], max=p["maxHours"], frm=p["availableFrom"], until=p["availableUntil"],
                    terms=terms_hash(spec(nodeId=node, **p)))

    # ---------------------------------------------------------------------- steps
    def actions(self):
        """Names of the actions possible now, most productive first (Hypothesis leans towards
        the first choices, and shrinks towards them)."""
        m = self.m
        acts = []
        if self.any_res(ResState.REQUESTED):
            acts.append("answer_request")
        if self.any_res(ResState.ACCEPTED):
            acts.append("end_rental")
        if self.any_open_offer():
            acts.append("reserve")
        acts.append("time_passes")
        if any(m.owed.values()):
            acts.append("withdraw_funds")
        if len(m.offers) < MAX_OFFERS:
            acts.append("publish")
        if self.any_open_offer():
            acts += ["update", "withdraw_offer"]
        return acts

    @rule(data=st.data())
    def step(self, data):
        """One random action by a random actor at the current time."""
        getattr(self, data.draw(st.sampled_from(self.actions()), label="action"))(data)

    def publish(self, data):
        actor = data.draw(st.sampled_from(self.actors), label="actor")
        node = data.draw(st.sampled_from(NODES), label="node")
        p = self._spec_params(data, self.pending_time())
        oid = len(self.m.offers) + 1
        err = None
        if actor not in self.registered:
            err = ("NotRegistered", (actor,))
        elif (actor, node) in self.m.node_of:
            err = ("NodeIdTaken", (node, self.m.node_of[(actor, node)]))
        self.run(self.f.publishOffer(spec(nodeId=node, **p)), actor, err,
                 events=[("OfferPublished", {"offerId": oid, "seller": actor, "nodeId": node})])
        if err is None:
            self.m.offers[oid] = self._offer_record(actor, node, p)
            self.m.node_of[(actor, node)] = oid

    def _sellers_open_offer_error(self, oid, actor):
        o = self.m.offers.get(oid)
        if o is None:
            return ("OfferNotFound", (oid,))
        if o["seller"] != actor:
            return ("NotSeller", (oid, actor))
        if o["state"] != OfferState.OPEN:
            return ("OfferNotOpen", (oid, o["state"]))
        return None

    def update(self, data):
        oid = self.pick_offer(data)
        o = self.m.offers.get(oid)
        actor = self.pick_actor(data, o and o["seller"])
        same = self.usually(data, "same node")
        node = (o["node"] if o else "n0") if same else "other"
        p = self._spec_params(data, self.pending_time())
        err = self._sellers_open_offer_error(oid, actor)
        if err is None and node != o["node"]:
            err = ("NodeIdImmutable", (oid,))
        self.run(self.f.updateOffer(oid, spec(nodeId=node, **p)), actor, err,
                 events=[("OfferUpdated", {"offerId": oid})])
        if err is None:
            self.m.offers[oid] = self._offer_record(actor, node, p)

    def withdraw_offer(self, data):
        oid = self.pick_offer(data)
        o = self.m.offers.get(oid)
        actor = self.pick_actor(data, o and o["seller"])
        err = self._sellers_open_offer_error(oid, actor)
        waiting = None  # REB v2: a request waiting for an answer is rejected (refunded) by the withdrawal
        if err is not None and err[0] == "OfferNotOpen" and o["state"] == OfferState.RESERVED \
                and self.m.res[o["active"]]["state"] == ResState.REQUESTED:
            err, waiting = None, o["active"]
        events = [("OfferWithdrawn", {"offerId": oid})]
        if waiting:
            events.insert(0, ("ReservationRejected", {"reservationId": waiting, "reason": "offer withdrawn"}))
        self.run(self.f.withdrawOffer(oid), actor, err, events=events)
        if err is None:
            if waiting:
                self._close(waiting, ResState.REJECTED, 0)
            o["state"] = OfferState.WITHDRAWN
            del self.m.node_of[(actor, o["node"])]

    # --------------------------------------------------------------- reservations
    def reserve(self, data):
        oid = self.pick_offer(data)
        o = self.m.offers.get(oid)
        others = [a for a in self.actors if not o or a != o["seller"]]
        actor = self.pick_actor(data, data.draw(st.sampled_from(others), label="buyer"))
        if not o:
            hours = 1
        elif self.usually(data, "hours in range"):
            hours = data.draw(st.integers(o["min"], min(o["max"], o["min"] + 3)), label="hours")
        else:
            hours = data.draw(st.sampled_from([0, o["min"] - 1, o["max"] + 1, 2 ** 16]), label="bad hours")
        price = o["price"] * hours if o else 0
        delta = 0 if self.usually(data, "exact payment") else data.draw(st.sampled_from([-1, 1]), label="off by")
        value = max(0, price + delta)
        t = self.pending_time()
        rid = len(self.m.res) + 1
        if o is None:
            err = ("OfferNotFound", (oid,))
        elif o["state"] != OfferState.OPEN:
            err = ("OfferNotOpen", (oid, o["state"]))
        elif o["seller"] == actor:
            err = ("SelfDealing", (oid,))
        elif hours < o["min"] or hours > o["max"]:
            err = ("HoursOutOfRange", (hours, o["min"], o["max"]))
        elif t < o["frm"] or t + hours * HOUR > o["until"]:
            err = ("OutsideAvailability", (oid, o["frm"], o["until"]))
        elif value != price:
            err = ("WrongPayment", (price, value))
        else:
            err = None
        self.run(self.c.reserve_fn(oid, hours, KEY), actor, err, value=value, events=[(
            "ReservationRequested",
            {"reservationId": rid, "offerId": oid, "buyer": actor, "hoursBooked": hours, "escrow": price})])
        if err is None:
            self.m.res[rid] = dict(buyer=actor, offer=oid, hours=hours, state=ResState.REQUESTED,
                                   escrow=price, requested=t, accepted=0, ends=0)
            o["state"] = OfferState.RESERVED
            o["active"] = rid

    def _seller_of(self, rid):
        r = self.m.res.get(rid)
        return r and self.m.offers[r["offer"]]["seller"]

    def _sellers_request_error(self, rid, actor):
        r = self.m.res.get(rid)
        if r is None:
            return ("ReservationNotFound", (rid,))
        if self._seller_of(rid) != actor:
            return ("NotReservationSeller", (rid, actor))
        if r["state"] != ResState.REQUESTED:
            return ("WrongReservationState", (rid, r["state"]))
        return None

    def _buyers_error(self, rid, actor, expected):
        r = self.m.res.get(rid)
        if r is None:
            return ("ReservationNotFound", (rid,))
        if r["buyer"] != actor:
            return ("NotBuyer", (rid, actor))
        if r["state"] != expected:
            return ("WrongReservationState", (rid, r["state"]))
        return None

    def answer_request(self, data):
        """A request is accepted (half the time), rejected, cancelled or expired; the actor and the
        time decide whether that is allowed."""
        how = data.draw(st.sampled_from(["accept", "accept", "accept", "reject", "cancel", "expire"]), label="how")
        getattr(self, how)(data)

    def end_rental(self, data):
        """An accepted reservation is released by its buyer or settled by anyone."""
        t = self.pending_time()
        over = any(r["state"] == ResState.ACCEPTED and t >= r["ends"] for r in self.m.res.values())
        hows = ["settle", "release"] if over else ["release", "settle"]
        getattr(self, data.draw(st.sampled_from(hows), label="how"))(data)

    def accept(self, data):
        rid = self.pick_res(data, ResState.REQUESTED)
        actor = self.pick_actor(data, self._seller_of(rid))
        t = self.pending_time()
        err = self._sellers_request_error(rid, actor)
        if err is None:
            deadline = self.m.res[rid]["requested"] + WINDOW
            if t > deadline:
                err = ("AcceptDeadlinePassed", (rid, deadline))
        endpoint, fp = "10.0.0.%d:22" % rid, bytes([rid % 250 + 1]) * 32
        self.run(self.f.accept(rid, endpoint, fp), actor, err, events=[(
            "ReservationAccepted", {"reservationId": rid, "accessEndpoint": endpoint, "hostKeyFingerprint": fp})])
        if err is None:
            r = self.m.res[rid]
            r.update(state=ResState.ACCEPTED, accepted=t, ends=t + r["hours"] * HOUR)

    def reject(self, data):
        rid = self.pick_res(data, ResState.REQUESTED)
        actor = self.pick_actor(data, self._seller_of(rid))
        err = self._sellers_request_error(rid, actor)
        self.run(self.f.reject(rid, "no"), actor, err, events=[("ReservationRejected", {"reservationId": rid, "reason": "no"})])
        if err is None:
            self._close(rid, ResState.REJECTED, 0)

    def cancel(self, data):
        rid = self.pick_res(data, ResState.REQUESTED)
        r = self.m.res.get(rid)
        actor = self.pick_actor(data, r and r["buyer"])
        err = self._buyers_error(rid, actor, ResState.REQUESTED)
        self.run(self.f.cancel(rid), actor, err, events=[("ReservationCancelled", {"reservationId": rid})])
        if err is None:
            self._close(rid, ResState.CANCELLED, 0)

    def expire(self, data):
        rid = self.pick_res(data, ResState.REQUESTED)
        actor = data.draw(st.sampled_from(self.actors), label="actor")
        r = self.m.res.get(rid)
        t = self.pending_time()
        if r is None:
            err = ("ReservationNotFound", (rid,))
        elif r["state"] != ResState.REQUESTED:
            err = ("WrongReservationState", (rid, r["state"]))
        elif t <= r["requested"] + WINDOW:
            err = ("AcceptDeadlineNotPassed", (rid, r["requested"] + WINDOW))
        else:
            err = None
        self.run(self.f.expire(rid), actor, err, events=[("ReservationExpired", {"reservationId": rid})])
        if err is None:
            self._close(rid, ResState.EXPIRED, 0)

    def release(self, data):
        rid = self.pick_res(data, ResState.ACCEPTED)
        r = self.m.res.get(rid)
        actor = self.pick_actor(data, r and r["buyer"])
        t = self.pending_time()
        err = self._buyers_error(rid, actor, ResState.ACCEPTED)
        used = 0
        if err is None:
            used = r["escrow"] if t >= r["ends"] else \
                r["escrow"] * (t - r["accepted"]) // (r["ends"] - r["accepted"])
        self.run(self.f.release(rid), actor, err, events=[(
            "ReservationReleased", {"reservationId": rid, "toSeller": used, "toBuyer": r and r["escrow"] - used})])
        if err is None:
            self._close(rid, ResState.RELEASED, used)

    def settle(self, data):
        rid = self.pick_res(data, ResState.ACCEPTED)
        actor = data.draw(st.sampled_from(self.actors), label="actor")
        r = self.m.res.get(rid)
        t = self.pending_time()
        if r is None:
            err = ("ReservationNotFound", (rid,))
        elif r["state"] != ResState.ACCEPTED:
            err = ("WrongReservationState", (rid, r["state"]))
        elif t < r["ends"]:
            err = ("NotEnded", (rid, r["ends"]))
        else:
            err = None
        self.run(self.f.settle(rid), actor, err,
                 events=[("ReservationSettled", {"reservationId": rid, "toSeller": r and r["escrow"]})])
        if err is None:
            self._close(rid, ResState.SETTLED, r["escrow"])

    def withdraw_funds(self, data):
        owed = [a for a in self.actors if self.m.owed[a]]
        actor = data.draw(st.sampled_from(owed), label="actor") if self.usually(data, "owed actor") \
            else data.draw(st.sampled_from(self.actors), label="actor")
        amount = self.m.owed[actor]
        if amount == 0:
            self.run(self.f.withdraw(), actor, ("NothingToWithdraw", (actor,)))
            return
        before = self.c.balance(actor)
        rc = self.run(self.f.withdraw(), actor, None, events=[("Withdrawn", {"account": actor, "amount": amount})])
        received = self.c.balance(actor) - before + self.c.fee(rc)
        assert received <= self.m.owed[actor], "paid %d, owed only %d" % (received, self.m.owed[actor])
        assert received == amount
        self.m.owed[actor] = 0

    def time_passes(self, data):
        seconds = data.draw(st.sampled_from(JUMPS), label="seconds")
        self.tester.time_travel(self.pending_time() + seconds)

    # ----------------------------------------------------------------- invariants
    def call(self, name, *args):
        """A view called straight through eth-tester (no web3 middlewares: the reads after every
        step are most of this test's cost), decoded with the ABI."""
        item = next(i for i in self.c.reb.abi if i.get("name") == name and i["type"] == "function")
        data = self.c.reb.encode_abi(name, args)
        out = self.tester.call({"from": self.actors[0], "to": self.c.reb.address, "data": data}, "latest")
        out = bytes.fromhex(out[2:]) if isinstance(out, str) else bytes(out)
        return abi_decode([_abi_type(o) for o in item["outputs"]], out)[0]

    def view(self):
        """Chain state, read once per block (reverted simulations do not change it)."""
        key = self.tester.get_block_by_number("latest")["hash"]
        if key != self._cache_key:
            self._view = dict(
                offers=self._structs("getOffer", self.call("getOffers", 1, len(self.m.offers) + 1)),
                res=self._structs("getReservation", self.call("getReservations", 1, len(self.m.res) + 1)),
                owed={a: self.call("owed", a) for a in self.actors},
                balance=self.tester.get_balance(self.c.reb.address))
            self._cache_key = key
        return self._view

    def _structs(self, fn_name, rows):
        item = next(i for i in self.c.reb.abi if i.get("name") == fn_name and i["type"] == "function")
        fields = item["outputs"][0]["components"]
        return [{f["name"]: to_checksum_address(v) if f["type"] == "address" else v
                 for f, v in zip(fields, row)} for row in rows]

    @invariant()
    def balance_equals_live_escrow_plus_owed(self):
        v = self.view()
        live = sum(r["escrow"] for r in v["res"] if r["state"] in LIVE)
        assert v["balance"] == live + sum(v["owed"].values())
        assert v["owed"] == self.m.owed

    @invariant()
    def reserved_iff_exactly_one_live_reservation(self):
        v = self.view()
        for oid, o in enumerate(v["offers"], start=1):
            live = [rid for rid, r in enumerate(v["res"], start=1) if r["offerId"] == oid and r["state"] in LIVE]
            assert len(live) <= 1
            assert (o["state"] == OfferState.RESERVED) == (len(live) == 1)
            assert o["activeReservation"] == (live[0] if live else 0)

    @invariant()
    def chain_matches_model(self):
        v = self.view()
        assert len(v["offers"]) == len(self.m.offers) and len(v["res"]) == len(self.m.res)
        for oid, o in enumerate(v["offers"], start=1):
            mo = self.m.offers[oid]
            assert (o["seller"], o["termsHash"], o["state"], o["pricePerHour"], o["minHours"], o["maxHours"],
                    o["availableFrom"], o["availableUntil"]) == (
                mo["seller"], mo["terms"], mo["state"], mo["price"], mo["min"], mo["max"], mo["frm"], mo["until"])
        for rid, r in enumerate(v["res"], start=1):
            mr = self.m.res[rid]
            assert (r["buyer"], r["offerId"], r["hoursBooked"], r["state"], r["escrow"], r["requestedAt"],
                    r["acceptedAt"], r["endsAt"]) == (
                mr["buyer"], mr["offer"], mr["hours"], mr["state"], mr["escrow"], mr["requested"],
                mr["accepted"], mr["ends"])


def make_machine_base():
    """Own py-evm chain: REB deployed, three of the four actors registered as providers, and two
    open offers (so that reservations can happen from the first step); then a snapshot."""
    c = Chain("pyevm", Web3(EthereumTesterProvider()))
    ahead_of_the_clock(c.w3.provider.ethereum_tester)  # block times independent of the machine's speed
    c.deploy()
    actors = c.accounts[1:5]
    registered = actors[:3]
    for a in registered:
        c.register(a)
    t = c.now()
    p = dict(pricePerHour=PRICES[-1], minHours=1, maxHours=31, availableFrom=t - 36000,
             availableUntil=t + 1000 * HOUR)
    offers = [(registered[0], NODES[0], p), (registered[1], NODES[1], p)]
    for seller, node, params in offers:
        c.tx(c.reb.functions.publishOffer(spec(nodeId=node, **params)), seller)
    return c, c.w3.provider.ethereum_tester.take_snapshot(), actors, registered, offers


@pytest.fixture(scope="module")
def machine_base():
    return make_machine_base()


def test_random_actors_keep_the_books(machine_base):
    REBMachine.base = machine_base
    STATS.clear()
    # derandomized: the same walks on every run (about 300 steps, ~35 s of CPU on py-evm). No
    # shrinking: on py-evm it can take many minutes; a failure prints its (unshrunk) steps.
    run_state_machine_as_test(REBMachine, settings=settings(
        max_examples=16, stateful_step_count=20, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck)))
    # the walks must have moved money, or the invariants above proved little
    for needed in ("reserve -> ok", "accept -> ok", "release -> ok", "withdraw -> ok"):
        assert STATS[needed], dict(STATS)
