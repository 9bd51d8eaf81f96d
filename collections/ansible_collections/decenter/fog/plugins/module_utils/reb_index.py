# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The market index every reader shares: the REB's offers and reservations rebuilt from its events.

The REB keeps only numbers, states and a terms hash in storage; node ids, regions, devices, the
buyer's key and the access details are in its events. The index reads those events once, keeps
the result on disk with its block cursor (and that block's hash), and afterwards reads only the
blocks mined since. A cursor whose block hash changed (a reorganisation, or a restarted dev chain
at the same address) makes it start again from the contract's deployment block.

eth_getLogs ranges are paged: chains cap them (often 10,000 blocks or fewer, or by the number of
results); on a "range too large" kind of error the range is halved and retried.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.decenter.fog.plugins.module_utils.fog_files import write_atomically
from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import decode_tuple, parse_devices
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

FORMAT = 1
FIRST_SPAN = 16      # blocks per eth_getLogs request to start with: grows on sparse chains, shrinks on dense ones
MAX_SPAN = 10000     # many hosted nodes refuse more
PAGE_LOGS = (1000, 4000)  # logs per answer we aim at: grow the span below, shrink it above
HISTORY = 3          # earlier terms kept per offer, to say what changed since a buyer looked
SPEC_KINDS = ("string", "string", "uint", "string", "uint", "uint", "uint", "string", "string", "uint", "uint",
              "uint", "uint", "uint")
SPEC_FIELDS = ("node_id", "region", "tier", "location", "cpu_millicores", "memory_mib", "storage_gib",
               "architecture", "devices", "price_per_hour", "min_hours", "max_hours", "available_from",
               "available_until")
# error texts of nodes that refuse a range as too large (geth, erigon, anvil, hosted providers)
_RANGE_ERRORS = ("range", "too large", "too many", "exceed", "limit", "more than", "response size")
ENV_DIR = "DECENTER_REB_INDEX_DIR"
# Logs read but not yet saved before the file is rewritten: a later process re-reads at most these (a
# call or two), while a busy reader (the GUI at 100k offers) does not rewrite 50 MB after every block.
SAVE_EVERY = 500
CHANGE_LOG = 1000  # updates remembered for readers that follow changes (the GUI)
_OPEN = {}


def index_dir():
    """Where indexes live: $DECENTER_REB_INDEX_DIR, else ~/.cache/decenter-fog/reb-index."""
    return os.environ.get(ENV_DIR) or os.path.join(os.path.expanduser("~"), ".cache", "decenter-fog", "reb-index")


def market_index(client):
    """The index of the client's REB, brought up to the latest block (one per file and process)."""
    path = os.path.join(index_dir(), "%d-%s.json" % (client.chain_id, client.contract_address.lower()))
    index = _OPEN.get(path)
    if index is None or index.client is not client:
        index = _OPEN[path] = MarketIndex(client, path)
    index.update()
    return index


def event_topics(abi):
    """topic0 (0x hex) -> event name, for the REB's events."""
    from eth_utils import keccak
    topics = {}
    for item in abi:
        if item.get("type") == "event":
            types = ",".join(_abi_type(i) for i in item["inputs"])
            topics["0x" + keccak(text="%s(%s)" % (item["name"], types)).hex()] = item["name"]
    return topics


def _abi_type(item):
    if item["type"].startswith("tuple"):
        return "(%s)%s" % (",".join(_abi_type(c) for c in item["components"]), item["type"][len("tuple"):])
    return item["type"]


def is_range_error(text):
    text = text.lower()
    return any(word in text for word in _RANGE_ERRORS)


def get_logs_paged(request, address, first, last, span, on_page=None):
    """Every log of `address` in blocks first..last, asking for at most `span` blocks at a time.

    `request(method, params)` returns the JSON-RPC result or raises with the node's error text.
    A "range too large" kind of error halves the span (down to one block, then it is an error);
    answers of fewer than PAGE_LOGS[0] logs double it (up to MAX_SPAN), answers of more than PAGE_LOGS[1]
    halve it, so that no answer grows huge on a dense chain. Returns (logs, the span to use next time).
    """
    logs = []
    start = first
    ceiling = MAX_SPAN  # after a refusal, never ask for more than what was then tried next
    while start <= last:
        end = min(last, start + span - 1)
        try:
            page = request("eth_getLogs", [{"address": address, "fromBlock": hex(start), "toBlock": hex(end)}])
        except RebError as e:
            if span > 1 and is_range_error(str(e)):
                span = ceiling = max(1, span // 2)
                continue
            raise
        logs.extend(page)
        if on_page:
            on_page(end)
        start = end + 1
        if len(page) < PAGE_LOGS[0]:
            span = min(ceiling, span * 2)
        elif len(page) > PAGE_LOGS[1]:
            span = max(1, span // 2)
    return logs, span


class MarketIndex(object):
    """Offers, reservations and provider names of one REB, as of block `self.block`."""

    def __init__(self, client, path):
        self.client = client
        self.path = path
        self.topics = event_topics(client.abi)
        self._reset()
        self._load()

    def _reset(self):
        self.block, self.block_hash, self.deployed_at, self.span = -1, None, None, FIRST_SPAN
        self.block_time = 0
        self.unsaved = 0
        self.saved_block = -1
        self.generation, self.rebuilds, self.change_log = 0, getattr(self, "rebuilds", -1) + 1, []
        self.offers, self.reservations, self.providers = {}, {}, {}

    # ------------------------------------------------------------------------------ disk

    def _load(self):
        try:
            with open(self.path) as f:
                data = json.load(f)
        except (IOError, OSError, ValueError):
            return
        if data.get("format") != FORMAT:
            return
        self.block, self.block_hash = data["block"], data["block_hash"]
        self.saved_block = self.block
        self.deployed_at, self.span = data["deployed_at"], data["span"]
        self.offers = dict((int(k), v) for k, v in data["offers"].items())
        self.reservations = dict((int(k), v) for k, v in data["reservations"].items())
        self.providers = data["providers"]

    def _save(self):
        """Atomic replace: readers in other processes see the old file or the new one, never half."""
        directory = os.path.dirname(self.path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            text = json.dumps(dict(format=FORMAT, block=self.block, block_hash=self.block_hash,
                                   deployed_at=self.deployed_at, span=self.span, offers=self.offers,
                                   reservations=self.reservations, providers=self.providers),
                              separators=(",", ":"))  # json.dumps: the C encoder (json.dump is pure Python)
            write_atomically(self.path, text)
            self.unsaved, self.saved_block = 0, self.block
        except (IOError, OSError):
            pass  # an index that cannot be saved is rebuilt next time; the answer is still right

    # ---------------------------------------------------------------------------- update

    def update(self):
        """Read the events mined since the cursor; returns the number of new logs."""
        latest = self.client.rpc("eth_getBlockByNumber", ["latest", False])
        number, block_hash = int(latest["number"], 16), latest["hash"]
        self.block_time = int(latest["timestamp"], 16)
        if number == self.block and block_hash == self.block_hash:
            return 0
        rebuilt = self.block < 0
        if self.block >= 0 and (number < self.block or not self._cursor_still_on_chain(number)):
            self._reset()
            rebuilt = True
        if self.deployed_at is None:
            self.deployed_at = self._deployment_block(number)
        first = max(self.block + 1, self.deployed_at)
        logs, self.span = get_logs_paged(self.client.rpc, self.client.contract_address, first, number, self.span)
        changed = set()
        for log in logs:
            changed.add(self._apply(log))
        self.block, self.block_hash = number, block_hash
        self.unsaved += len(logs)
        if self.unsaved >= SAVE_EVERY or self.saved_block < 0:
            self._save()
        self.generation += 1
        if not rebuilt:
            self.change_log = (self.change_log + [(self.generation, changed - {None})])[-CHANGE_LOG:]
        return len(logs)

    def changes_after(self, generation, rebuilds):
        """Ids of the offers changed since a reader synced at (generation, rebuilds); None: re-read them all."""
        if rebuilds != self.rebuilds or (self.change_log and self.change_log[0][0] > generation + 1) \
                or (not self.change_log and generation != self.generation):
            return None
        ids = set()
        for number, changed in self.change_log:
            if number > generation:
                ids |= changed
        return ids

    def _cursor_still_on_chain(self, latest):
        block = self.client.rpc("eth_getBlockByNumber", [hex(self.block), False]) if self.block <= latest else None
        return bool(block) and block["hash"] == self.block_hash

    def _deployment_block(self, latest):
        """First block where the contract has code (binary search: ~log2(blocks) eth_getCode calls).

        A node without the old state (not an archive node) cannot answer for old blocks: then the logs are
        read from the genesis block, which costs more eth_getLogs pages but gives the same index."""
        address = self.client.contract_address
        low, high = 0, latest
        try:
            while low < high:
                mid = (low + high) // 2
                if self.client.rpc("eth_getCode", [address, hex(mid)]) not in ("0x", "", None):
                    high = mid
                else:
                    low = mid + 1
        except RebError:
            return 0
        return low

    # ------------------------------------------------------------------------- decoding

    def _apply(self, log):
        """Apply one log; returns the id of the offer whose record it changed (None if none)."""
        topics = log["topics"]
        name = self.topics.get(topics[0])
        if name is None:
            return
        data = bytes.fromhex(log["data"][2:])
        key = int(topics[1], 16) if len(topics) > 1 else None
        block = int(log["blockNumber"], 16)
        if name == "ProviderRegistered":
            self.providers[_address(topics[1])] = decode_tuple(data, 0, ("string",))[0]
        elif name == "OfferPublished":
            node_id, terms, terms_hash = decode_tuple(data, 0, ("string", SPEC_KINDS, "bytes32"))
            offer = dict(id=key, seller=_address(topics[2]), state="open", active_reservation=0, history=[])
            self.offers[key] = self._with_terms(offer, terms, terms_hash, block)
            return key
        elif name == "OfferUpdated":
            terms, terms_hash = decode_tuple(data, 0, (SPEC_KINDS, "bytes32"))
            offer = self.offers[key]
            offer["history"] = ([_terms_of(offer)] + offer["history"])[:HISTORY]
            self._with_terms(offer, terms, terms_hash, block)
            return key
        elif name == "OfferWithdrawn":
            self.offers[key]["state"] = "withdrawn"
            return key
        elif name == "ReservationRequested":
            hours, escrow, buyer_key, terms_hash, order_ref = decode_tuple(
                data, 0, ("uint", "uint", "bytes32", "bytes32", "bytes32"))
            offer_id = int(topics[2], 16)
            self.reservations[key] = dict(
                id=key, offer_id=offer_id, buyer=_address(topics[3]), hours=hours, escrow=escrow,
                state="requested", buyer_key=buyer_key.hex(), terms_hash="0x" + terms_hash.hex(),
                order_ref="0x" + order_ref.hex(), access_endpoint="", host_key_fingerprint="", block=block)
            self.offers[offer_id].update(state="reserved", active_reservation=key)
            return offer_id
        elif name == "ReservationAccepted":
            endpoint, fingerprint = decode_tuple(data, 0, ("string", "bytes32"))
            self.reservations[key].update(state="accepted", access_endpoint=endpoint,
                                          host_key_fingerprint=fingerprint.hex())
        elif name in _ENDINGS:
            reservation = self.reservations[key]
            reservation["state"] = _ENDINGS[name]
            if name in ("ReservationReleased", "ReservationSettled"):
                reservation["to_seller"] = decode_tuple(data, 0, ("uint",))[0]
            elif name == "ReservationRejected":
                reservation["reject_reason"] = decode_tuple(data, 0, ("string",))[0]
            offer = self.offers[reservation["offer_id"]]
            if offer["active_reservation"] == key:
                offer.update(state="open" if offer["state"] == "reserved" else offer["state"], active_reservation=0)
            return offer["id"]
        return None

    @staticmethod
    def _with_terms(offer, terms, terms_hash, block):
        offer.update(zip(SPEC_FIELDS, terms))
        offer["devices"] = parse_devices(offer["devices"])
        offer["terms_hash"] = "0x" + terms_hash.hex()
        offer["terms_block"] = block
        return offer

    # ---------------------------------------------------------------------------- views

    def offer(self, offer_id):
        """A copy of one offer (the dict shape of reb_offer_info), or None."""
        offer = self.offers.get(offer_id)
        return public_offer(offer, self.providers) if offer else None

    def offer_list(self):
        return [public_offer(o, self.providers) for o in self.offers.values()]

    def select(self, wanted):
        """Copies of the offers for which wanted(offer) is true (filtering before copying: 100k offers)."""
        return [public_offer(o, self.providers) for o in self.offers.values() if wanted(o)]

    def changes_since(self, offer_id, terms_hash):
        """{field: (as seen with terms_hash, now)} of an offer whose terms changed, or None if unknown."""
        offer = self.offers[offer_id]
        for seen in offer["history"]:
            if seen["terms_hash"] == terms_hash:
                now = _terms_of(offer)
                return dict((k, (seen[k], now[k])) for k in SPEC_FIELDS if seen[k] != now[k])
        return None


_ENDINGS = {"ReservationRejected": "rejected", "ReservationCancelled": "cancelled", "ReservationExpired": "expired",
            "ReservationReleased": "released", "ReservationSettled": "settled"}


_CHECKSUMS = {}


def _address(topic):
    """Checksummed address from an indexed topic, memoised (a market has many offers but few sellers)."""
    raw = topic[-40:]
    if raw not in _CHECKSUMS:
        from eth_utils import to_checksum_address
        _CHECKSUMS[raw] = to_checksum_address("0x" + raw)
    return _CHECKSUMS[raw]


def _terms_of(offer):
    terms = dict((k, offer[k]) for k in SPEC_FIELDS)
    terms["terms_hash"] = offer["terms_hash"]
    return terms


def public_offer(offer, providers):
    """An offer without the index's bookkeeping, with its seller's registered name."""
    view = dict((k, v) for k, v in offer.items() if k not in ("history", "terms_block"))
    view["devices"] = [dict(d) for d in offer["devices"]]
    view["seller_name"] = providers.get(offer["seller"], "")
    return view
