# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Sending one transaction so that timeouts, reruns and concurrent runs never pay twice.

- Under the wallet's lock (reb_wallet): look for our own unreported transaction of the same intent
  (same chain, sender, target, calldata, value); if it is pending, wait for it instead of sending; if it
  was just mined and the call no longer passes, report it. Otherwise estimate, take the nonce from the
  account's pending state, sign, journal, send. "nonce too low" / "underpriced" mean the node did not take
  the transaction: retry with the next nonce (bounded, with backoff); an answer we cannot read keeps the
  journal entry, so a rerun waits for that transaction rather than sending a second one.
- Fees: EIP-1559 (base fee x 2 + the node's tip) where blocks carry a base fee, else the gas price.
- Receipts: one look at once (automine chains have it), then a wait until the next block is due and
  polls with backoff tied to the measured block time: a few calls per transaction, not one per 50 ms.
- Confirmations: counted in blocks; on a chain that mines only when it gets transactions (automine)
  no block would ever come, so a mined transaction counts as final there, with a warning that says so.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import time

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_revert import node_message, revert_data
from ansible_collections.decenter.fog.plugins.module_utils.reb_wallet import RECENT_SECONDS, WalletJournal

# Estimates are net of storage refunds, while execution needs the gross amount before the refund
# (release and withdraw clear slots); and the estimate runs at the latest block's time, where a release
# may owe the seller nothing yet, but is mined later, when it owes something (one more storage slot
# set). Headroom covers both; unused gas is not charged.
GAS_HEADROOM = 1.25
GAS_MARGIN = 30000
SEND_ATTEMPTS = 5
RETRYABLE = ("nonce too low", "underpriced", "nonce has already been used", "already imported",
             "replacement transaction", "nonce is too low", "invalid nonce")
ALREADY_KNOWN = ("already known", "known transaction", "already exists", "already in the pool",
                 "alreadyknown")
DEFAULT_TIP = 10 ** 9  # 1 gwei, when the node has no eth_maxPriorityFeePerGas
BLOCK_TIME_SAMPLE = 8
MAX_POLL = 15.0

_WARNINGS = []


def take_warnings():
    """Warnings for the task that just ran (e.g. confirmations on an automine chain); clears them."""
    out = list(_WARNINGS)
    del _WARNINGS[:]
    return out


def intent_of(chain_id, sender, to, data, value):
    blob = json.dumps([chain_id, sender.lower(), (to or "").lower(), data.lower(), int(value)])
    return hashlib.sha256(blob.encode()).hexdigest()


class TxSender(object):
    """Signs and sends for one account on one chain; `explain(error)` turns revert data into a sentence."""

    def __init__(self, w3, account, chain_id, rpc_url, timeout, confirmations, explain):
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self.rpc_url = rpc_url
        self.timeout = timeout
        self.confirmations = confirmations
        self.explain = explain
        self._journal = None
        self._automine = "unknown"
        self._block_time = None
        self._tip = None

    # ------------------------------------------------------------------ public

    def send(self, to, data, value, what, check_mode=False, adopt_mined=False):
        """The receipt of our transaction of this intent (None in check mode); RebError with a sentence else.

        adopt_mined: an unreported, mined transaction of the same intent is the answer even if the call
        would still pass (a deployment: its address was never reported, and a rerun must not deploy again).
        """
        return self.finish(self.submit(to, data, value, what, check_mode=check_mode, adopt_mined=adopt_mined))

    def submit(self, to, data, value, what, check_mode=False, adopt_mined=False, after_pending=False):
        """send() up to the receipt: our transaction of this intent sent (or found pending or mined), not waited
        for. Returns a handle for finish() (None in check mode), so a caller can send several before it waits for
        any: they then share a block. A handle never finished leaves its journal entry: a rerun waits for it.
        after_pending: estimate against the pending state, for a transaction that only passes once the ones just
        submitted are mined (a withdraw of a release's refund); it goes out with the next nonce, so it runs after
        them in the same block."""
        tx = {"from": self.account.address, "data": data, "value": value, "chainId": self.chain_id}
        if to:
            tx["to"] = to
        if check_mode:
            self._estimate(tx, what)
            self._check_funds(self._priced(tx, self._latest()), value, what)
            return None
        intent = intent_of(self.chain_id, self.account.address, to, data, value)
        journal = self.journal()
        with journal.locked():
            ours, mined = self._earlier(journal, intent, adopt_mined)
            if ours is None:
                try:
                    self._estimate(tx, what, "pending" if after_pending else None)
                except RebError:
                    if not mined:
                        raise
                    # our earlier transaction of this intent was mined after the task read the chain: that
                    # is why the call no longer passes, and it is the answer
                    ours = ("mined", mined[-1], None)
                else:
                    for stale in mined:  # mined before the task read the chain: its effect was already seen
                        journal.remove(_hash(stale))
            if ours is None:
                head = self._latest()
                tx = self._priced(tx, head)
                self._check_funds(tx, value, what)
                entry = self._send_with_retries(journal, tx, intent, what)
                ours = ("pending", entry, head)
        return {"state": ours[0], "entry": ours[1], "head": ours[2], "tx": tx, "what": what}

    def finish(self, sent, look_first=False, deadline=None):
        """The receipt of a submit()ted transaction once mined (and confirmed); RebError with a sentence if it
        reverted or was not mined in time. look_first: look for the receipt at once (a transaction sent with
        another whose receipt just came), rather than wait for the block due after it was sent. deadline: a
        time.monotonic() shared by transactions sent together, so their waits add up to one timeout, not many."""
        if sent is None:
            return None
        entry, what = sent["entry"], sent["what"]
        if sent["state"] == "mined":
            receipt = entry
        else:
            receipt = self._wait(entry, what, None if look_first else sent["head"], deadline)
        return self._finish(self.journal(), receipt, sent["tx"], what)

    def nonce(self):
        return self.w3.eth.get_transaction_count(self.account.address, "pending")

    def journal(self):
        if self._journal is None:
            genesis = bytes(self.w3.eth.get_block(0)["hash"]).hex()[:16]
            self._journal = WalletJournal("%d-%s" % (self.chain_id, genesis), self.account.address)
        return self._journal

    # ------------------------------------------------------ our earlier transactions

    def _earlier(self, journal, intent, adopt_mined):
        """(answer, mined) for earlier sends of `intent` in the journal.

        answer: ("pending", entry, None) or ("mined", receipt, None) when it is ours to wait for or report,
        else None; mined: receipts of successful ones that the estimate must judge (unreported ones, and ones
        reported in the last RECENT_SECONDS). Failed, replaced and dropped ones are forgotten.
        """
        mined = []
        counts = None
        recent = time.time() - RECENT_SECONDS
        for entry in [e for e in journal.entries()
                      if e.get("intent") == intent and e.get("reported", recent) >= recent]:
            receipt = self._receipt(entry["hash"])
            if receipt is not None:
                if receipt["status"] == 1 and adopt_mined and "reported" not in entry:
                    return ("mined", receipt, None), mined
                if receipt["status"] == 1:
                    mined.append(receipt)
                else:
                    journal.remove(entry["hash"])  # it failed: the call below decides again
                continue
            # Not mined. Its nonce tells the rest without eth_getTransactionByHash (which web3's request cache
            # chokes on for pending transactions): used by another transaction, still taken in the pool, or free.
            counts = counts or (self.w3.eth.get_transaction_count(self.account.address, "latest"), self.nonce())
            if counts[0] <= entry["nonce"] < counts[1] and "reported" not in entry:
                return ("pending", entry, None), mined
            journal.remove(entry["hash"])  # replaced or dropped: it can never be mined now, send anew
        return None, mined

    def _receipt(self, tx_hash):
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except Exception:  # TransactionNotFound: not mined (yet)
            return None

    # ------------------------------------------------------------------- sending

    def _estimate(self, tx, what, block=None):
        try:
            gas = self.w3.eth.estimate_gas(tx, block)
        except Exception as e:
            raise RebError(self._refusal(what, e, tx.get("value", 0)))
        tx["gas"] = int(gas * GAS_HEADROOM) + GAS_MARGIN
        return tx

    def _latest(self):
        block = self.w3.eth.get_block("latest")
        return {"number": block["number"], "timestamp": block["timestamp"], "base_fee": block.get("baseFeePerGas"),
                "seen": time.time()}

    def _priced(self, tx, head):
        tx = dict(tx)
        if head["base_fee"] is not None:
            tip = self._priority_fee()
            tx["maxPriorityFeePerGas"] = tip
            tx["maxFeePerGas"] = 2 * head["base_fee"] + tip
        else:
            tx["gasPrice"] = self.w3.eth.gas_price
        return tx

    def _priority_fee(self):
        if self._tip is None or time.monotonic() - self._tip[1] > 60:
            try:
                tip = self.w3.eth.max_priority_fee
            except Exception:
                tip = DEFAULT_TIP
            self._tip = (tip, time.monotonic())
        return self._tip[0]

    def _check_funds(self, tx, value, what):
        gas_price = tx.get("maxFeePerGas") or tx.get("gasPrice") or 0
        needed = value + tx.get("gas", 0) * gas_price
        balance = self.w3.eth.get_balance(self.account.address)
        if balance < needed:
            raise RebError("insufficient funds for %s: account %s holds %d wei but needs %d wei (%d value + gas). "
                           "Fund the account or lower the hours."
                           % (what, self.account.address, balance, needed, value))

    def _send_with_retries(self, journal, tx, intent, what):
        nonce = self.nonce()
        for attempt in range(SEND_ATTEMPTS):
            tx["nonce"] = nonce
            signed = self.account.sign_transaction(tx)
            entry = {"hash": "0x" + bytes(signed.hash).hex(), "nonce": nonce, "intent": intent, "what": what}
            journal.add(entry)  # before sending: whatever happens next, a rerun knows this transaction
            try:
                self.w3.eth.send_raw_transaction(signed.raw_transaction)
                return entry
            except Exception as e:
                text = _short(e).lower()
                if any(k in text for k in ALREADY_KNOWN):
                    return entry  # this very transaction is in the pool already
                if any(k in text for k in RETRYABLE) or "insufficient funds" in text or _is_rejection(e):
                    journal.remove(entry["hash"])  # the node refused it: it can never be mined
                if any(k in text for k in RETRYABLE) and attempt + 1 < SEND_ATTEMPTS:
                    time.sleep(0.1 * 2 ** attempt)
                    nonce = max(nonce + 1, self.nonce())
                    continue
                if "insufficient funds" in text:
                    raise RebError("insufficient funds for %s: account %s cannot pay %d wei plus gas. Fund the "
                                   "account." % (what, self.account.address, tx.get("value", 0)))
                if _is_rejection(e) or any(k in text for k in RETRYABLE):
                    raise RebError("sending %s to %s failed: %s" % (what, self.rpc_url, _short(e)))
                raise RebError("sending %s to %s failed and the node's answer was lost (%s): the transaction %s "
                               "may be on its way; a rerun waits for it instead of sending another."
                               % (what, self.rpc_url, _short(e), entry["hash"]))
        raise RebError("sending %s failed: %d nonces in a row were taken by other transactions of account %s."
                       % (what, SEND_ATTEMPTS, self.account.address))

    # ------------------------------------------------------------------- waiting

    def _wait(self, entry, what, head, deadline=None):
        tx_hash = entry["hash"]
        deadline = time.monotonic() + self.timeout if deadline is None else deadline
        # Automine chains have mined it while we sent it; on timed chains the first look waits for a block.
        receipt = self._receipt(tx_hash) if self.automine() is not False or head is None else None
        polls = 0
        while receipt is None:
            if time.monotonic() >= deadline:
                if self.w3.eth.get_transaction_count(self.account.address, "latest") > entry["nonce"]:
                    receipt = self._receipt(tx_hash)  # mined at the last moment, or replaced?
                    if receipt is not None:
                        break
                    self.journal().forget(tx_hash)
                    raise RebError("%s (tx %s) was replaced by another transaction of account %s with the same "
                                   "nonce %d and will never be mined; rerun the task to send it again."
                                   % (what, tx_hash, self.account.address, entry["nonce"]))
                raise RebError("%s was sent (tx %s) but not mined within %g s; a rerun waits for this transaction "
                               "instead of sending another (or raise timeout, or check the node)."
                               % (what, tx_hash, self.timeout))
            time.sleep(max(0.0, min(self._next_poll(head, polls), deadline - time.monotonic())))
            polls += 1
            receipt = self._receipt(tx_hash)
        return receipt

    def _next_poll(self, head, polls):
        """Seconds until the next look: the next block's due time first, then a tenth of a block (at least 0.1 s)
        for one block time, then growing looks.

        Block timestamps are whole seconds, so the due time can be early by up to a second: the short looks after
        it see the block within a tenth of a block of its coming (growing looks from 0.25 s saw a 1 s chain's block
        about 0.25 s late, on every transaction); a chain that stalls gets ever fewer looks. A head stamped later
        than our clock (a test chain moved forward with evm_increaseTime, a skewed node) says nothing about when
        the next block comes: then the short looks start at once.
        """
        block_time = self.block_time()
        if polls == 0 and head is not None:
            due = head["timestamp"] + block_time + min(0.5, block_time / 4.0) - time.time()
            if due <= block_time + 0.5:  # else the node's clock is ahead of ours: its head tells no due time
                return min(max(due, 0.05), block_time)
        step = max(block_time / 10.0, 0.1)
        short = int(round(block_time / step))  # looks within one block time of the due time
        if polls <= short:
            return step
        return min(step * 1.5 ** (polls - short), block_time, MAX_POLL)

    def block_time(self):
        """Seconds between blocks, from the last few (1 s when they cannot tell, e.g. a new chain)."""
        if self._block_time is None:
            self._block_time = 1.0
            try:
                latest = self.w3.eth.get_block("latest")
                span = min(latest["number"], BLOCK_TIME_SAMPLE)
                if span:
                    older = self.w3.eth.get_block(latest["number"] - span)
                    self._block_time = min(max((latest["timestamp"] - older["timestamp"]) / float(span), 0.5),
                                           MAX_POLL)
            except Exception:
                pass
        return self._block_time

    def automine(self):
        """True if the node mines a block per transaction (anvil, Hardhat), False if on a timer, None unknown."""
        if self._automine == "unknown":
            self._automine = None
            for method in ("hardhat_getAutomine", "anvil_getAutomine"):  # anvil answers both
                try:
                    answer = self.w3.provider.make_request(method, [])
                except Exception:
                    continue
                if isinstance(answer.get("result"), bool):
                    self._automine = answer["result"]
                    break
        return self._automine

    def _finish(self, journal, receipt, tx, what):
        if receipt["status"] != 1:
            journal.forget(_hash(receipt))
            raise RebError(self._mined_revert(receipt, tx, what))
        self._wait_confirmations(receipt, what)
        journal.reported(_hash(receipt))
        return receipt

    def _wait_confirmations(self, receipt, what):
        if not self.confirmations:
            return
        if self.automine():
            _WARNINGS.append("this chain mines a block only when it gets a transaction (automine), so no block "
                             "would confirm %s: it counts as final once mined (confirmations=%d not waited for)."
                             % (what, self.confirmations))
            return
        target = receipt["blockNumber"] + self.confirmations
        deadline = time.monotonic() + self.timeout
        first = self.w3.eth.block_number
        number = first
        while number < target:
            if time.monotonic() > deadline:
                hint = (" The chain made no block meanwhile: if it mines only when it gets transactions, set "
                        "confirmations to 0." if number == first else "")
                have = max(0, number - receipt["blockNumber"])
                raise RebError("%s (tx %s) has %d of %d confirmations after %g s; it is mined, so a rerun will "
                               "not send it again.%s"
                               % (what, _hash(receipt), have, self.confirmations, self.timeout, hint))
            time.sleep(min(self.block_time(), max(0.0, deadline - time.monotonic())))
            number = self.w3.eth.block_number
        again = self._receipt(receipt["transactionHash"])
        if again is None or bytes(again["blockHash"]) != bytes(receipt["blockHash"]):
            raise RebError("%s (tx %s) was mined in block %d but that block was replaced by a reorganisation; rerun "
                           "the task." % (what, _hash(receipt), receipt["blockNumber"]))

    # -------------------------------------------------------------- explanations

    def _refusal(self, what, error, value):
        text = _short(error)
        if revert_data(error) or "revert" in text.lower():
            return self.explain(error)
        if "insufficient funds" in text.lower():
            return ("insufficient funds for %s: account %s cannot pay %d wei plus gas. Fund the account."
                    % (what, self.account.address, value))
        return "sending %s to %s failed: %s" % (what, self.rpc_url, text)

    def _mined_revert(self, receipt, tx, what):
        """Why a mined transaction reverted: replay it at its block's parent, then at its block."""
        gas = "%d of %d gas used" % (receipt["gasUsed"], tx.get("gas") or receipt["gasUsed"])
        if tx.get("gas") and receipt["gasUsed"] >= tx["gas"]:
            return "%s was mined but ran out of gas (tx %s, %s)." % (what, _hash(receipt), gas)
        call = dict((k, tx[k]) for k in ("from", "to", "data", "value") if k in tx)
        for block in (receipt["blockNumber"] - 1, receipt["blockNumber"]):
            try:
                self.w3.eth.call(call, block)
            except Exception as e:
                if revert_data(e):
                    return "%s was mined but reverted (tx %s, %s): %s" % (what, _hash(receipt), gas, self.explain(e))
        return "%s was mined but reverted (tx %s, %s)." % (what, _hash(receipt), gas)


def _is_rejection(error):
    """A JSON-RPC error answer (the node read the transaction and refused it), not a lost connection."""
    response = getattr(error, "rpc_response", None)
    if isinstance(response, dict) and "error" in response:
        return True
    return type(error).__name__ in ("Web3RPCError", "ValueError", "ContractLogicError", "InvalidTransaction")


def _hash(receipt):
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _short(error):
    return node_message(error)
