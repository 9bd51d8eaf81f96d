"""Revert data is found in every shape the common nodes and web3 hand it over (reb_revert)."""
import pytest
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from ansible_collections.decenter.fog.plugins.module_utils.reb_revert import node_message, revert_data

DATA = keccak(text="ReservationNotFound(uint256)")[:4] + (999).to_bytes(32, "big")
HEX = "0x" + DATA.hex()
TX_HASH = "0x" + "ab" * 32


@pytest.mark.parametrize("shape, error", [
    ("anvil/Hardhat 3: web3 ContractCustomError", ContractCustomError(HEX, data=HEX)),
    ("geth/Besu: data string", ContractLogicError("execution reverted", data=HEX)),
    ("geth behind a proxy: data dict", ContractLogicError("execution reverted", data={"data": HEX})),
    ("ganache: result beside hash and programCounter",
     ContractLogicError("execution reverted: VM Exception while processing transaction: revert",
                        data={"hash": TX_HASH, "programCounter": 77, "result": HEX, "reason": None,
                              "message": "revert"})),
    ("Hardhat 2: originalError", Web3RPCError("Error: reverted", rpc_response={
        "error": {"code": -32603, "message": "Error: reverted", "data": {"message": "x", "originalError": {
            "data": HEX, "message": "reverted"}}}})),
    ("plain JSON-RPC error answer", Web3RPCError("execution reverted", rpc_response={
        "jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "execution reverted", "data": HEX}})),
    ("Nethermind: in the message", Web3RPCError("VM execution error.: Reverted %s" % HEX)),
    ("eth-tester: bytes argument", Exception(DATA)),
    ("a bare dict", {"result": HEX}),
])
def test_revert_data_is_found_in_each_shape(shape, error):
    assert revert_data(error) == DATA, shape


@pytest.mark.parametrize("error", [
    ContractLogicError("execution reverted: VM Exception while processing transaction: invalid opcode",
                       data={"hash": TX_HASH, "programCounter": 4, "result": "0x", "reason": None}),
    Web3RPCError("nonce too low: tx hash %s" % TX_HASH),
    ValueError("0xzz is not hex"),
    Exception(),
])
def test_no_revert_data_is_invented(error):
    # a transaction hash, an empty result or text that is not hex never passes for revert data
    assert revert_data(error) == b""


@pytest.mark.parametrize("error, said", [
    (Web3RPCError("{'message': 'VM Exception while processing transaction: invalid opcode', 'stack': 'CallError'}",
                  rpc_response={"error": {"message": "VM Exception while processing transaction: invalid opcode\n"
                                                     "    at Blockchain.simulateTransaction", "code": -32000}}),
     "VM Exception while processing transaction: invalid opcode"),
    (ValueError({"code": -32000, "message": "nonce too low"}), "nonce too low"),
    (ConnectionError("Connection refused\nmore"), "Connection refused"),
    (TimeoutError(), "TimeoutError"),
])
def test_node_message_is_the_first_line_of_what_the_node_said(error, said):
    # ganache's answers carry a stack trace of its own source files: a user sees the message only
    assert node_message(error) == said
