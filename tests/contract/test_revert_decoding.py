"""The one revert helper understands every shape a revert reaches us in (no chain needed)."""
import pytest
from eth_abi import encode
from eth_tester.exceptions import TransactionFailed
from eth_utils import function_signature_to_4byte_selector
from web3.exceptions import ContractCustomError, ContractLogicError

from tests.contract.helpers import decode_error, error_table, revert_data
from tests.support.chain import artifact

TABLE = error_table(artifact()["abi"])
ADDR = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
# NodeIdTaken(string,uint256) is the nasty one: web3's eth-tester glue decodes it as Error(string)
RAW = function_signature_to_4byte_selector("NodeIdTaken(string,uint256)") + encode(["string", "uint256"], ["n1", 7])


class _EVMRevert(Exception):
    pass


SHAPES = {
    "anvil ContractCustomError": ContractCustomError("0x" + RAW.hex(), data="0x" + RAW.hex()),
    "ContractLogicError dict data": ContractLogicError("execution reverted", data={"data": "0x" + RAW.hex()}),
    "eth-tester bytes": TransactionFailed(RAW),
    "eth-tester wrapped EVM error": TransactionFailed(_EVMRevert(RAW)),
    "eth-tester repr in message": TransactionFailed("execution reverted: %r" % (RAW,)),
    "hex in message": TransactionFailed("execution reverted: 0x" + RAW.hex()),
}


@pytest.mark.parametrize("exc", SHAPES.values(), ids=SHAPES.keys())
def test_revert_shapes(exc):
    assert decode_error(revert_data(exc), TABLE) == ("NodeIdTaken", ("n1", 7))


def test_decode_arguments_and_unknowns():
    data = function_signature_to_4byte_selector("NotBuyer(uint256,address)") + encode(["uint256", "address"], [3, ADDR])
    assert decode_error(data, TABLE) == ("NotBuyer", (3, ADDR))
    data = function_signature_to_4byte_selector("OfferNotOpen(uint256,uint8)") + encode(["uint256", "uint8"], [1, 2])
    assert decode_error(data, TABLE) == ("OfferNotOpen", (1, 2))
    assert decode_error(b"", TABLE)[0] == "<empty revert>"
    assert decode_error(b"\xde\xad\xbe\xef", TABLE)[0].startswith("<unknown")
    # every custom error of the ABI is in the table
    names = {i["name"] for i in artifact()["abi"] if i["type"] == "error"}
    assert {n for n, _ in TABLE.values()} == names and len(names) == 29
