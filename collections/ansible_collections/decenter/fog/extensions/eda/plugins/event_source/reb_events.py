# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""decenter.fog.reb_events: the REB's reservation events for ansible-rulebook.

Each event is put on the queue as ``{"reb": {...}}`` with ``type`` (ReservationRequested, ReservationAccepted,
ReservationRejected, ReservationCancelled, ReservationExpired, ReservationReleased, ReservationSettled),
``reservation_id``, ``offer_id``, ``node_id``, ``buyer``, ``seller``, ``block_number``, ``log_index``,
``transaction_hash`` and the event's ``args``. One ``{"reb": {"type": "Started", ...}}`` comes first, once
connected: a rulebook answers everything pending on it, which covers an event the engine had taken but not yet
acted on when the agent was stopped.

Arguments (rulebook ``sources:``), every one optional except the chain's address and a party:
  rpc_url            JSON-RPC endpoint (or env DECENTER_REB_RPC_URL; default http://127.0.0.1:8545)
  chain_id           refuse another chain (or env DECENTER_REB_CHAIN_ID)
  contract_address   the REB (or env DECENTER_REB_CONTRACT); or
  contract_file      a YAML/JSON file holding reb_contract_address (the lab's .lab/public/reb.yml)
  seller / buyer     only events of reservations of this seller's offers / of this buyer (addresses)
  confirmations      blocks on top of an event's block before it is handed on (default 0)
  cursor_file        where the position of the last event handed on is kept; a restart resumes after it
  start_block        first block to read without a cursor: a number or "latest" (default 0)
  poll_interval      seconds between looks at the chain once caught up (default 1.0)
  batch_blocks       most blocks read per get_logs call (default 1000)
  backoff_initial / backoff_max
                     seconds to wait after a failed look at the chain, doubling up to the maximum (1 and 30)
  events             only these event types (default: all seven)
  tick_interval      seconds between ``{"reb": {"type": "Tick"}}`` events (default 0: none), so that a rulebook
                     finishes what an earlier run could not (a node that was down) without waiting for the
                     next reservation event

A chain that cannot be reached (or answers with an error) is logged and retried with backoff, never fatal;
bad arguments stop the source with a message saying which one and what to do.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import asyncio
import logging
import os
import sys
import time

try:
    from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client
except ImportError:  # ansible-rulebook runs this file by path: make its collection importable
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 7)))
    from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client
from ansible_collections.decenter.fog.plugins.module_utils.reb_events import (
    RESERVATION_EVENTS, Cursor, EventReader)

LOG = logging.getLogger("decenter.fog.reb_events")

DEFAULTS = {"confirmations": 0, "start_block": 0, "poll_interval": 1.0, "batch_blocks": 1000,
            "backoff_initial": 1.0, "backoff_max": 30.0, "tick_interval": 0}


class SourceArgumentError(ValueError):
    """Bad rulebook arguments: the message says which and what to do."""


def settings(args):
    """Checked arguments, with the chain options' environment fallbacks of the modules."""
    args = dict(args or {})
    s = dict(DEFAULTS)
    s.update((k, v) for k, v in args.items() if v is not None)
    s["rpc_url"] = args.get("rpc_url") or os.environ.get("DECENTER_REB_RPC_URL") or "http://127.0.0.1:8545"
    chain_id = args.get("chain_id") or os.environ.get("DECENTER_REB_CHAIN_ID")
    s["chain_id"] = _number("chain_id", chain_id) if chain_id not in (None, "") else None
    s["contract_address"] = args.get("contract_address") or os.environ.get("DECENTER_REB_CONTRACT")
    if not s["contract_address"] and args.get("contract_file"):
        s["contract_address"] = _address_from_file(args["contract_file"])
    if not s["contract_address"]:
        raise SourceArgumentError("decenter.fog.reb_events needs contract_address (or contract_file, or the "
                                  "environment variable DECENTER_REB_CONTRACT): the REB to listen to.")
    if not args.get("seller") and not args.get("buyer"):
        raise SourceArgumentError("decenter.fog.reb_events needs seller or buyer (an address): whose reservations "
                                  "to follow.")
    for name in ("contract_address", "seller", "buyer"):
        if s.get(name):
            s[name] = _address(name, s[name])
    for name in ("confirmations", "batch_blocks"):
        s[name] = _number(name, s[name], minimum=0 if name == "confirmations" else 1)
    for name in ("poll_interval", "backoff_initial", "backoff_max"):
        s[name] = _number(name, s[name], kind=float, minimum=0.01)
    s["tick_interval"] = _number("tick_interval", s["tick_interval"], kind=float, minimum=0)
    if s["start_block"] != "latest":
        s["start_block"] = _number("start_block", s["start_block"])
    unknown = set(s.get("events") or ()) - set(RESERVATION_EVENTS)
    if unknown:
        raise SourceArgumentError("events %s are not REB reservation events; choose from %s."
                                  % (", ".join(sorted(unknown)), ", ".join(RESERVATION_EVENTS)))
    s["events"] = tuple(s.get("events") or RESERVATION_EVENTS)
    return s


def _number(name, value, kind=int, minimum=0):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SourceArgumentError("decenter.fog.reb_events: %s=%r is not a number." % (name, value))
    if number < minimum:
        raise SourceArgumentError("decenter.fog.reb_events: %s=%r must be at least %s." % (name, value, minimum))
    return number


