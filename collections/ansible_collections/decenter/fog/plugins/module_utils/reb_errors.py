# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The REB's errors as users read them: RebError, and one sentence per custom error of the contract, used both
for a revert (reb_client.explain) and for the same refusal found before sending anything (reb_market.refusal).

Pure Python (no web3).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

OFFER_STATES = ("none", "open", "reserved", "withdrawn")
RESERVATION_STATES = ("none", "requested", "accepted", "rejected", "cancelled", "expired", "released", "settled")


class RebError(Exception):
    """A failure a user can act on; its message is shown as is by the modules."""


ERROR_MESSAGES = {
    "EmptyName": "the provider name must not be empty.",
    "NotRegistered": "account {account} is not a registered provider: register it first with decenter.fog.reb_provider.",
    "InvalidOffer": "the offer is invalid: field {field} is missing or out of range.",
    "NodeIdTaken": "node {nodeId} is already offered by this seller as offer {offerId}; update that offer instead.",
    "NodeIdImmutable": "offer {offerId} is for another node: a node id cannot change; withdraw it and publish anew.",
    "OfferNotFound": "offer {offerId} does not exist on this REB; list offers with decenter.fog.reb_offer_info.",
    "NotSeller": "offer {offerId} belongs to another seller: account {caller} may not change it.",
    "OfferNotOpen": "offer {offerId} is not open (it is {state}); choose an open offer, or wait for its reservation to end.",
    "SelfDealing": "offer {offerId} is your own: a seller cannot reserve its own node.",
    "HoursOutOfRange": "{hoursBooked} hours is outside what the offer allows ({minHours} to {maxHours} hours); change hours.",
    "OutsideAvailability": "offer {offerId} is available only from {availableFrom} to {availableUntil} (unix time); "
                           "book fewer hours or another offer.",
    "WrongPayment": "the escrow must be exactly {expected} wei (price x hours) but {sent} wei was sent.",
    "EmptyKey": "a key or fingerprint is missing (all zero).",
    "EmptyEndpoint": "access_endpoint must not be empty: give host:port of the node's SSH server.",
    "ReservationNotFound": "reservation {reservationId} does not exist on this REB.",
    "NotBuyer": "reservation {reservationId} belongs to another buyer: account {caller} may not act on it.",
    "NotReservationSeller": "reservation {reservationId} is for another seller's offer: account {caller} may not "
                            "answer it.",
    "WrongReservationState": "reservation {reservationId} is {state}, which does not allow this step.",
    "AcceptDeadlinePassed": "reservation {reservationId} can no longer be accepted: its deadline {deadline} "
                            "(unix time) has passed; it can only be expired.",
    "AcceptDeadlineNotPassed": "reservation {reservationId} cannot expire before its accept deadline {deadline} "
                               "(unix time).",
    "NotEnded": "reservation {reservationId} runs until {endsAt} (unix time); only its buyer may end it earlier "
                "(state=released).",
    "NothingToWithdraw": "account {account} is owed nothing: there is nothing to withdraw.",
    "TransferFailed": "paying {amount} wei to {account} failed: the receiving account refused the transfer.",
    "Reentrancy": "a re-entrant call was refused.",
    "PageTooLarge": "a page of {requested} entries was asked for; the REB serves at most {maximum}.",
    "TooLong": "{field} is {length} bytes long; the REB accepts at most {maximum}: shorten it.",
    "InvalidAcceptWindow": "accept_window={acceptWindow} is out of bounds: give {minimum} to {maximum} seconds.",
    "TermsChanged": "offer {offerId} changed since it was chosen (terms hash {expected} seen, {current} now): "
                    "nothing was paid; look at the offer again and reserve with its new terms if they suit you.",
    "OrderExists": "order reference {orderRef} was already used by this buyer for reservation {reservationId}: "
                   "nothing was paid twice; use a new order_ref for a new order.",
}


def contract_sentence(name, **args):
    """The sentence for the REB's custom error `name` with its arguments (a state may be given by number)."""
    template = ERROR_MESSAGES.get(name)
    if template is None:
        return "the REB refused the call: %s(%s)" % (name, ", ".join("%s=%s" % kv for kv in args.items()))
    if isinstance(args.get("state"), int):
        states = OFFER_STATES if name == "OfferNotOpen" else RESERVATION_STATES
        args["state"] = states[args["state"]]
    return template.format(**args)
