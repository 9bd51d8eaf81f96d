"""The one builder of publishOffer's OfferSpec tuple for the tests and benches.

By default the reference story's SEOUL-KETI edge node with camera camkor1; any field is overridden by its ABI name
(`pricePerHour=...`) or its short name (`price=...`). The tuple is in the ABI's order, read from the compiled REB, so
a field added to the contract is a failing test here, never a silently shifted tuple.
"""
from tests.support.chain import artifact

FOREVER = 2 ** 40 - 1  # the largest uint40: "available forever"
FIELDS = tuple(c["name"] for c in next(
    i for i in artifact()["abi"] if i.get("name") == "publishOffer")["inputs"][0]["components"])
SHORT = dict(node_id="nodeId", cpu="cpuMillicores", memory="memoryMiB", storage="storageGiB", price="pricePerHour",
             min_hours="minHours", max_hours="maxHours", available_from="availableFrom",
             available_until="availableUntil")
DEFAULTS = dict(nodeId="seoul-keti", region="SEOUL-KETI", tier=1, location="37.5665,126.9780", cpuMillicores=2000,
                memoryMiB=2048, storageGiB=10, architecture="amd64", devices="camkor1:camera", pricePerHour=10 ** 15,
                minHours=1, maxHours=720, availableFrom=0, availableUntil=FOREVER)


def offer_spec(node_id=None, **fields):
    """publishOffer's OfferSpec tuple: the defaults above with `fields` (ABI or short names) put over them."""
    spec = dict(DEFAULTS)
    if node_id is not None:
        spec["nodeId"] = node_id
    for name, value in fields.items():
        name = SHORT.get(name, name)
        if name not in spec:
            raise TypeError("offer_spec: %r is not an OfferSpec field (fields: %s; short names: %s)"
                            % (name, ", ".join(FIELDS), ", ".join(SHORT)))
        spec[name] = value
    assert set(spec) == set(FIELDS), "the REB's OfferSpec changed: %s" % sorted(set(spec) ^ set(FIELDS))
    return tuple(spec[f] for f in FIELDS)


def spec_fields(spec):
    """An OfferSpec tuple back as {ABI name: value}."""
    return dict(zip(FIELDS, spec))