def _address(name, value):
    """0x + 40 hex digits. A rulebook's "{{ var }}" renders 0x... as a number: it is turned back."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 160:
        value = "0x%040x" % value
    text = str(value)
    if len(text) != 42 or not text.startswith("0x") or not all(c in "0123456789abcdefABCDEF" for c in text[2:]):
        raise SourceArgumentError("decenter.fog.reb_events: %s=%r is not an Ethereum address (0x followed by 40 "
                                  "hex digits)." % (name, value))
    return text


def _address_from_file(path):
    import yaml  # a dependency of ansible-core and ansible-rulebook
    try:
        with open(path) as f:
            address = (yaml.safe_load(f) or {}).get("reb_contract_address")
    except (IOError, OSError, ValueError, AttributeError) as e:
        raise SourceArgumentError("decenter.fog.reb_events: cannot read contract_file %s (%s)." % (path, e))
    if not address:
        raise SourceArgumentError("decenter.fog.reb_events: contract_file %s holds no reb_contract_address." % path)
    return address


class RebEventSource(object):
    """Connects, reads confirmed blocks in bounded batches, hands each event on once, retries with backoff."""

    def __init__(self, s):
        self.s = s
        self.reader = None
        self.cursor = None
        self.failures = 0
        self.last_tick = time.monotonic()

    def _tick(self):
        """A Tick event when tick_interval has passed since the last one (None otherwise, or when ticks are off)."""
        now = time.monotonic()
        if not self.s["tick_interval"] or now - self.last_tick < self.s["tick_interval"]:
            return None
        self.last_tick = now
        return {"type": "Tick", "at": int(time.time())}

    def _connect(self):
        params = {"rpc_url": self.s["rpc_url"], "chain_id": self.s["chain_id"],
                  "contract_address": self.s["contract_address"], "timeout": 10.0}
        client = get_client(params)
        reader = EventReader(client, seller=self.s.get("seller"), buyer=self.s.get("buyer"), events=self.s["events"])
        cursor = Cursor(self.s.get("cursor_file"), client.chain_id, client.contract_address)
        if cursor.stale:
            LOG.warning("cursor %s belongs to another chain or REB (%s): reading this one from its start",
                        self.s.get("cursor_file"), cursor.stale)
        if not cursor.matches(lambda n: client.block_hash(n) if n <= client.block_number() else None):
            LOG.warning("cursor %s points at block %d, which this chain does not have (it was rebuilt): reading "
                        "it from its start", self.s.get("cursor_file"), cursor.stale["block"])
        if cursor.position is None and self.s["start_block"] == "latest":
            self.s["start_block"] = client.block_number() + 1
        self.reader, self.cursor = reader, cursor
        return {"type": "Started", "chain_id": client.chain_id, "contract": client.contract_address,
                "next_block": cursor.next_block(self.s["start_block"]),
                "seller": self.s.get("seller"), "buyer": self.s.get("buyer")}

    def _poll(self):
        """One bounded look: the events of at most batch_blocks confirmed blocks, and whether more are waiting."""
        first = self.cursor.next_block(self.s["start_block"])
        head = self.reader.head(self.s["confirmations"])
        if head < first:
            return [], None, False
        last = min(head, first + self.s["batch_blocks"] - 1)
        events = [e for e in self.reader.read(first, last) if not self.cursor.seen(e)]
        return events, (last, self.reader.client.block_hash(last)), last < head

    async def run(self, queue):
        delay = self.s["backoff_initial"]
        while True:
            try:
                if self.reader is None:
                    started = await asyncio.to_thread(self._connect)
                    LOG.info("listening to the REB %s on %s from block %d", started["contract"], self.s["rpc_url"],
                             started["next_block"])
                    await queue.put({"reb": started})
                events, done, more = await asyncio.to_thread(self._poll)
                # said as soon as the chain answered, before its events are handed on (a log read after an
                # event has the line)
                if self.failures:
                    LOG.warning("the chain at %s answers again after %d failed attempts", self.s["rpc_url"],
                                self.failures)
                self.failures, delay = 0, self.s["backoff_initial"]
                for event in events:
                    await queue.put({"reb": event})
                    self.cursor.advance(event["block_number"], event["block_hash"], event["log_index"])
                if done:
                    self.cursor.advance(*done)
                tick = self._tick()
                if tick:
                    await queue.put({"reb": tick})
                if not more:
                    await asyncio.sleep(self.s["poll_interval"])
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the chain went away or answered garbage: log, wait, retry (never fatal)
                self.failures += 1
                LOG.warning("cannot read the REB at %s (%s): attempt %d failed, retrying in %.1f s",
                            self.s["rpc_url"], _short(e), self.failures, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.s["backoff_max"])


def _short(error):
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


async def main(queue, args):
    """ansible-rulebook's entry point."""
    try:
        s = settings(args)
    except SourceArgumentError as e:
        LOG.error("%s", e)
        raise
    await RebEventSource(s).run(queue)


if __name__ == "__main__":
    # Try it by hand: python reb_events.py '{"contract_file": ".lab/public/reb.yml", "seller": "0x..."}'
    import json

    class _Print(object):
        async def put(self, event):
            print(json.dumps(event), flush=True)

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_Print(), json.loads(sys.argv[1])))
