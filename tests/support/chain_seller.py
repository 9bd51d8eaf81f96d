"""A seller that answers on chain by itself, for tests of the buyer's side without the lab: a thread holding the
seller's (unlocked anvil) account that accepts or rejects each request for its offers, after `delay` seconds, or
never (answer None). It stands for provider B's agent where no node needs its key granted (the real agent, with its
key grant and policy, runs in the lab tests)."""
import base64
import threading
import time

STATE_REQUESTED = 1


class ChainSeller(threading.Thread):
    def __init__(self, w3, contract, account, answer, host_fingerprint="", endpoint="198.51.100.4:22", delay=0.0):
        super().__init__(daemon=True)
        self.w3, self.contract, self.account = w3, contract, account
        self.answer, self.endpoint, self.delay = answer, endpoint, delay
        self.digest = _digest(host_fingerprint) if host_fingerprint else b"\x01" * 32
        self.answered = []
        self.stopping = threading.Event()

    def run(self):
        seen = {}
        while not self.stopping.wait(0.1):  # bounded by stop()
            for rid in range(1, self.contract.functions.reservationCount().call() + 1):
                if rid in self.answered:
                    continue
                r = self.contract.functions.getReservation(rid).call()
                if r[3] != STATE_REQUESTED or self.contract.functions.getOffer(r[1]).call()[0] != self.account:
                    continue
                seen.setdefault(rid, time.monotonic())
                if self.answer is None or time.monotonic() - seen[rid] < self.delay:
                    continue
                if self.answer == "accept":
                    fn = self.contract.functions.accept(rid, self.endpoint, self.digest)
                else:
                    fn = self.contract.functions.reject(rid, "not for sale to you")
                self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": self.account}), timeout=10)
                self.answered.append(rid)

    def stop(self):
        self.stopping.set()
        self.join(10)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def _digest(fingerprint):
    body = fingerprint.split(":", 1)[1]
    return base64.b64decode(body + "=" * (-len(body) % 4))
