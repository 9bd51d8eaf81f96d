"""Seed a REB market with many offers fast: eth_sendTransaction in JSON-RPC batches, one block per batch.

Used by the tests and benches that read big markets, on anvil's DEFAULT gas limit (30M per block):
a publishOffer costs ~141k gas, so a batch of 200 fills ~28M of a block.
"""
import requests

from tests.support.offers import offer_spec

BATCH = 200
GAS_PRICE = 2 * 10 ** 9
REGIONS = ["SEOUL", "SEOUL-KETI", "POVO", "CLOUD", "BUSAN", "TRENTO"]


def seed_spec(i, region, devices, price):
    """Offer i of a seeded market (node-000123)."""
    return offer_spec("node-%06d" % i, region=region, location="37.5,127.0", devices=devices, price=price)


def default_spec(i):
    """Offer i of the seeded market: six regions, 50 camera ids, camkor1 on every 97th offer."""
    devices = "camkor1:camera" if i % 97 == 1 else "cam%d:camera" % (i % 50)
    return seed_spec(i, REGIONS[i % len(REGIONS)], devices, 10 ** 15 + i)


def publish_many(url, w3, reb, n, sellers, spec=default_spec, first=0):
    """Publish offers first..first+n-1 from `sellers` (unlocked anvil accounts, registered here if needed)."""
    for seller in sellers:
        if not reb.functions.providerOf(seller).call()[1]:
            w3.eth.wait_for_transaction_receipt(reb.functions.registerProvider("seller %s" % seller[:8])
                                                .transact({"from": seller}))
    rpc = w3.provider.make_request
    start = reb.functions.offerCount().call()
    rpc("evm_setAutomine", [False])
    try:
        nonces = dict((s, w3.eth.get_transaction_count(s)) for s in sellers)
        batch = []
        for i in range(first, first + n):
            seller = sellers[i % len(sellers)]
            data = reb.encode_abi("publishOffer", [spec(i)])
            batch.append({"jsonrpc": "2.0", "id": i, "method": "eth_sendTransaction",
                          "params": [{"from": seller, "to": reb.address, "data": data, "gas": hex(200000),
                                      "gasPrice": hex(GAS_PRICE), "nonce": hex(nonces[seller])}]})
            nonces[seller] += 1
            if len(batch) == BATCH or i == first + n - 1:
                # full blocks raise the EIP-1559 base fee by ~11% each: 500 of them would price the
                # sellers out, so every seeded block starts again from 1 gwei
                rpc("anvil_setNextBlockBaseFeePerGas", [hex(GAS_PRICE // 2)])
                answers = requests.post(url, json=batch, timeout=120).json()
                failed = [a for a in answers if "result" not in a]
                assert not failed, failed[:3]
                rpc("evm_mine", [])
                batch = []
        for _ in range(n // BATCH + 10):  # bounded: whatever did not fit a block goes into the next ones
            if reb.functions.offerCount().call() == start + n:
                break
            rpc("anvil_setNextBlockBaseFeePerGas", [hex(GAS_PRICE // 2)])
            rpc("evm_mine", [])
    finally:
        rpc("evm_setAutomine", [True])
    published = reb.functions.offerCount().call() - start
    assert published == n, "only %d of %d offers were published" % (published, n)
