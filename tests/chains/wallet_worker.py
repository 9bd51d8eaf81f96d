"""One of the processes that share a wallet in test_concurrency: publishes N offers, prints their tx hashes.

Usage: python -m tests.chains.wallet_worker RPC_URL REB PREFIX N GO_FILE   (key in DECENTER_REB_PRIVATE_KEY)
It builds its client first, then waits for GO_FILE, so that both processes send at the same moment.
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

from ansible_collections.decenter.fog.plugins.module_utils.reb_client import RebClient  # noqa: E402
from tests.chains.conftest import offer_spec  # noqa: E402
from tests.support.chain import CHAIN_ID  # noqa: E402


def main(url, reb, prefix, count, go_file):
    client = RebClient(dict(rpc_url=url, chain_id=CHAIN_ID, contract_address=reb, confirmations=0, timeout=60.0,
                            private_key=os.environ["DECENTER_REB_PRIVATE_KEY"]), need_key=True)
    for _ in range(600):  # bounded: the test creates the file once both workers are started
        if os.path.exists(go_file):
            break
        time.sleep(0.05)
    hashes = []
    for i in range(int(count)):
        receipt = client.transact("publishOffer", offer_spec("%s-%02d" % (prefix, i)))
        hashes.append("0x" + bytes(receipt["transactionHash"]).hex())
    print(json.dumps(hashes))


if __name__ == "__main__":
    main(*sys.argv[1:])
