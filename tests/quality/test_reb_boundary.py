"""The REB has one API: product code (the collection, the apps) reaches the chain only through RebClient.

Only the client and the two parts it hands its web3 connection to (the transaction sender, the chain probe)
may touch web3's connection or contract objects. Tests and benches set chains up with web3 directly: they are
not product code.
"""
import re

from tests.quality.tools import COLLECTION, ROOT

CLIENT_PARTS = {COLLECTION / "plugins" / "module_utils" / name for name in ("reb_client.py", "reb_tx.py",
                                                                            "reb_chain_check.py")}
PRODUCT = (COLLECTION / "plugins", COLLECTION / "extensions", ROOT / "apps")
# client.w3, a web3 contract object (used or set: x.contract.events, client.contract), client._contract,
# a web3 connection's eth namespace, web3 itself. (args.contract, a command line option, is not one.)
PAST_THE_CLIENT = re.compile(r"\.w3\b|\.contract\s*(\.|=(?!=))|client\.contract\b|\._contract\b|\bw3\.eth\b"
                             r"|^\s*(from|import)\s+web3\b")


def offending_lines(path, text):
    return ["%s:%d: %s" % (path.relative_to(ROOT), number, line.strip())
            for number, line in enumerate(text.splitlines(), 1) if PAST_THE_CLIENT.search(line)]


def test_the_pattern_catches_what_reached_past_the_client():
    caught = ["event = client.contract.events.OfferPublished().process_receipt(receipt)[0]",
              "return self.client.w3.eth.block_number - confirmations",
              "client.contract = client._contract(address)",
              "reader = Reader(client.contract)",
              "from web3 import Web3"]
    allowed = ["client.contract_address", "client.block_number()", "contract_address=args.contract,",
               "decenter.fog.reb_contract:", "# web3 takes seconds to import"]
    assert all(offending_lines(ROOT / "x.py", line) for line in caught)
    assert not [line for line in allowed if offending_lines(ROOT / "x.py", line)]


def test_product_code_reaches_the_chain_only_through_the_reb_client():
    files = sorted(p for top in PRODUCT for p in top.rglob("*.py") if p not in CLIENT_PARTS)
    assert len(files) > 40, "the product code was not found: %s" % [str(p) for p in PRODUCT]
    offending = [line for path in files for line in offending_lines(path, path.read_text())]
    assert not offending, ("product code reaches past RebClient into web3; add a method to RebClient "
                           "(module_utils/reb_client.py) and call it instead:\n" + "\n".join(offending))
