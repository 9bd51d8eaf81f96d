"""Providers and offers: register, publish, update, withdraw; their access rules and validation."""
import pytest

from tests.contract.helpers import FAR, OfferState, spec, spec_dict


def _fields_of(offer):
    """The OfferSpec part of a stored offer (nodeId included)."""
    return {k: offer[k] for k in spec_dict(spec())}


def test_register_provider_and_rename(chain):
    f = chain.reb.functions
    assert tuple(f.providerOf(chain.seller).call()) == ("", False)
    rc = chain.tx(f.registerProvider("Provider B (KETI)"), chain.seller)
    assert chain.events(rc) == [("ProviderRegistered", {"provider": chain.seller, "name": "Provider B (KETI)"})]
    assert tuple(f.providerOf(chain.seller).call()) == ("Provider B (KETI)", True)
    rc = chain.tx(f.registerProvider("Provider B"), chain.seller)
    assert chain.events(rc) == [("ProviderRegistered", {"provider": chain.seller, "name": "Provider B"})]
    assert tuple(f.providerOf(chain.seller).call()) == ("Provider B", True)
    chain.expect(f.registerProvider(""), chain.seller, "EmptyName")
    assert tuple(f.providerOf(chain.seller).call()) == ("Provider B", True)


def test_publish_offer(chain):
    f = chain.reb.functions
    chain.register(chain.seller)
    s = spec(nodeId="seoul-keti", availableFrom=5, availableUntil=10 ** 11, minHours=2, maxHours=48)
    rc = chain.tx(f.publishOffer(s), chain.seller)
    assert chain.events(rc) == [("OfferPublished", {"offerId": 1, "seller": chain.seller, "nodeId": "seoul-keti"})]
    o = chain.offer(1)
    assert _fields_of(o) == spec_dict(s)
    assert o["seller"] == chain.seller
    assert o["state"] == OfferState.OPEN
    assert o["activeReservation"] == 0
    assert f.offerCount().call() == 1
    assert f.offerIdOf(chain.seller, "seoul-keti").call() == 1
    assert f.offerIdOf(chain.seller2, "seoul-keti").call() == 0
    # the second offer gets id 2
    rc = chain.tx(f.publishOffer(spec(nodeId="seoul")), chain.seller)
    assert chain.events(rc) == [("OfferPublished", {"offerId": 2, "seller": chain.seller, "nodeId": "seoul"})]
    assert f.offerCount().call() == 2


def test_publish_requires_registration(chain):
    chain.expect(chain.reb.functions.publishOffer(spec()), chain.stranger, "NotRegistered", chain.stranger)
    assert chain.reb.functions.offerCount().call() == 0


INVALID = [
    ("nodeId", dict(nodeId="")),
    ("region", dict(region="")),
    ("cpuMillicores", dict(cpuMillicores=0)),
    ("memoryMiB", dict(memoryMiB=0)),
    ("pricePerHour", dict(pricePerHour=0)),
    ("hours", dict(minHours=0)),
    ("hours", dict(minHours=5, maxHours=4)),
    ("availability", dict(availableFrom=100, availableUntil=100)),
    ("availability", dict(availableFrom=101, availableUntil=100)),
]


@pytest.mark.parametrize("field,over", INVALID, ids=["%s-%d" % (f, i) for i, (f, _) in enumerate(INVALID)])
def test_invalid_offer_fields(chain, field, over):
    f = chain.reb.functions
    oid, _ = chain.publish(nodeId="valid")
    chain.expect(f.publishOffer(spec(**over)), chain.seller, "InvalidOffer", field)
    # updates are validated the same way (nodeId "" is reported as invalid before immutability)
    upd = dict(over)
    if field != "nodeId":
        upd["nodeId"] = "valid"
    chain.expect(f.updateOffer(oid, spec(**upd)), chain.seller, "InvalidOffer", field)
    assert f.offerCount().call() == 1
    assert _fields_of(chain.offer(oid)) == spec_dict(spec(nodeId="valid"))


def test_boundary_offers_are_valid(chain):
    """The smallest valid values: minHours == maxHours, until == from + 1, empty optional strings."""
    oid, _ = chain.publish(nodeId="n", region="R", cpuMillicores=1, memoryMiB=1, storageGiB=0,
                           pricePerHour=1, minHours=1, maxHours=1, availableFrom=0, availableUntil=1,
                           location="", architecture="", devices="", tier=0)
    assert chain.offer(oid)["state"] == OfferState.OPEN
    oid, _ = chain.publish(nodeId="max", pricePerHour=2 ** 96 - 1, minHours=2 ** 16 - 1,
                           maxHours=2 ** 16 - 1, availableUntil=FAR, cpuMillicores=2 ** 32 - 1)
    assert chain.offer(oid)["pricePerHour"] == 2 ** 96 - 1


def test_node_id_taken(chain):
    f = chain.reb.functions
    chain.publish(nodeId="seoul-keti")
    chain.expect(f.publishOffer(spec(nodeId="seoul-keti")), chain.seller, "NodeIdTaken", "seoul-keti", 1)
    # another node of the same seller, and the same node id of another seller, are fine
    oid2, _ = chain.publish(nodeId="seoul")
    oid3, _ = chain.publish(who=chain.seller2, nodeId="seoul-keti")
    assert (oid2, oid3) == (2, 3)
    assert f.offerIdOf(chain.seller2, "seoul-keti").call() == 3
    assert f.offerIdOf(chain.seller, "seoul-keti").call() == 1


