"""The shared market index on a real anvil: built from events, kept on disk with its block cursor, updated
with only the new blocks, rebuilt when the chain under its cursor changed."""
import json
import sys

from tests.contract.test_market_defences import anvil_chain  # noqa: F401 (fixture)
from tests.contract.helpers import spec
from tests.support.chain import ROOT

sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.decenter.fog.plugins.module_utils import reb_client, reb_index  # noqa: E402


def fresh_client(c):
    """A client as a new process has it: nothing in memory, the index only on disk."""
    reb_client._CLIENTS.clear()
    reb_index._OPEN.clear()
    client = reb_client.get_client(dict(rpc_url=c.url, contract_address=c.reb.address, timeout=30.0,
                                        confirmations=0, chain_id=None, private_key=None))
    calls = []
    rpc = client.rpc

    def counting(method, params):
        calls.append((method, params))
        return rpc(method, params)
    client.rpc = counting
    return client, calls


def test_the_index_follows_new_blocks_only_and_survives_the_process(anvil_chain, reb_index_dir):  # noqa: F811
    c = anvil_chain
    for i in range(3):
        c.publish(nodeId="n%d" % i)
    client, calls = fresh_client(c)
    index = client.market()
    assert sorted(o["node_id"] for o in index.offers.values()) == ["n0", "n1", "n2"]
    saved = json.loads(open(index.path).read())
    assert saved["block"] == c.w3.eth.block_number and saved["block_hash"] == "0x" + bytes(
        c.w3.eth.get_block("latest")["hash"]).hex()
    # a new process, no new block: the index is read from disk, no log is asked for
    client, calls = fresh_client(c)
    assert len(client.market().offers) == 3
    assert [m for m, _ in calls] == ["eth_getBlockByNumber"]
    # one new block: only its logs are asked for
    cursor = client.market().block
    c.publish(nodeId="n3")
    rid, _ = c.reserve(4)
    index = client.market()
    ranges = [(int(p[0]["fromBlock"], 16), int(p[0]["toBlock"], 16)) for m, p in calls if m == "eth_getLogs"]
    assert ranges and ranges[0][0] == cursor + 1 and ranges[-1][1] == c.w3.eth.block_number
    assert index.offers[4]["state"] == "reserved" and index.offers[4]["active_reservation"] == rid
    assert index.reservations[rid]["buyer"] == c.buyer


def test_a_changed_chain_under_the_cursor_rebuilds_the_index(anvil_chain, reb_index_dir):  # noqa: F811
    c = anvil_chain
    c.publish(nodeId="kept")
    snap = c.w3.provider.make_request("evm_snapshot", [])["result"]
    c.publish(nodeId="orphaned")
    client, _ = fresh_client(c)
    assert sorted(o["node_id"] for o in client.market().offers.values()) == ["kept", "orphaned"]
    assert c.w3.provider.make_request("evm_revert", [snap])["result"] is True  # the block is gone (a reorg)
    c.tx(c.reb.functions.publishOffer(spec(nodeId="instead")), c.seller)
    c.tx(c.reb.functions.registerProvider("renamed"), c.seller)  # the cursor's height is reached again
    client, _ = fresh_client(c)
    offers = client.market().offers
    assert sorted(o["node_id"] for o in offers.values()) == ["instead", "kept"]
