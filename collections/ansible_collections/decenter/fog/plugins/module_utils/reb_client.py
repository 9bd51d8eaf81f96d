# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""The one REB client: connection checks, reads, transactions and revert decoding (web3.py)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
import traceback

from ansible_collections.decenter.fog.plugins.module_utils.reb_artifact import REB_ARTIFACT
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import CHAIN_OPTION_NAMES
from ansible_collections.decenter.fog.plugins.module_utils.reb_codec import (
    offer_state, reservation_dict, decode_struct_array, struct_kinds)
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError, contract_sentence
from ansible_collections.decenter.fog.plugins.module_utils.reb_index import market_index
from ansible_collections.decenter.fog.plugins.module_utils.reb_chain_check import check_chain
from ansible_collections.decenter.fog.plugins.module_utils.reb_revert import node_message, revert_data
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import TxSender

WEB3_IMPORT_ERROR = None
try:
    from eth_abi import decode as abi_decode
    from eth_account import Account
    from eth_utils import keccak, to_checksum_address, is_address
    from web3 import Web3
    from web3.exceptions import ContractLogicError
except ImportError:
    WEB3_IMPORT_ERROR = traceback.format_exc()

# Records per view call: the REB's MAX_PAGE. Its records are fixed-size, so a full page of
# offers by id needs ~3M gas (reservations less), whatever the market's size.
PAGE_SIZE = 300

_CLIENTS = {}


def get_client(params, need_contract=True, need_key=False):
    """A connected client for these chain options, cached per configuration in this process."""
    if WEB3_IMPORT_ERROR:
        raise RebError("the Python library web3 is required on the controller: pip install web3")
    key = tuple(params.get(k) for k in CHAIN_OPTION_NAMES) + (need_contract, need_key)
    if key not in _CLIENTS:
        _CLIENTS[key] = RebClient(params, need_contract=need_contract, need_key=need_key)
    return _CLIENTS[key]


