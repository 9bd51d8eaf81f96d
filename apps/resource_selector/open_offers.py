"""The open offers of the market, kept sorted and counted as the market index changes.

After a new block the market index says which offers changed; only those are moved in the sorted
lists (bisect), so serving the first page of 100,000 offers after a block costs milliseconds, not a
re-read and re-sort of the whole market.
"""
import bisect
import collections

SORT_KEYS = {
    "price": lambda o: o["price_per_hour"], "cpu": lambda o: o["cpu_millicores"],
    "memory": lambda o: o["memory_mib"], "storage": lambda o: o["storage_gib"],
    "region": lambda o: o["region"], "tier": lambda o: o["tier"], "id": lambda o: o["id"],
}


class OpenOffers:
    def __init__(self):
        self.synced = (None, None)   # (generation, rebuilds) of the index last followed
        self.offers = {}             # id -> the index's record (shared, read only)
        self._keys = {}              # id -> {(sort, order): entry} as inserted, to find it again
        self._lists = {}             # (sort, order) -> sorted entries
        self._regions = collections.Counter()
        self._kinds = collections.Counter()

    def sync(self, index):
        """Follow the index: re-read everything after a rebuild, else move only the changed offers."""
        changed = None if self.synced[0] is None else index.changes_after(*self.synced)
        if changed is None:
            self.__init__()
            changed = index.offers.keys()
        for offer_id in list(changed):
            self._remove(offer_id)
            offer = index.offers.get(offer_id)
            if offer is not None and offer["state"] == "open":
                self._add(offer)
        self.synced = (index.generation, index.rebuilds)

    def facets(self):
        return {"regions": sorted(r for r, n in self._regions.items() if n),
                "device_kinds": sorted(k for k, n in self._kinds.items() if n)}

    def ordered(self, sort, order):
        """Open offers by `sort` (ties by id, ascending), as a lazy sequence of records."""
        entries = self._list(sort, order)
        ids = (e[-1] for e in entries) if order == "asc" else (-e[-1] for e in reversed(entries))
        return (self.offers[i] for i in ids)

    def count(self):
        return len(self.offers)

    # ---------------------------------------------------------------------- internals

    def _entry(self, offer, sort, order):
        return (SORT_KEYS[sort](offer), offer["id"] if order == "asc" else -offer["id"])

    def _list(self, sort, order):
        key = (sort, order)
        if key not in self._lists:
            self._lists[key] = sorted(self._entry(o, sort, order) for o in self.offers.values())
            for offer_id, offer in self.offers.items():
                self._keys[offer_id][key] = self._entry(offer, sort, order)
        return self._lists[key]

    def _add(self, offer):
        offer_id = offer["id"]
        self.offers[offer_id] = offer
        keys = self._keys[offer_id] = {}
        for key, entries in self._lists.items():
            keys[key] = self._entry(offer, *key)
            bisect.insort(entries, keys[key])
        kinds = set(d["kind"] for d in offer["devices"])
        keys["facets"] = (offer["region"], kinds)
        self._regions[offer["region"]] += 1
        self._kinds.update(kinds)

    def _remove(self, offer_id):
        if self.offers.pop(offer_id, None) is None:
            return
        keys = self._keys.pop(offer_id)
        for key, entries in self._lists.items():
            at = bisect.bisect_left(entries, keys[key])
            del entries[at]
        region, kinds = keys["facets"]
        self._regions[region] -= 1
        self._kinds.subtract(kinds)
