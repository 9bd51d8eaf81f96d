# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The REB's reservation events, read through the REB client, filtered to one seller or buyer.

Used by the event source plugin decenter.fog.reb_events (ansible-rulebook). Each event becomes a plain dict
with the reservation's parties and node, so a rulebook condition needs no second read of the chain.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

RESERVATION_EVENTS = ("ReservationRequested", "ReservationAccepted", "ReservationRejected", "ReservationCancelled",
                      "ReservationExpired", "ReservationReleased", "ReservationSettled")
# Sorts after every log index of a block: "the whole block is done".
BLOCK_DONE = 2 ** 31


class EventReader(object):
    """Reads reservation events of block ranges through the client; parties cached (they never change)."""

    def __init__(self, client, seller=None, buyer=None, events=RESERVATION_EVENTS):
        self.client = client
        self.seller = seller.lower() if seller else None
        self.buyer = buyer.lower() if buyer else None
        self.events = tuple(events)
        self._offers = {}        # offer id -> (seller, node id)
        self._reservations = {}  # reservation id -> (offer id, buyer)

    def head(self, confirmations):
        """The newest block with at least `confirmations` blocks on top of it."""
        return self.client.block_number() - confirmations

    def read(self, first, last):
        """The events of blocks first..last for our seller/buyer, oldest first."""
        found = []
        for decoded in self.client.events(first, last, self.events):
            event = self._describe(decoded)
            if (self.seller is None or event["seller"].lower() == self.seller) and \
                    (self.buyer is None or event["buyer"].lower() == self.buyer):
                found.append(event)
        return found

    def _describe(self, decoded):
        args = dict(decoded["args"])
        reservation_id = args["reservationId"]
        if "offerId" in args:
            self._reservations[reservation_id] = (args["offerId"], args["buyer"])
        if reservation_id not in self._reservations:
            r = self.client.reservation(reservation_id)
            self._reservations[reservation_id] = (r["offer_id"], r["buyer"])
        offer_id, buyer = self._reservations[reservation_id]
        if offer_id not in self._offers:
            o = self.client.offer(offer_id)
            self._offers[offer_id] = (o["seller"], o["node_id"])
        seller, node_id = self._offers[offer_id]
        return {
            "type": decoded["event"],
            "reservation_id": reservation_id,
            "offer_id": offer_id,
            "node_id": node_id,
            "buyer": buyer,
            "seller": seller,
            "block_number": decoded["blockNumber"],
            "log_index": decoded["logIndex"],
            "block_hash": _hex(decoded["blockHash"]),
            "transaction_hash": _hex(decoded["transactionHash"]),
            "args": dict((k, _plain(v)) for k, v in args.items()),
        }


class Cursor(object):
    """Position of the last event handed on, (block, log index), in a JSON file written atomically.

    A cursor of another chain or REB deployment is ignored, so a new chain is read from its start instead of
    from a block number of the old one. A rebuilt lab chain may hold the REB at the same address: the hash of
    the cursor's block tells the chains apart (see `matches`).
    """

    def __init__(self, path, chain_id, contract_address):
        self.path = path
        self.identity = {"chain_id": chain_id, "contract": contract_address.lower()}
        self.position = None
        self.block_hash = None
        self.stale = None
        if path and os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            if all(saved.get(k) == v for k, v in self.identity.items()):
                self.position = (saved["block"], saved["log_index"])
                self.block_hash = saved.get("block_hash")
            else:
                self.stale = saved

    def matches(self, block_hash_of):
        """False (and the cursor forgotten) if the chain no longer has the cursor's block: it was rebuilt."""
        if self.position is None or not self.block_hash:
            return True
        if block_hash_of(self.position[0]) == self.block_hash:
            return True
        self.stale = dict(self.identity, block=self.position[0], block_hash=self.block_hash)
        self.position = self.block_hash = None
        return False

    def next_block(self, start_block):
        if self.position is None:
            return start_block
        block, index = self.position
        return block + 1 if index >= BLOCK_DONE else block

    def seen(self, event):
        return self.position is not None and (event["block_number"], event["log_index"]) <= self.position

    def advance(self, block, block_hash, log_index=BLOCK_DONE):
        if self.position is not None and (block, log_index) <= self.position:
            return
        self.position, self.block_hash = (block, log_index), block_hash
        if self.path:
            saved = dict(self.identity, block=block, log_index=log_index, block_hash=block_hash)
            tmp = "%s.tmp" % self.path
            with open(tmp, "w") as f:
                json.dump(saved, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)


def _hex(value):
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


def _plain(value):
    return _hex(value) if isinstance(value, (bytes, bytearray)) else value
