#!/usr/bin/python
# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: reb_reservation
short_description: Reserve, accept, reject, cancel, release, expire or settle a REB reservation
description:
  - Buyer, O(state=requested) - reserves an open offer for O(hours), paying price x hours into escrow
    and handing over its provisioning public key. The reservation is bound to the offer's terms as the
    buyer saw them (O(terms_hash), else the terms the market index shows when the task runs). If the
    seller changed anything (price, CPU, memory, region, devices, ...) since, the REB refuses the reservation,
    nothing is paid, and the task says which fields changed.
  - "What identifies the same order: O(order_ref). The REB records, per buyer, the reservation made with
    each order reference (its keccak256) and refuses a second one; a rerun with the same O(order_ref)
    returns that reservation, whatever its state now (also released or settled), and never pays twice. A new
    order needs a new O(order_ref). Without O(order_ref) a rerun pays nothing only while the buyer still holds
    a live (requested or accepted) reservation on the offer, or on an offer matching O(offer_filters);
    once that one ended, a rerun is a new order and pays again."
  - Seller, O(state=accepted) - amends the request with the node's access endpoint and SSH host-key
    fingerprint; O(state=rejected) - declines it (the buyer is refunded in full).
  - Buyer, O(state=cancelled) - withdraws a request the seller has not answered (full refund);
    O(state=released) - ends an accepted reservation (seller owed the time used, buyer the rest).
  - Anyone, O(state=expired) - ends a request left unanswered past the accept window (full refund);
    O(state=settled) - ends a reservation whose time ran out (seller owed everything).
  - Funds are credited, never pushed; collect them with M(decenter.fog.reb_withdraw), or in the same block with
    O(withdraw).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  state:
    description: Wanted state of the reservation.
    type: str
    required: true
    choices: [requested, accepted, rejected, cancelled, released, expired, settled]
  offer_id:
    description:
      - Offer to reserve (O(state=requested) needs it or O(offer_filters)).
      - For other states, selects the latest reservation on this offer in which the signing account
        is buyer or seller, when O(reservation_id) is not given.
    type: int
  offer_filters:
    description:
      - With O(state=requested) and no O(offer_id), reserve the best open offer matching these filters
        (the options of M(decenter.fog.reb_offer_info), e.g. C(region), C(device), C(min_cpu_millicores)) -
        the cheapest, ties to the one nearest O(near).
      - If the signing account already holds a live reservation on an offer matching them, that one is
        returned and nothing is paid.
    type: dict
  near:
    description: C(lat,lon) of the buyer, to break price ties among O(offer_filters) matches.
    type: str
  order_ref:
    description:
      - The buyer's own reference of this order (any text, e.g. C(federate-ocr-2026-12-05)), for O(state=requested).
        The REB stores its keccak256 with the reservation; a rerun with the same reference returns that
        reservation and pays nothing, also after it ended. Use a new reference for a new order.
    type: str
  terms_hash:
    description:
      - The offer's C(terms_hash) as the buyer saw it (from M(decenter.fog.reb_offer_info), the inventory or
        the Resource Selector), for O(state=requested) with O(offer_id). When the offer's terms differ now the
        task fails, pays nothing, and lists the changed fields. Without it, the terms the market index shows
        when the task runs are bound.
    type: str
  reservation_id:
    description: Reservation to act on.
    type: int
  hours:
    description: Hours to book (O(state=requested)).
    type: int
  buyer_public_key:
    description: OpenSSH Ed25519 public key line the seller grants access to (O(state=requested)).
    type: str
  max_price_per_hour:
    description: Refuse to reserve if the offer costs more than this (wei per hour).
    type: int
  trusted_sellers:
    description:
      - Reserve only offers of these seller addresses (O(state=requested)); an offer of anyone else is refused,
        also when given by O(offer_id). Names are not unique (anyone can register "Provider B"), addresses are.
    type: list
    elements: str
  access_endpoint:
    description: C(host:port) of the node's SSH server as the buyer reaches it (O(state=accepted)).
    type: str
  host_key_fingerprint:
    description: OpenSSH C(SHA256:...) fingerprint of the node's SSH host key (O(state=accepted)).
    type: str
  reason:
    description:
      - Why the seller declines (O(state=rejected)), for the buyer; at most 256 bytes, public on chain (in the
        C(ReservationRejected) event only). Never put anything secret in it.
    type: str
    default: ""
  wait_timeout:
    description:
      - With O(state=requested), wait up to this many seconds for the seller's answer (the seller's own agent
        accepts or rejects on chain). C(0) returns as soon as the request is mined.
      - Accepted - the task returns the accepted reservation. Rejected (the REB refunds it) - the next best offer
        matching O(offer_filters) is reserved, up to O(max_offers) offers. No answer in time - the request is
        cancelled, the escrow is withdrawn back to the buyer and the task fails saying so.
    type: int
    default: 0
  max_offers:
    description: With O(wait_timeout), how many offers to try in all when sellers reject.
    type: int
    default: 3
  withdraw:
    description:
      - With a state that ends the reservation (V(released), V(cancelled), V(rejected), V(expired), V(settled)),
        also collect what the REB then owes the signing account (the buyer's refund, the seller's pay), as
        M(decenter.fog.reb_withdraw) would.
      - The withdraw is sent right after the ending transaction, before it is mined, so both share a block (one
        block's wait, not two). A rerun collects what is still owed, also when the reservation had ended already.
    type: bool
    default: false
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.action
  - decenter.fog.reb.attributes
'''

EXAMPLES = r'''
- name: Buyer reserves offer 1 for 4 hours
  decenter.fog.reb_reservation:
    state: requested
    offer_id: 1
    hours: 4
    buyer_public_key: "{{ lookup('file', 'provisioning_key.pub') }}"
  register: booking

- name: Buyer orders the cheapest camera node of a trusted seller; a rerun of this order pays nothing
  decenter.fog.reb_reservation:
    state: requested
    order_ref: federate-ocr-2026-12-05
    offer_filters: {region: SEOUL-KETI, device: camkor1}
    trusted_sellers: ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
    hours: 4
    buyer_public_key: "{{ lookup('file', 'provisioning_key.pub') }}"

- name: Buyer ends its rental early and collects the refund in the same block
  decenter.fog.reb_reservation:
    state: released
    reservation_id: "{{ booking.reservation.id }}"
    withdraw: true

- name: Seller accepts with the node's access details
  decenter.fog.reb_reservation:
    state: accepted
    reservation_id: "{{ booking.reservation.id }}"
    access_endpoint: "198.51.100.4:22"
    host_key_fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
'''

RETURN = r'''
reservation:
  description: The reservation after the task.
  returned: always
  type: dict
  sample: {id: 1, offer_id: 1, buyer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", hours: 4, state: accepted,
           escrow: 4000000000000000, requested_at: 1764140000, accepted_at: 1764140012, ends_at: 1764154412,
           accept_deadline: 1764143600, access_endpoint: "198.51.100.4:22",
           host_key_fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
           buyer_public_key: "ssh-ed25519 AAAAC3Nza... decenter-reb-1",
           order_ref: "0x8d3f0c6b3f7d9b2a1e0c5f4d3b2a19081726354453627180a9b8c7d6e5f40312",
           terms_hash: "0x5b0a6f3c5d1f8e2b7c4a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"}
answers:
  description: With O(wait_timeout), the seller's answer to each request of this task, in order.
  returned: when O(wait_timeout) is set with O(state=requested)
  type: list
  elements: dict
  sample: [{offer_id: 1, node_id: seoul-keti, reservation_id: 1, state: rejected, waited: 1.4,
            reason: "4 hours is above max_hours=2"},
           {offer_id: 2, node_id: busan-edge, reservation_id: 2, state: accepted, waited: 0.9}]
transaction_hash:
  description: Hash of the transaction sent (0x-prefixed).
  returned: when a transaction was sent
  type: str
withdrawn:
  description: Wei collected with O(withdraw). In check mode, what is owed before the task (the refund the task would
    bring is not known until its transaction runs).
  returned: when O(withdraw=true)
  type: int
withdraw_transaction_hash:
  description: Hash of the withdraw sent with O(withdraw) (0x-prefixed).
  returned: when O(withdraw=true) and something was owed
  type: str
'''

import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.decenter.fog.plugins.module_utils.reb_answer import reserve_and_wait
from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client, tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import chain_argument_spec
from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import (
    ACTIVE_RESERVATION_STATES, ed25519_key_bytes, order_ref_bytes)
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_market import (
    OFFER_FILTERS, check_sellers, offer_matches, rank_offers, refusal, trusted_set)
from ansible_collections.decenter.fog.plugins.module_utils.reb_module import run_as_module
from ansible_collections.decenter.fog.plugins.module_utils.reb_transition import transition


# States that end a reservation: what it leaves owed can be collected with withdraw=true.
ENDED = frozenset(("released", "cancelled", "rejected", "expired", "settled"))


def run(params, check_mode):
    client = get_client(params, need_key=True)
    if params["state"] == "requested" and params["wait_timeout"]:
        return reserve_and_wait(client, params, check_mode, _request)
    if params["state"] == "requested":
        return _request(client, params, check_mode)
    if params["withdraw"] and params["state"] not in ENDED:
        raise RebError("withdraw=true collects what ending a reservation leaves owed: give state=%s, or collect with "
                       "decenter.fog.reb_withdraw." % "|".join(sorted(ENDED)))
    reservation = _find(client, params)
    wanted = params["state"]
    call = transition(client, reservation, wanted, params)
    if call is None:
        return _collect(client, dict(changed=False, reservation=reservation), params, check_mode)
    function, args = call
    result = dict(changed=True, reservation=reservation,
                  diff=dict(before={"state": reservation["state"]}, after={"state": wanted}))
    if params["withdraw"]:
        receipt, withdrawal, result["withdrawn"] = client.transact_and_collect(function, *args, check_mode=check_mode)
        if withdrawal:
            result["withdraw_transaction_hash"] = tx_hash(withdrawal)
    else:
        receipt = client.transact(function, *args, check_mode=check_mode)
    if receipt:
        result["transaction_hash"] = tx_hash(receipt)
        result["reservation"] = client.reservation(reservation["id"])
    return result


def _collect(client, result, params, check_mode):
    """withdraw=true on a reservation that had ended already: collect what is still owed (a rerun after a failed
    withdraw), as reb_withdraw does."""
    if not params["withdraw"]:
        return result
    result["withdrawn"], receipt = client.collect(check_mode)
    result["changed"] = result["changed"] or result["withdrawn"] > 0
    if receipt:
        result["withdraw_transaction_hash"] = tx_hash(receipt)
    return result


def _request(client, params, check_mode):
    for name in ("hours", "buyer_public_key"):
        if params[name] is None or params[name] == "":
            raise RebError("state=requested needs %s." % name)
    if params["hours"] < 1:
        raise RebError("hours=%d: a reservation lasts a whole number of hours, at least 1; give hours=1 or more."
                       % params["hours"])
    key = ed25519_key_bytes(params["buyer_public_key"])
    trusted = _trusted(params)
    order = order_ref_bytes(params["order_ref"]) if params["order_ref"] is not None else None
    if order is not None:
        earlier = client.reservation_of_order(client.address, order)
        if earlier:  # this order was placed already: the same order never pays twice
            held = client.reservation(earlier)
            return dict(changed=False, reservation=held, offer=client.offer(held["offer_id"]))
    offer = client.offer(params["offer_id"]) if params["offer_id"] else _best_offer(client, params, trusted)
    if trusted and offer["seller"].lower() not in trusted:
        raise RebError("offer %d is sold by %s (%r), which is not one of trusted_sellers; nothing was reserved."
                       % (offer["id"], offer["seller"], offer.get("seller_name", "")))
    if offer["active_reservation"]:
        held = client.reservation(offer["active_reservation"])
        if held["buyer"] == client.address and held["state"] in ACTIVE_RESERVATION_STATES and order is None:
            return dict(changed=False, reservation=held, offer=offer)
        raise RebError("offer %d is already reserved (reservation %d%s); choose another offer."
                       % (offer["id"], held["id"], ", yours under another order_ref"
                          if held["buyer"] == client.address else " of another buyer"))
    why = refusal(offer, client.address)
    if why:
        raise RebError(why[1])
    seen = _terms_hash(params["terms_hash"]) or offer["terms_hash"]
    current = _check_terms(client, offer["id"], seen)
    hours = params["hours"]
    why = refusal(dict(offer, min_hours=current["min_hours"], max_hours=current["max_hours"]), client.address, hours)
    if why:
        raise RebError(why[1])
    if params["max_price_per_hour"] is not None and current["price_per_hour"] > params["max_price_per_hour"]:
        raise RebError("offer %d costs %d wei per hour, above max_price_per_hour=%d; nothing was reserved."
                       % (offer["id"], current["price_per_hour"], params["max_price_per_hour"]))
    escrow = current["price_per_hour"] * hours
    pending = {"offer_id": offer["id"], "hours": hours, "escrow": escrow, "state": "requested", "terms_hash": seen}
    result = dict(changed=True, offer=offer, reservation=pending,
                  diff=dict(before={}, after={"offer_id": offer["id"], "hours": hours, "escrow": escrow}))
    # without an order reference every run is a new order: a random one only keeps orders apart
    order = order if order is not None else os.urandom(32)
    try:
        receipt = client.transact("reserve", offer["id"], hours, key, bytes.fromhex(seen[2:]), order,
                                  value=escrow, check_mode=check_mode)
    except RebError:
        _check_terms(client, offer["id"], seen)  # changed while the transaction was on its way: say how
        raise
    if receipt:
        result["reservation"] = client.reservation(client.event_args(receipt, "ReservationRequested")["reservationId"])
        result["transaction_hash"] = tx_hash(receipt)
    return result


def _check_terms(client, offer_id, seen):
    """The offer as the contract has it now; a clear error naming the changed fields if its terms are not `seen`."""
    current = client.offer_states([offer_id])[offer_id]
    if current["terms_hash"] == seen:
        return current
    changes = client.market().changes_since(offer_id, seen)
    if changes:
        what = "; ".join("%s %s -> %s" % (k, _shown(k, old), _shown(k, new)) for k, (old, new) in sorted(changes.items()))
    else:
        what = "its terms hash is %s, not %s as seen" % (current["terms_hash"], seen)
    raise RebError("offer %d changed since it was chosen (%s); nothing was paid. Look at the offer again and "
                   "reserve it with its new terms (terms_hash) if they suit you." % (offer_id, what))


def _terms_hash(text):
    if not text:
        return None
    text = str(text).strip().lower()
    if len(text) != 66 or not text.startswith("0x") or any(c not in "0123456789abcdef" for c in text[2:]):
        raise RebError("terms_hash %r is not a terms hash (0x followed by 64 hex digits); take it from the offer's "
                       "terms_hash as decenter.fog.reb_offer_info returns it." % text[:80])
    return text


def _shown(field, value):
    if field == "devices":
        return ",".join("%s:%s" % (d["id"], d["kind"]) for d in value) or "(none)"
    return repr(value) if isinstance(value, str) else str(value)


def _trusted(params):
    if not params["trusted_sellers"]:
        return None
    try:
        check_sellers(params["trusted_sellers"])
    except ValueError as e:
        raise RebError("trusted_sellers: %s" % e)
    return trusted_set(tuple(params["trusted_sellers"]))


def _best_offer(client, params, trusted):
    """The offer this buyer already holds that matches the filters, else the best open match."""
    filters = _filters(params)
    if trusted:
        filters["sellers"] = sorted(trusted)
    index = client.market()
    if params["order_ref"] is None:
        held = index.select(lambda o: o["active_reservation"] and offer_matches(o, dict(filters, state="any")))
        for offer in held:
            if index.reservations[offer["active_reservation"]]["buyer"] == client.address:
                return offer
    now = client.now()
    wanted = dict(filters, state="open", hours=params["hours"])
    skip = params.get("skip_offers", ())  # offers whose seller rejected this buyer's request in this task
    candidates = index.select(lambda o: o["seller"] != client.address and offer_matches(o, wanted, now)
                              and o["id"] not in skip)
    if not candidates:
        described = ", ".join("%s=%s" % kv for kv in sorted(filters.items())) or "any offer"
        price = params["max_price_per_hour"]
        if price is not None:
            # Say what the price filter alone excludes: the cheapest offer meeting everything else.
            unpriced = dict(wanted, max_price_per_hour=None)
            dearer = index.select(lambda o: o["seller"] != client.address and offer_matches(o, unpriced, now))
            if dearer:
                cheapest = min(dearer, key=lambda o: (o["price_per_hour"], o["id"]))
                rest = ", ".join("%s=%s" % kv for kv in sorted(filters.items()) if kv[0] != "max_price_per_hour")
                raise RebError("no open offer matching %s for %d hours costs at most max_price_per_hour=%d wei per "
                               "hour; the cheapest that does, offer %d (%s), costs %d wei per hour: raise "
                               "max_price_per_hour to %d or wait for a cheaper offer. Nothing was reserved."
                               % (rest or "any offer", params["hours"], price, cheapest["id"], cheapest["node_id"],
                                  cheapest["price_per_hour"], cheapest["price_per_hour"]))
        raise RebError("no open offer matches %s for %d hours; widen the filters or try later."
                       % (described, params["hours"]))
    return rank_offers(candidates, params["near"])[0]


def _filters(params):
    """offer_filters checked and typed like reb_offer_info's options (survey values arrive as strings)."""
    raw = dict((k, v) for k, v in (params["offer_filters"] or {}).items() if v not in (None, ""))
    checked = ArgumentSpecValidator(OFFER_FILTERS).validate(raw)
    if checked.error_messages:
        raise RebError("offer_filters: %s" % "; ".join(checked.error_messages))
    filters = dict((k, checked.validated_parameters[k]) for k in raw if k not in ("state", "hours"))
    if params["max_price_per_hour"] is not None:
        filters["max_price_per_hour"] = params["max_price_per_hour"]
    return filters


def _find(client, params):
    if params["reservation_id"]:
        return client.reservation(params["reservation_id"])
    if not params["offer_id"]:
        raise RebError("give reservation_id (or offer_id) to say which reservation to make %s." % params["state"])
    offer = client.offer(params["offer_id"])
    on_offer = [i for i, r in client.market().reservations.items() if r["offer_id"] == offer["id"]]
    mine = [r for r in client.reservations(on_offer) if client.address in (r["buyer"], offer["seller"])]
    if not mine:
        raise RebError("account %s has no reservation on offer %d." % (client.address, offer["id"]))
    return mine[-1]


SPEC = dict(
    argument_spec=chain_argument_spec(
        state=dict(type="str", required=True,
                   choices=["requested", "accepted", "rejected", "cancelled", "released", "expired", "settled"]),
        offer_id=dict(type="int"),
        offer_filters=dict(type="dict"),
        near=dict(type="str"),
        reservation_id=dict(type="int"),
        hours=dict(type="int"),
        buyer_public_key=dict(type="str"),
        max_price_per_hour=dict(type="int"),
        order_ref=dict(type="str"),
        terms_hash=dict(type="str", no_log=False),  # a public hash of an offer's terms
        trusted_sellers=dict(type="list", elements="str"),
        access_endpoint=dict(type="str"),
        host_key_fingerprint=dict(type="str", no_log=False),  # a public fingerprint, recorded on chain
        reason=dict(type="str", default=""),
        wait_timeout=dict(type="int", default=0),
        max_offers=dict(type="int", default=3),
        withdraw=dict(type="bool", default=False),
    ),
    mutually_exclusive=[("offer_id", "offer_filters")],
    required_if=[("state", "requested", ("offer_id", "offer_filters"), True),
                 ("state", "requested", ("hours", "buyer_public_key")),
                 ("state", "accepted", ("access_endpoint", "host_key_fingerprint"))],
    run=run,
)


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
