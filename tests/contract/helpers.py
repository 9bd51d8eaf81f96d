"""Helpers for the REB contract tests: one `Chain` facade over py-evm (eth-tester) and anvil.

Everything time-sensitive goes through `Chain.at(ts)` (the next transaction is mined at exactly
`ts`) and every revert is checked by simulating the call against the *pending* block (so it sees
the same timestamp as the next mined transaction) and, by default, by also mining it and seeing
status 0.
"""
import ast
import enum
import json
import re
import subprocess
from pathlib import Path

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3.exceptions import ContractLogicError

from eth_tester.exceptions import TransactionFailed

from tests.support.chain import ROOT, artifact, deploy_reb
from tests.support.offers import FIELDS, offer_spec, spec_fields

WINDOW = 3600  # accept window used by the tests' deployments (seconds)
HOUR = 3600
GAS = 3_000_000  # explicit gas: no estimation (anvil estimates against the latest block's time)
FAR = 2 ** 40 - 1  # largest uint40: "available forever"


class OfferState(enum.IntEnum):
    NONE = 0
    OPEN = 1
    RESERVED = 2
    WITHDRAWN = 3


class ResState(enum.IntEnum):
    NONE = 0
    REQUESTED = 1
    ACCEPTED = 2
    REJECTED = 3
    CANCELLED = 4
    EXPIRED = 5
    RELEASED = 6
    SETTLED = 7


LIVE = (ResState.REQUESTED, ResState.ACCEPTED)


# ---------------------------------------------------------------------------- ABI helpers

def _abi_type(inp):
    t = inp["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in inp["components"]) + ")" + t[len("tuple"):]
    return t


def error_table(*abis):
    """selector -> (name, [types]) for every custom error in the given ABIs."""
    table = {}
    for abi in abis:
        for item in abi:
            if item["type"] != "error":
                continue
            types = [_abi_type(i) for i in item["inputs"]]
            sig = "%s(%s)" % (item["name"], ",".join(types))
            table[function_signature_to_4byte_selector(sig)] = (item["name"], types)
    return table


def _norm(value, typ):
    if typ == "address":
        return to_checksum_address(value)
    return value


def decode_error(data, table):
    """(name, args) of revert data, using the custom errors of the ABIs in `table`."""
    if len(data) < 4:
        return ("<empty revert>", (data,))
    sel = bytes(data[:4])
    if sel not in table:
        return ("<unknown %s>" % sel.hex(), (bytes(data),))
    name, types = table[sel]
    args = abi_decode(types, bytes(data[4:]))
    return name, tuple(_norm(a, t) for a, t in zip(args, types))


_BYTES_LITERAL = re.compile(r"""(b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")""")