def test_node_id_taken_while_reserved_and_free_after_withdraw(chain):
    f = chain.reb.functions
    oid, _ = chain.publish(nodeId="seoul-keti")
    rid, _ = chain.reserve(oid)
    chain.expect(f.publishOffer(spec(nodeId="seoul-keti")), chain.seller, "NodeIdTaken", "seoul-keti", oid)
    chain.tx(f.reject(rid, "no"), chain.seller)
    chain.tx(f.withdrawOffer(oid), chain.seller)
    assert f.offerIdOf(chain.seller, "seoul-keti").call() == 0
    # reuse after withdraw: a new offer id, the old offer stays withdrawn
    new, rc = chain.publish(nodeId="seoul-keti", pricePerHour=5)
    assert new == oid + 1
    assert chain.events(rc) == [("OfferPublished", {"offerId": new, "seller": chain.seller, "nodeId": "seoul-keti"})]
    assert f.offerIdOf(chain.seller, "seoul-keti").call() == new
    assert chain.offer(oid)["state"] == OfferState.WITHDRAWN
    assert chain.offer(new)["state"] == OfferState.OPEN
    chain.expect(f.publishOffer(spec(nodeId="seoul-keti")), chain.seller, "NodeIdTaken", "seoul-keti", new)


def test_update_offer(chain):
    f = chain.reb.functions
    oid, _ = chain.publish(nodeId="seoul-keti")
    s = spec(nodeId="seoul-keti", region="SEOUL-2", tier=2, location="1,2", cpuMillicores=4000,
             memoryMiB=4096, storageGiB=20, architecture="arm64", devices="camkor1:camera,mic1:audio",
             pricePerHour=123, minHours=3, maxHours=6, availableFrom=7, availableUntil=10 ** 12)
    rc = chain.tx(f.updateOffer(oid, s), chain.seller)
    assert chain.events(rc) == [("OfferUpdated", {"offerId": oid})]
    o = chain.offer(oid)
    assert _fields_of(o) == spec_dict(s)
    assert (o["seller"], o["state"], o["activeReservation"]) == (chain.seller, OfferState.OPEN, 0)
    assert f.offerIdOf(chain.seller, "seoul-keti").call() == oid
    assert f.offerCount().call() == 1


def test_update_node_id_immutable(chain):
    f = chain.reb.functions
    oid, _ = chain.publish(nodeId="seoul-keti")
    chain.expect(f.updateOffer(oid, spec(nodeId="other")), chain.seller, "NodeIdImmutable", oid)
    assert chain.offer(oid)["nodeId"] == "seoul-keti"
    assert f.offerIdOf(chain.seller, "other").call() == 0


def test_update_and_withdraw_access_rules(chain):
    f = chain.reb.functions
    oid, _ = chain.publish()
    chain.register(chain.seller2)
    for who in (chain.stranger, chain.seller2, chain.buyer, chain.deployer):
        chain.expect(f.updateOffer(oid, spec()), who, "NotSeller", oid, who)
        chain.expect(f.withdrawOffer(oid), who, "NotSeller", oid, who)
    # access is checked before validation
    chain.expect(f.updateOffer(oid, spec(region="")), chain.stranger, "NotSeller", oid, chain.stranger)
    for bad in (0, 2, 2 ** 256 - 1):
        chain.expect(f.updateOffer(bad, spec()), chain.seller, "OfferNotFound", bad)
        chain.expect(f.withdrawOffer(bad), chain.seller, "OfferNotFound", bad)
    # not while reserved
    rid, _ = chain.reserve(oid)
    chain.expect(f.updateOffer(oid, spec()), chain.seller, "OfferNotOpen", oid, OfferState.RESERVED)
    chain.accept(rid)  # (a waiting request does not block a withdrawal: test_withdraw_while_requested)
    chain.expect(f.updateOffer(oid, spec()), chain.seller, "OfferNotOpen", oid, OfferState.RESERVED)
    chain.expect(f.withdrawOffer(oid), chain.seller, "OfferNotOpen", oid, OfferState.RESERVED)
    chain.tx(f.release(rid), chain.buyer)
    # open again: the seller may withdraw; afterwards nothing more
    rc = chain.tx(f.withdrawOffer(oid), chain.seller)
    assert chain.events(rc) == [("OfferWithdrawn", {"offerId": oid})]
    chain.expect(f.updateOffer(oid, spec()), chain.seller, "OfferNotOpen", oid, OfferState.WITHDRAWN)
    chain.expect(f.withdrawOffer(oid), chain.seller, "OfferNotOpen", oid, OfferState.WITHDRAWN)


def test_withdraw_offer(chain):
    f = chain.reb.functions
    oid, _ = chain.publish(nodeId="seoul-keti")
    rc = chain.tx(f.withdrawOffer(oid), chain.seller)
    assert chain.events(rc) == [("OfferWithdrawn", {"offerId": oid})]
    o = chain.offer(oid)
    assert o["state"] == OfferState.WITHDRAWN
    assert o["nodeId"] == "seoul-keti"
    assert f.offerIdOf(chain.seller, "seoul-keti").call() == 0
    chain.expect(chain.reserve_fn(oid, 2, b"\x01" * 32), chain.buyer, "OfferNotOpen", oid, OfferState.WITHDRAWN,
                 value=o["pricePerHour"] * 2)
    assert chain.balance(chain.reb.address) == 0