class RebClient(object):
    def __init__(self, params, need_contract=True, need_key=False):
        self.rpc_url = params["rpc_url"]
        self.timeout = params.get("timeout") or 30.0
        self.confirmations = params.get("confirmations") or 0
        self.abi = REB_ARTIFACT["abi"]
        # cache_allowed_requests: eth_chainId is asked once, not before every call (web3 validation).
        self.w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": self.timeout},
                                         cache_allowed_requests=True))
        try:
            self.chain_id = self.w3.eth.chain_id
        except Exception as e:  # any transport failure: refused, DNS, TLS, timeout, not JSON-RPC
            raise RebError("cannot reach the Ethereum JSON-RPC endpoint %s (%s). Check rpc_url "
                           "(or DECENTER_REB_RPC_URL) and that the node is running."
                           % (self.rpc_url, _short(e)))
        wanted = params.get("chain_id")
        if wanted is not None and wanted != self.chain_id:
            raise RebError("the node at %s serves chain id %d but chain_id=%d was asked for: point rpc_url at the "
                           "right network or fix chain_id." % (self.rpc_url, self.chain_id, wanted))
        self.account = self._account(params.get("private_key"), need_key)
        self.contract = None
        self._errors = _error_table(self.abi) if WEB3_IMPORT_ERROR is None else {}
        self._accept_window = None
        self._events = {}
        self.sender = TxSender(self.w3, self.account, self.chain_id, self.rpc_url, self.timeout, self.confirmations,
                               self.explain) if self.account else None
        if need_contract:
            self.contract = self._contract(params.get("contract_address"))

    def check_chain(self):
        """Refuses, in one sentence, a chain that cannot run the REB (free eth_calls, once per endpoint)."""
        return check_chain(self.w3, self.rpc_url, self.chain_id)

    # ------------------------------------------------------------------ setup checks

    def _account(self, private_key, required):
        if not private_key:
            if required:
                raise RebError("no private key: set private_key (from Ansible Vault) or the environment variable "
                               "DECENTER_REB_PRIVATE_KEY to the wallet key of the account that acts.")
            return None
        try:
            return Account.from_key(private_key)
        except Exception:  # the message of eth_account may quote the key: never pass it on
            raise RebError("private_key is not a valid Ethereum private key (32 bytes as 64 hex digits, "
                           "optionally 0x-prefixed). Check the value in Vault or DECENTER_REB_PRIVATE_KEY.")

    def _contract(self, address):
        if not address:
            raise RebError("contract_address is not set: give the REB address (or DECENTER_REB_CONTRACT); "
                           "deploy one with decenter.fog.reb_contract. In check mode (--check) a REB that "
                           "reb_contract would deploy does not exist yet, so the tasks after it cannot run: deploy "
                           "it once without --check (or point contract_address at an existing REB), then check.")
        if not is_address(address):
            raise RebError("contract_address %r is not an Ethereum address (0x followed by 40 hex digits)." % address)
        address = to_checksum_address(address)
        self.check_chain()
        if not self.code_matches(address):
            raise RebError("no Resource Exchange Broker at %s on chain %d (%s): the address holds %s. Check "
                           "contract_address, or deploy with decenter.fog.reb_contract."
                           % (address, self.chain_id, self.rpc_url,
                              "no code" if not self.w3.eth.get_code(address) else "another contract"))
        return self.w3.eth.contract(address=address, abi=self.abi)

    def code_matches(self, address):
        """True if `address` runs exactly our REB runtime code (immutables masked)."""
        code = bytes(self.w3.eth.get_code(to_checksum_address(address)))
        want = bytes.fromhex(REB_ARTIFACT["deployedBytecode"][2:])
        if len(code) != len(want):
            return False
        return _mask_immutables(code) == _mask_immutables(want)

    @property
    def accept_window(self):
        """Seconds a seller has to answer (an immutable of the deployment, read once when needed)."""
        if self._accept_window is None:
            self._accept_window = self.call("acceptWindow")
        return self._accept_window

    @property
    def address(self):
        """Our wallet's address (None without a key)."""
        return self.account.address if self.account else None

    @property
    def contract_address(self):
        """The REB's checksummed address (None for a client opened without one, to deploy)."""
        return self.contract.address if self.contract is not None else None

    # ------------------------------------------------------------------------- reads

    def call(self, fn_name, *args, **kwargs):
        """A view of the REB at the latest block, or at block=<"pending", a number>."""
        try:
            return getattr(self.contract.functions, fn_name)(*args).call(block_identifier=kwargs.get("block"))
        except Exception as e:
            raise RebError(self._read_failure(fn_name, e))

    def _read_failure(self, fn_name, error):
        # ganache answers a revert as a plain RPC error whose data is a dict: look at the data, not the type
        if isinstance(error, ContractLogicError) or revert_data(error):
            return self.explain(error)
        return "reading %s from the REB at %s failed: %s" % (fn_name, self.rpc_url, _short(error))

    def market(self):
        """The shared market index (reb_index), brought up to the latest block."""
        return market_index(self)

    def offers(self):
        """Every offer ever published, as dicts, from the market index (no view call at all)."""
        return self.market().offer_list()

    def reservations(self, ids=None):
        """Reservations (all, or those with these ids, in id order): records read in pages of PAGE_SIZE by
        id, joined with what their events said."""
        index = self.market()
        ids = sorted(index.reservations) if ids is None else sorted(ids)
        kinds = struct_kinds(self.abi, "getReservationsById")
        rows = []
        for first in range(0, len(ids), PAGE_SIZE):
            chunk = ids[first:first + PAGE_SIZE]
            page = decode_struct_array(self.call_raw("getReservationsById", chunk), kinds, _checksum)
            rows.extend(reservation_dict(i, r, index.reservations.get(i, {}), self.accept_window)
                        for i, r in zip(chunk, page))
        return rows

    def offer_states(self, ids):
        """What the contract says now about these offers (numbers, state, terms hash), by id."""
        kinds = struct_kinds(self.abi, "getOffersById")
        states = {}
        ids = sorted(ids)
        for first in range(0, len(ids), PAGE_SIZE):
            chunk = ids[first:first + PAGE_SIZE]
            page = decode_struct_array(self.call_raw("getOffersById", chunk), kinds, _checksum)
            states.update((i, offer_state(i, o)) for i, o in zip(chunk, page))
        return states

    def rpc(self, method, params):
        """A raw JSON-RPC request (no web3 formatting: the market index reads thousands of logs)."""
        try:
            answer = self.w3.provider.make_request(method, params)
        except Exception as e:
            raise RebError("%s at %s failed: %s" % (method, self.rpc_url, _short(e)))
        if "error" in answer:
            error = answer["error"]
            text = error.get("message", error) if isinstance(error, dict) else error
            raise RebError("%s at %s failed: %s" % (method, self.rpc_url, text))
        return answer["result"]

    def call_raw(self, fn_name, *args):
        """eth_call returning the undecoded bytes (for decode_struct_array)."""
        request = {"to": self.contract.address, "data": self.contract.encode_abi(fn_name, args)}
        try:
            return bytes(self.w3.eth.call(request))
        except Exception as e:
            raise RebError(self._read_failure(fn_name, e))

    def offer(self, offer_id):
        """One offer from the market index (its strings are in events), or OfferNotFound's sentence."""
        offer = self.market().offer(offer_id)
        if offer is None:
            raise RebError(contract_sentence("OfferNotFound", offerId=offer_id))
        return offer

    def reservation(self, reservation_id):
        record = self.call("getReservation", reservation_id)  # fails with ReservationNotFound's sentence
        return reservation_dict(reservation_id, record, self.market().reservations.get(reservation_id, {}),
                                self.accept_window)

    def reservation_of_order(self, buyer, order_ref):
        """Id of the reservation `buyer` made with this order reference (bytes32), 0 if none."""
        return self.call("reservationOfOrder", buyer, order_ref)

    def offer_id_of(self, seller, node_id):
        return self.call("offerIdOf", seller, node_id)

    def provider_name(self, account):
        name, registered = self.call("providerOf", account)
        return name if registered else None

    def owed(self, account, block=None):
        """Wei the REB owes `account`; block="pending" counts the transactions not mined yet."""
        return self.call("owed", account, block=block)

    def now(self):
        return self.w3.eth.get_block("latest")["timestamp"]

    def block_number(self):
        """The number of the chain's latest block."""
        return self.w3.eth.block_number

    def block_hash(self, number):
        """0x-prefixed hash of block `number` (which must exist: see block_number)."""
        return "0x" + bytes(self.w3.eth.get_block(number)["hash"]).hex()

    def events(self, first, last, names):
        """The REB's events called `names` in blocks first..last, decoded by web3 (args, event, blockNumber,
        logIndex, blockHash, transactionHash), oldest first: one eth_getLogs call."""
        kinds = self._event_kinds(tuple(names))
        logs = self.w3.eth.get_logs({"address": self.contract.address, "fromBlock": first, "toBlock": last,
                                     "topics": [list(kinds)]})
        return [kinds[_hex(log["topics"][0])].process_log(log)
                for log in sorted(logs, key=lambda entry: (entry["blockNumber"], entry["logIndex"]))]

    def event_args(self, receipt, name):
        """The arguments of the first `name` event in a transaction's receipt (the ids a transaction created)."""
        found = getattr(self.contract.events, name)().process_receipt(receipt)
        if found:
            return dict(found[0]["args"])
        raise RebError("transaction %s emitted no %s event: the REB at %s did not do what was asked."
                       % (tx_hash(receipt), name, self.contract.address))

    def _event_kinds(self, names):
        """topic0 -> web3 event decoder for these event names (built once per set of names)."""
        if names not in self._events:
            self._events[names] = dict((getattr(self.contract.events, n).topic, getattr(self.contract.events, n)())
                                       for n in names)
        return self._events[names]

    def nonce(self, account=None):
        """The next nonce of `account` (ours by default), counting its pending transactions."""
        return self.w3.eth.get_transaction_count(account or self.address, "pending")

    # ----------------------------------------------------------------- transactions

    def transact(self, fn_name, *args, **kwargs):
        """Send one contract transaction signed by our key; returns the receipt.

        Gas estimation runs the call first, so a call that would revert is refused with its
        reason before anything is signed or sent. With check_mode=True that is all that happens
        (the contract's own checks and the funds check run, nothing is sent) and None is returned.
        A rerun after a timeout waits for the earlier transaction of the same call (reb_tx).
        """
        return self.finish(self.submit(fn_name, *args, **kwargs))

    def submit(self, fn_name, *args, **kwargs):
        """transact() without the wait: a handle for finish() (None in check mode), so that several transactions
        go out before any receipt is waited for (reb_tx.TxSender.submit)."""
        data = self.contract.encode_abi(fn_name, args)
        return self._wallet(fn_name).submit(self.contract.address, data, kwargs.get("value", 0), fn_name,
                                            check_mode=kwargs.get("check_mode", False))

    def finish(self, sent, look_first=False, deadline=None):
        """The receipt of a submit()ted transaction (reb_tx.TxSender.finish)."""
        return self.sender.finish(sent, look_first=look_first, deadline=deadline) if sent is not None else None

    def collect(self, check_mode=False):
        """Withdraw what the REB owes us now: (wei owed, the withdraw's receipt or None). Nothing is sent when nothing
        is owed, nor in check mode."""
        amount = self.owed(self.address)
        return amount, (self.transact("withdraw", check_mode=check_mode) if amount else None)

    def transact_and_collect(self, fn_name, *args, **kwargs):
        """transact(), and withdraw in the same block what the REB then owes us (the refund of a release or a cancel,
        a settlement's pay): (receipt, withdrawal receipt or None, wei withdrawn). The withdraw goes out before the
        first is mined, with the next nonce and its gas estimated against the pending state, so it runs right after
        it: one block's wait instead of two. A node that cannot estimate against the pending state gets the
        withdraw once the first is mined. In check mode nothing is sent: (None, None, wei owed already)."""
        check_mode = kwargs.get("check_mode", False)
        sent = self.submit(fn_name, *args, check_mode=check_mode)
        if check_mode:
            return None, None, self.owed(self.address)
        deadline = time.monotonic() + self.timeout  # one timeout for both, as for answers sent together
        withdrawal = None
        try:
            if self.owed(self.address, block="pending"):
                data = self.contract.encode_abi("withdraw", [])
                withdrawal = self.sender.submit(self.contract.address, data, 0, "withdraw", after_pending=True)
        except RebError:
            withdrawal = None  # no pending state here: the withdraw waits for the first transaction below
        receipt = self.finish(sent, deadline=deadline)
        if withdrawal is not None:
            withdrawn = self.finish(withdrawal, look_first=True, deadline=deadline)
        else:
            withdrawn = self.collect()[1]
        return receipt, withdrawn, self.event_args(withdrawn, "Withdrawn")["amount"] if withdrawn else 0

    def deploy(self, accept_window, check_mode=False):
        """Deploy the REB; a rerun after a timeout reports the deployment it waited for, never a second one."""
        self.check_chain()
        factory = self.w3.eth.contract(abi=self.abi, bytecode=REB_ARTIFACT["bytecode"])
        data = factory.constructor(accept_window).data_in_transaction
        return self._send(None, data, 0, "deploy", check_mode, adopt_mined=True)

    def _send(self, to, data, value, what, check_mode=False, adopt_mined=False):
        return self._wallet(what).send(to, data, value, what, check_mode=check_mode, adopt_mined=adopt_mined)

    def _wallet(self, what):
        """The transaction sender of our key; RebError with what to set when there is no key."""
        if self.sender is None:
            raise RebError("%s needs a wallet: set private_key or DECENTER_REB_PRIVATE_KEY." % what)
        return self.sender

    # ------------------------------------------------------------------ revert reasons

    def explain(self, error):
        """A plain sentence for a revert, from the REB's custom error and its arguments."""
        data = revert_data(error)
        entry = self._errors.get(data[:4]) if data else None
        if entry is None:
            return "the REB refused the call: %s" % _short(error)
        name, types, names = entry
        values = abi_decode(types, data[4:]) if types else ()
        args = dict((n, _checksum(v) if t == "address" else "0x" + v.hex() if isinstance(v, bytes) else v)
                    for n, t, v in zip(names, types, values))
        return contract_sentence(name, **args)


def _error_table(abi):
    table = {}
    for item in abi:
        if item.get("type") != "error":
            continue
        types = [i["type"] for i in item["inputs"]]
        selector = keccak(text="%s(%s)" % (item["name"], ",".join(types)))[:4]
        table[selector] = (item["name"], types, [i["name"] for i in item["inputs"]])
    return table


def tx_hash(receipt):
    """0x-prefixed hash of a mined transaction."""
    return "0x" + bytes(receipt["transactionHash"]).hex()


_CHECKSUMS = {}


def _hex(value):
    """A topic or hash as 0x + lowercase hex, whatever web3 handed over (HexBytes or str)."""
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


def _checksum(address):
    """to_checksum_address, memoised: a market has many offers but few sellers (one keccak each)."""
    if address not in _CHECKSUMS:
        _CHECKSUMS[address] = to_checksum_address(address)
    return _CHECKSUMS[address]


def _mask_immutables(code):
    code = bytearray(code)
    for ref in REB_ARTIFACT.get("immutableReferences", []):
        code[ref["start"]:ref["start"] + ref["length"]] = b"\0" * ref["length"]
    return bytes(code)


def _short(error):
    return node_message(error)