def revert_data(exc):
    """Raw revert bytes from a web3 ContractLogicError (anvil, or web3's own decoding) or an
    eth_tester TransactionFailed (py-evm), which carries them as bytes, a wrapped EVM exception
    or the repr of the bytes inside its message."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, (bytes, bytearray)):
            return bytes(arg)
        if isinstance(arg, BaseException):
            found = revert_data(arg)
            if found is not None:
                return found
        if isinstance(arg, str):
            m = _BYTES_LITERAL.search(arg)
            if m:
                return ast.literal_eval(m.group(1))
            m = re.search(r"0x[0-9a-fA-F]{8,}", arg)
            if m:
                return bytes.fromhex(m.group(0)[2:])
    return None


REVERTS = (ContractLogicError, TransactionFailed)


# ------------------------------------------------------------------------------ offers

SPEC_FIELDS = list(FIELDS)
# The contract tests' offer: an odd price (rounding shows) and a 24 h maximum (limits show).
CONTRACT_OFFER = dict(region="SEOUL", pricePerHour=10 ** 15 + 7, maxHours=24)


def spec(**over):
    """An OfferSpec tuple (ABI order); keyword arguments (ABI names) override the defaults."""
    return offer_spec(**dict(CONTRACT_OFFER, **over))


def spec_dict(t):
    return spec_fields(t)


SPEC_TYPE = "(string,string,uint8,string,uint32,uint32,uint32,string,string,uint96,uint16,uint16,uint40,uint40)"


def terms_hash(spec_tuple):
    """keccak256(abi.encode(spec)), as the REB stores it for an offer (bytes32)."""
    return keccak(abi_encode([SPEC_TYPE], [tuple(spec_tuple)]))


STRING_FIELDS = ("nodeId", "region", "location", "architecture", "devices")
V2_EVENT_ARGS = ("terms", "termsHash", "buyerKey", "orderRef")

KEY = bytes.fromhex("11" * 32)   # a buyer's Ed25519 public key (any non-zero 32 bytes)
FP = bytes.fromhex("22" * 32)    # SHA-256 host-key fingerprint
ENDPOINT = "203.0.113.20:22"
ZERO32 = b"\x00" * 32


# ------------------------------------------------------------------------------- chain

class Chain:
    """A REB deployment on py-evm or anvil, with actors and time control.

    Actors (all funded, unlocked): deployer, seller, buyer, stranger, seller2, buyer2.
    """

    def __init__(self, kind, w3):
        self.kind = kind
        self.w3 = w3
        accts = w3.eth.accounts
        self.accounts = list(accts)
        (self.deployer, self.seller, self.buyer, self.stranger,
         self.seller2, self.buyer2) = accts[:6]
        self.art = artifact()
        self.errors = error_table(self.art["abi"])
        self.reb = None
        # What the REB v2 keeps in events only, as the receipts of self.tx told it (no get_logs: py-evm's
        # is slow): offer id -> its current strings; reservation id -> buyer key / access details.
        self.terms = {}
        self.res_events = {}

    # -- deployment ---------------------------------------------------------------
    def deploy(self, accept_window=WINDOW):
        """Deploy a fresh REB (tests.support.chain.deploy_reb) and make it `self.reb`."""
        self.reb = deploy_reb(self.w3, self.deployer, accept_window)
        return self.reb

    def deploy_contract(self, abi, bytecode, *args, sender=None):
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        h = factory.constructor(*args).transact({"from": sender or self.deployer, "gas": 10_000_000})
        rc = self.w3.eth.wait_for_transaction_receipt(h, timeout=30)
        assert rc.status == 1, "deployment failed"
        return self.w3.eth.contract(address=rc.contractAddress, abi=abi)

    # -- transactions -------------------------------------------------------------
    def _params(self, sender, value, gas=None):
        p = {"from": sender, "value": value}
        if gas:
            p["gas"] = gas
        return p

    def simulate(self, fn, sender, value=0):
        """Run `fn` against the pending block; returns (True, result) or (False, (name, args))."""
        try:
            return True, fn.call(self._params(sender, value), block_identifier="pending")
        except REVERTS as exc:
            data = revert_data(exc)
            assert data is not None, "revert without data: %r" % (exc,)
            return False, decode_error(data, self.errors)

    def tx(self, fn, sender, value=0):
        """Send `fn` (must succeed: status 1) and return its receipt."""
        h = fn.transact(self._params(sender, value, GAS))
        rc = self.w3.eth.wait_for_transaction_receipt(h, timeout=30)
        if rc.status != 1:
            ok, out = self.simulate(fn, sender, value)  # best effort: the chain moved on by a block
            raise AssertionError("%s failed on chain (status 0); replayed one block later it %s" % (
                fn.fn_name, "succeeds" if ok else "reverts with %s%r" % out))
        if self.reb is not None:
            self.remember(rc)
        return rc

    def remember(self, rc):
        """Record what the REB's events in this receipt say beyond its storage (see self.terms)."""
        for name, args in self.events(rc, full=True):
            if name in ("OfferPublished", "OfferUpdated"):
                terms = args["terms"]
                terms = dict(terms) if hasattr(terms, "keys") else spec_dict(tuple(terms))
                self.terms[args["offerId"]] = dict((k, terms[k]) for k in STRING_FIELDS)
            elif name == "ReservationRequested":
                self.res_events[args["reservationId"]] = dict(buyerKey=args["buyerKey"], orderRef=args["orderRef"])
            elif name == "ReservationAccepted":
                self.res_events[args["reservationId"]].update(accessEndpoint=args["accessEndpoint"],
                                                              hostKeyFingerprint=args["hostKeyFingerprint"])

    def revert(self, fn, sender, value=0, mine=True):
        """(name, args) of the custom error `fn` reverts with. With `mine`, the transaction is
        also sent and must be mined with status 0 (and change nothing)."""
        ok, out = self.simulate(fn, sender, value)
        assert not ok, "%s did not revert (returned %r)" % (fn.fn_name, out)
        if mine:
            h = fn.transact(self._params(sender, value, GAS))
            rc = self.w3.eth.wait_for_transaction_receipt(h, timeout=30)
            assert rc.status == 0, "%s succeeded on chain although the simulation reverted" % fn.fn_name
            assert rc.logs == [], "a reverted transaction left logs"
        return out

    def expect(self, fn, sender, name, *args, value=0, mine=True):
        got = self.revert(fn, sender, value=value, mine=mine)
        assert got == (name, tuple(args)), "expected %s%r, got %s%r" % (name, tuple(args), got[0], got[1])

    # -- reading ----------------------------------------------------------------------
    def events(self, rc, contract=None, full=False):
        """[(name, args)] of the REB's events in a receipt (decoded from the receipt's logs).

        Without `full`, the arguments REB v2 added (terms, hashes, key, order reference) are left out, so
        that the v1 assertions still read as before; tests of those arguments ask for `full`."""
        contract = contract or self.reb
        by_topic = {}
        for item in contract.abi:
            if item["type"] == "event":
                sig = "%s(%s)" % (item["name"], ",".join(_abi_type(i) for i in item["inputs"]))
                by_topic[self.w3.keccak(text=sig)] = item["name"]
        out = []
        for log in rc.logs:
            if log.address != contract.address:
                continue
            name = by_topic[bytes(log.topics[0])]
            ev = contract.events[name]().process_log(log)
            args = dict(ev.args)
            if not full and contract is self.reb:
                args = dict((k, v) for k, v in args.items() if k not in V2_EVENT_ARGS)
            out.append((name, args))
        return out

    def _struct(self, fn_name, value):
        item = next(i for i in self.reb.abi if i.get("name") == fn_name and i["type"] == "function")
        names = [c["name"] for c in item["outputs"][0]["components"]]
        return dict(zip(names, value))

    def offer(self, offer_id):
        """The stored offer, with its strings from its latest OfferPublished/OfferUpdated event."""
        return self._with_terms(self._struct("getOffer", self.reb.functions.getOffer(offer_id).call()), offer_id)

    def _with_terms(self, o, offer_id):
        o.update(self.terms.get(offer_id, {}))
        return o

    def reservation(self, res_id):
        """The stored reservation, with the buyer key and access details of its events while it is live
        (REB v1 stored them and cleared them when the reservation ended)."""
        return self._with_keys(self._struct("getReservation", self.reb.functions.getReservation(res_id).call()),
                               res_id)

    def _with_keys(self, r, res_id):
        seen = self.res_events.get(res_id, {}) if r["state"] in LIVE else {}
        r["buyerKey"] = seen.get("buyerKey", ZERO32)
        r["accessEndpoint"] = seen.get("accessEndpoint", "")
        r["hostKeyFingerprint"] = seen.get("hostKeyFingerprint", ZERO32)
        return r

    def offers(self, first, count):
        start = max(first, 1)
        return [self._with_terms(self._struct("getOffer", o), start + i)
                for i, o in enumerate(self.reb.functions.getOffers(first, count).call())]

    def reservations(self, first, count):
        start = max(first, 1)
        return [self._with_keys(self._struct("getReservation", r), start + i)
                for i, r in enumerate(self.reb.functions.getReservations(first, count).call())]

    def owed(self, addr):
        return self.reb.functions.owed(addr).call()

    def balance(self, addr):
        return self.w3.eth.get_balance(addr)

    @staticmethod
    def fee(rc):
        return rc.gasUsed * rc.effectiveGasPrice

    def block_time(self, rc):
        return self.w3.eth.get_block(rc.blockNumber).timestamp

    # -- time -------------------------------------------------------------------------
    def now(self):
        return self.w3.eth.get_block("latest").timestamp

    def at(self, ts):
        """Make the next block (hence the next transaction) have timestamp exactly `ts`."""
        if self.kind == "anvil":
            r = self.w3.provider.make_request("evm_setNextBlockTimestamp", [int(ts)])
            assert "error" not in r, r
        else:
            tester = self.w3.provider.ethereum_tester
            pending = tester.get_block_by_number("pending")["timestamp"]
            assert ts >= pending, "cannot travel back from %d to %d" % (pending, ts)
            tester.time_travel(int(ts))  # mines a block at ts - 1; the pending block is at ts
            assert tester.get_block_by_number("pending")["timestamp"] == ts

    def advance(self, seconds):
        """Let `seconds` pass and mine a block (anvil: evm_increaseTime + evm_mine)."""
        if self.kind == "anvil":
            self.w3.provider.make_request("evm_increaseTime", [int(seconds)])
            self.w3.provider.make_request("evm_mine", [])
        else:
            tester = self.w3.provider.ethereum_tester
            tester.time_travel(self.now() + int(seconds))
            tester.mine_blocks(1)

    # -- scenario shortcuts ---------------------------------------------------------------
    def register(self, who, name=None):
        return self.tx(self.reb.functions.registerProvider(name or "provider %s" % who[:8]), who)

    def publish(self, who=None, **over):
        """Register (if needed) and publish; returns (offerId, receipt)."""
        who = who or self.seller
        if not self.reb.functions.providerOf(who).call()[1]:
            self.register(who)
        rc = self.tx(self.reb.functions.publishOffer(spec(**over)), who)
        ev = [a for n, a in self.events(rc) if n == "OfferPublished"]
        return ev[0]["offerId"], rc

    def order(self):
        """A fresh order reference (the buyer's own, one per reserve)."""
        self._orders = getattr(self, "_orders", 0) + 1
        return self._orders.to_bytes(32, "big")

    def reserve_fn(self, offer_id, hours=2, key=KEY, terms=None, order=None):
        """reserve(...) bound to the offer's current terms and a fresh order reference unless given."""
        if terms is None:
            terms = self.offer(offer_id)["termsHash"] if offer_id and offer_id <= self.reb.functions.offerCount().call() \
                else b"\0" * 32
        return self.reb.functions.reserve(offer_id, hours, key, terms, order or self.order())

    def reserve(self, offer_id, hours=2, who=None, key=KEY, value=None):
        who = who or self.buyer
        if value is None:
            value = self.offer(offer_id)["pricePerHour"] * hours
        rc = self.tx(self.reserve_fn(offer_id, hours, key), who, value=value)
        ev = [a for n, a in self.events(rc) if n == "ReservationRequested"]
        return ev[0]["reservationId"], rc

    def accept(self, res_id, who=None, endpoint=ENDPOINT, fp=FP):
        return self.tx(self.reb.functions.accept(res_id, endpoint, fp), who or self.seller)


