# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Moving a reservation to a wanted state: which contract call does it, with which arguments, and whether it may now.

Shared by reb_reservation (one reservation, any state) and reb_answers (the seller's answers, many at once).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import check_length, fingerprint_bytes
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

# wanted state -> (state that calls for the transaction, contract function, states that already satisfy it)
TRANSITIONS = {
    "accepted": ("requested", "accept", ("accepted",)),
    "rejected": ("requested", "reject", ("rejected",)),
    "cancelled": ("requested", "cancel", ("cancelled",)),
    "released": ("accepted", "release", ("released", "settled")),
    "expired": ("requested", "expire", ("expired",)),
    "settled": ("accepted", "settle", ("settled", "released")),
}


def transition(client, reservation, wanted, params):
    """(contract function, its arguments) that move `reservation` to `wanted`, or None if it is there already;
    RebError with a sentence if it cannot get there. params: access_endpoint and host_key_fingerprint (accepted),
    reason (rejected)."""
    from_state, function, done = TRANSITIONS[wanted]
    args = [reservation["id"]]
    if wanted == "accepted":
        args += amendment(params, reservation)
    if wanted == "rejected":
        check_length("reason", params.get("reason") or "")
        args.append(params.get("reason") or "")
    if reservation["state"] in done:
        return None
    if reservation["state"] != from_state:
        raise RebError("reservation %d is %s; it must be %s to become %s." % (reservation["id"], reservation["state"],
                                                                              from_state, wanted))
    check_timing(client, reservation, wanted)
    return function, args


def amendment(params, reservation):
    if not params.get("access_endpoint") or not params.get("host_key_fingerprint"):
        raise RebError("state=accepted needs access_endpoint and host_key_fingerprint.")
    endpoint, fingerprint = params["access_endpoint"], params["host_key_fingerprint"]
    check_length("access_endpoint", endpoint)
    digest = fingerprint_bytes(fingerprint)
    if reservation["state"] == "accepted" and (reservation["access_endpoint"] != endpoint or
                                               fingerprint_bytes(reservation["host_key_fingerprint"]) != digest):
        raise RebError("reservation %d was already accepted with endpoint %s and fingerprint %s; an acceptance is "
                       "final." % (reservation["id"], reservation["access_endpoint"],
                                   reservation["host_key_fingerprint"]))
    return [endpoint, digest]


def check_timing(client, reservation, wanted):
    now = client.now()
    if wanted == "expired" and now <= reservation["accept_deadline"]:
        raise RebError("reservation %d cannot be expired before its accept deadline %d (now %d)."
                       % (reservation["id"], reservation["accept_deadline"], now))
    if wanted == "accepted" and now > reservation["accept_deadline"]:
        raise RebError("reservation %d can no longer be accepted: its deadline %d passed (now %d)."
                       % (reservation["id"], reservation["accept_deadline"], now))
    if wanted == "settled" and now < reservation["ends_at"]:
        raise RebError("reservation %d runs until %d (now %d): only its buyer may end it earlier (state=released)."
                       % (reservation["id"], reservation["ends_at"], now))
