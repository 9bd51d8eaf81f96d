"""The market and the buyer's reservations, read through the shared REB client and its market index.

The market index (module_utils/reb_index) follows the REB's events: after a new block only that
block's logs are read (a few JSON-RPC calls whatever the market's size). The open offers are then
kept in memory per block; pages, sorting and filters are served without the chain.
"""
import itertools
import threading
import time
from decimal import Decimal

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client
from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import rental_account
from ansible_collections.decenter.fog.plugins.module_utils.reb_index import public_offer
from ansible_collections.decenter.fog.plugins.module_utils.reb_market import matcher, offer_matches

from .open_offers import SORT_KEYS, OpenOffers

MAX_PER_PAGE = 200
WEI_PER_ETH = Decimal(10) ** 18
ENDED = ("rejected", "cancelled", "expired", "released", "settled")


class BadInput(ValueError):
    """A request parameter the API refuses; the message names it and says what is allowed."""


class NotFound(LookupError):
    pass


def eth(wei):
    """'0.001 ETH' from wei, exact."""
    text = format(Decimal(int(wei)) / WEI_PER_ETH, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "%s ETH" % text


def whole(params, name, minimum=0, maximum=None, default=None, unit="a whole number"):
    """A whole-number query parameter within [minimum, maximum], or a BadInput naming it."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    text = str(raw).strip()
    if not text.isdigit() or int(text) < minimum or (maximum is not None and int(text) > maximum):
        bounds = "%d or more" % minimum if maximum is None else "from %d to %d" % (minimum, maximum)
        raise BadInput("%s=%r is not valid: give %s %s." % (name, str(raw)[:40], unit, bounds))
    return int(text)


def parse_query(params):
    """Filters, sort and page of GET /api/offers from its query parameters."""
    sort = params.get("sort") or "price"
    if sort not in SORT_KEYS:
        raise BadInput("sort=%r is not valid: sort by one of %s." % (sort[:40], ", ".join(SORT_KEYS)))
    order = params.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise BadInput("order=%r is not valid: use asc or desc." % order[:40])
    filters = {
        "region": (params.get("region") or "").strip() or None,
        "device": (params.get("device") or "").strip() or None,
        "device_kind": (params.get("device_kind") or "").strip() or None,
        "min_cpu_millicores": whole(params, "min_cpu", unit="millicores,"),
        "min_memory_mib": whole(params, "min_memory", unit="MiB,"),
        "max_price_per_hour": whole(params, "max_price", unit="wei per hour,"),
        "sellers": sellers(params.get("sellers")),
        "state": "open",
    }
    return dict(filters=filters, sort=sort, order=order, page=whole(params, "page", 1, default=1),
                per_page=whole(params, "per_page", 1, MAX_PER_PAGE, default=25))


def sellers(text):
    """Trusted seller addresses from a comma separated query parameter, or None."""
    items = [s.strip() for s in (text or "").split(",") if s.strip()]
    for item in items:
        if len(item) != 42 or not item.startswith("0x") or any(c not in "0123456789abcdefABCDEF" for c in item[2:]):
            raise BadInput("sellers=%r is not valid: give seller addresses (0x and 40 hex digits), comma separated."
                           % item[:60])
    return items or None


class Market:
    def __init__(self, chain_params, buyer):
        self.params = chain_params
        self.buyer = buyer
        self._lock = threading.Lock()
        self._block = None
        self._index = None
        self._open = OpenOffers()
        self._now = 0

    def client(self):
        return get_client(self.params)

    def refresh(self):
        """Open offers as of the latest block (the index reads only the blocks mined since the last call, the
        sorted lists move only the offers that changed). The records are the index's, shared read-only:
        copies are made for the page only."""
        with self._lock:
            index = self._index = self.client().market()
            self._open.sync(index)
            self._block = index.block
            self._now = max(index.block_time, int(time.time()))
            return self._open

    def offer(self, offer_id):
        self.refresh()
        offer = self._index.offer(offer_id)
        if offer is None:
            raise NotFound("offer %d does not exist on this REB (%d offers); pick one from the market."
                           % (offer_id, len(self._index.offers)))
        return offer

    def query(self, q, unmet=()):
        open_offers = self.refresh()
        with self._lock:
            ordered = open_offers.ordered(q["sort"], q["order"])
            filters = dict((k, v) for k, v in q["filters"].items() if v not in (None, "", []) and k != "state")
            if filters:  # one pass over the sorted offers with a predicate of the set filters only
                wanted = matcher(dict(filters, state="open"))
                hits = [o for o in ordered if wanted(o)]
                total = len(hits)
            else:  # the whole open market: its size is known, only the page is read
                hits, total = None, open_offers.count()
            pages = max(1, -(-total // q["per_page"]))
            page = min(q["page"], pages)
            first = (page - 1) * q["per_page"]
            chosen = hits[first:first + q["per_page"]] if hits is not None else \
                list(itertools.islice(ordered, first, first + q["per_page"]))
            rows = [self.offer_view(o, unmet) for o in chosen]
            return dict(total=total, page=page, pages=pages, per_page=q["per_page"], sort=q["sort"],
                        order=q["order"], offers=rows, facets=open_offers.facets(), block=self._block)

    def offer_view(self, offer, unmet=()):
        """An offer for the page: prices as decimal strings (wei exceed JS numbers), display strings, and the
        microservices whose unmet requirement it meets."""
        view = public_offer(offer, self._index.providers) if "history" in offer else dict(offer)
        view["price_per_hour"] = str(offer["price_per_hour"])
        view["price_eth"] = eth(offer["price_per_hour"])
        view["meets"] = [u["microservice"] for u in unmet if offer_matches(offer, dict(u["offer_filters"],
                                                                                       state="open"))]
        return view

    def matching(self, filters, limit=5):
        """Open offers meeting an unmet requirement's filters, cheapest first."""
        open_offers = self.refresh()
        with self._lock:
            wanted = matcher(dict(filters, state="open"))
            hits = [o["id"] for o in open_offers.ordered("price", "asc") if wanted(o)]
        return len(hits), hits[:limit]

    def reservations(self):
        """The buyer's reservations, newest first, with time left and cost so far."""
        self.refresh()
        client = self.client()
        with self._lock:
            buyer = self.buyer.lower()
            mine = client.reservations([i for i, r in self._index.reservations.items() if r["buyer"].lower() == buyer])
        now = self._now
        rows = []
        for r in sorted(mine, key=lambda r: -r["id"]):
            offer = self._index.offers.get(r["offer_id"], {})
            time_left, cost = rental_account(r, now)
            rows.append(dict(
                id=r["id"], offer_id=r["offer_id"], state=r["state"], hours=r["hours"],
                node_id=offer.get("node_id", ""), region=offer.get("region", ""),
                escrow=str(r["escrow"]), escrow_eth=eth(r["escrow"]),
                ends_at=r["ends_at"], accept_deadline=r["accept_deadline"],
                time_left_s=time_left, cost_so_far=str(cost), cost_so_far_eth=eth(cost),
                access_endpoint=r["access_endpoint"],
                releasable=r["state"] == "accepted"))
        return dict(buyer=self.buyer, now=now, reservations=rows)

    def reservation(self, reservation_id):
        for r in self.reservations()["reservations"]:
            if r["id"] == reservation_id:
                return r
        raise NotFound("reservation %d is not one of buyer %s's reservations; pick one from the list."
                       % (reservation_id, self.buyer))