def ahead_of_the_clock(tester, days=365):
    """Move a py-evm chain well ahead of the wall clock. py-evm stamps a new block with
    max(parent + 1, now): while the chain is ahead of `now`, every block is exactly one second
    after its parent, so a test's timestamps do not depend on how fast the machine is (and
    `Chain.at` never finds the pending block already past its target)."""
    now = tester.get_block_by_number("pending")["timestamp"]
    tester.time_travel(now + days * 24 * 3600)


# ------------------------------------------------------------------------- solc-js

_COMPILE_JS = r"""
const fs = require('fs');
const solc = require('solc');
const input = {language: 'Solidity', sources: {
  'ResourceExchangeBroker.sol': {content: fs.readFileSync('contracts/ResourceExchangeBroker.sol', 'utf8')},
  'test/ReentrantReceiver.sol': {content: fs.readFileSync('contracts/test/ReentrantReceiver.sol', 'utf8')}},
  settings: {evmVersion: 'prague', optimizer: {enabled: true, runs: 200},
    outputSelection: {'test/ReentrantReceiver.sol': {'ReentrantReceiver': ['abi', 'evm.bytecode.object']}}}};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errs = (out.errors || []).filter((e) => e.severity === 'error');
if (errs.length) { for (const e of errs) console.error(e.formattedMessage); process.exit(1); }
const c = out.contracts['test/ReentrantReceiver.sol'].ReentrantReceiver;
process.stdout.write(JSON.stringify({abi: c.abi, bytecode: '0x' + c.evm.bytecode.object}));
"""


def compile_reentrant_receiver():
    """Compile contracts/test/ReentrantReceiver.sol with the pinned solc-js (prague)."""
    p = subprocess.run(["node", "-e", _COMPILE_JS], cwd=str(ROOT), capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


REPO = Path(ROOT)
