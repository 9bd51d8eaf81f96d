# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The buyer waits for the seller's answer to its reservation request (reb_reservation state=requested, wait_timeout).

The seller is another organization whose agent answers on chain by itself; the buyer only reads the chain. A request
the seller accepts ends the wait. A rejected one (the REB has refunded it) moves on to the next best matching offer,
at most `max_offers` offers in all. A request still unanswered at `wait_timeout` is cancelled and the escrow is
withdrawn back to the buyer, so nothing stays locked; then the task fails with a message saying so.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import tx_hash
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

# Seconds between two reads of the reservation while waiting (one eth_call each).
POLL_INTERVAL = 0.25


def reserve_and_wait(client, params, check_mode, request):
    """`request(client, params, check_mode)` reserves the best open offer not in params['skip_offers'] (or returns the
    reservation the buyer already holds); this waits for each answer. Returns request's result with `answers`."""
    if params["wait_timeout"] < 0 or params["max_offers"] < 1:
        raise RebError("wait_timeout=%d and max_offers=%d: give wait_timeout >= 0 seconds and max_offers >= 1."
                       % (params["wait_timeout"], params["max_offers"]))
    answers = []
    changed = False
    while len(answers) < params["max_offers"]:  # each pass ends with an answer appended, or returns
        if answers and params.get("offer_id"):
            _nothing_left(client, answers, "offer_id=%d was asked for, so no other offer is tried" % params["offer_id"])
        try:
            result = request(client, dict(params, skip_offers=[a["offer_id"] for a in answers]), check_mode)
        except RebError as e:
            if not answers:
                raise
            _nothing_left(client, answers, str(e))
        changed = changed or result["changed"]
        reservation = result["reservation"]
        if check_mode or reservation["state"] == "accepted" and not result["changed"]:
            return dict(result, changed=changed, answers=answers)  # nothing sent, or the rental already held
        started = time.monotonic()
        # The seller may have answered already (a fast agent, the same block): only a request still open is waited on.
        reservation = _wait(client, reservation["id"], params["wait_timeout"])
        answer = dict(offer_id=reservation["offer_id"], node_id=result["offer"]["node_id"],
                      reservation_id=reservation["id"], state=reservation["state"],
                      waited=round(time.monotonic() - started, 1))
        if reservation["state"] == "requested":
            reservation = _cancel(client, reservation, params["wait_timeout"])
            answer["state"] = reservation["state"]
        if reservation["state"] == "rejected":
            answer["reason"] = reservation.get("reject_reason") or "no reason given"
        answers.append(answer)
        if reservation["state"] == "accepted":
            return dict(result, changed=changed, reservation=reservation, answers=answers)
    _nothing_left(client, answers, "max_offers=%d offers were tried" % params["max_offers"])


def _wait(client, reservation_id, timeout):
    """The reservation once it left `requested`, or still requested when `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        reservation = client.reservation(reservation_id)
        if reservation["state"] != "requested" or time.monotonic() >= deadline:
            return reservation
        time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))


def _cancel(client, reservation, timeout):
    """Cancel an unanswered request and take the escrow back; an answer that comes first is kept."""
    try:
        receipt, withdrawal, refund = client.transact_and_collect("cancel", reservation["id"])
    except RebError:
        answered = client.reservation(reservation["id"])
        if answered["state"] != "requested":  # the seller answered between the last read and the cancel
            return answered
        raise
    raise RebError(
        "the seller did not answer reservation %d (offer %d) within wait_timeout=%d s: the buyer cancelled it "
        "(tx %s) and withdrew %d wei back to %s%s. Nothing is rented; try again later, raise wait_timeout, or choose "
        "another offer." % (reservation["id"], reservation["offer_id"], timeout, tx_hash(receipt), refund,
                            client.address, " (tx %s)" % tx_hash(withdrawal) if withdrawal else ""))


def _nothing_left(client, answers, why):
    """Every offer tried was rejected: collect the refunds the REB credited and say so."""
    refund = client.collect()[0]
    raise RebError(
        "nothing left to rent: %s rejected the request (%s), %s; the REB refunded every escrow and %d wei were "
        "withdrawn back to %s. Widen offer_filters, raise max_offers, or try again later."
        % ("the seller" if len(answers) == 1 else "the sellers",
           ", ".join("reservation %d for %s: %s" % (a["reservation_id"], a["node_id"], a.get("reason") or a["state"])
                     for a in answers),
           why.rstrip("."), refund, client.address))
