"""A real anvil on its default gas limit with a REB, sellers' offers and buyers' requests, sent from anvil's
unlocked development accounts (public test keys, never real funds)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.chain import ROOT, Anvil, deploy_reb

SOURCE = (ROOT / "collections" / "ansible_collections" / "decenter" / "fog" / "extensions" / "eda" / "plugins"
          / "event_source" / "reb_events.py")
FAR = 2 ** 40 - 1
PRICE = 10 ** 15
# anvil's accounts in these tests
DEPLOYER, BUYER_A, SELLER_B, SELLER_C, BUYER_D, BUYER_E = range(6)


class Market:
    """The REB on `chain`, with helpers that send one transaction each and return its receipt."""

    def __init__(self, chain, accept_window=3600):
        self.chain = chain
        self.w3 = chain.w3
        self.accounts = self.w3.eth.accounts
        self.reb = deploy_reb(self.w3, self.accounts[DEPLOYER], accept_window)

    def send(self, fn, who, value=0):
        tx = fn.transact({"from": self.accounts[who], "value": value})
        return self.w3.eth.wait_for_transaction_receipt(tx, timeout=30)

    def register(self, who, name):
        return self.send(self.reb.functions.registerProvider(name), who)

    def publish(self, who, node_id, price=PRICE, min_hours=1, max_hours=720):
        spec = (node_id, "SEOUL-KETI", 1, "37.5794,126.8890", 2000, 2048, 10, "amd64", "camkor1:camera", price,
                min_hours, max_hours, 0, FAR)
        self.send(self.reb.functions.publishOffer(spec), who)
        return self.reb.functions.offerIdOf(self.accounts[who], node_id).call()

    def offer(self, offer_id):
        """getOffer as a dict by the ABI's field names."""
        entry = next(e for e in self.reb.abi if e.get("type") == "function" and e["name"] == "getOffer")
        names = [c["name"] for c in entry["outputs"][0]["components"]]
        return dict(zip(names, self.reb.functions.getOffer(offer_id).call()))

    def reserve_call(self, offer_id, hours=1, key=b"\x11" * 32):
        """reserve(...) with the offer's terms hash as seen now and a fresh order reference; and its price."""
        offer = self.offer(offer_id)
        return (self.reb.functions.reserve(offer_id, hours, key, offer["termsHash"], os.urandom(32)),
                offer["pricePerHour"] * hours)

    def reserve(self, who, offer_id, hours=1, key=b"\x11" * 32):
        call, value = self.reserve_call(offer_id, hours, key)
        receipt = self.send(call, who, value=value)
        return self.reb.events.ReservationRequested().process_receipt(receipt)[0]["args"]["reservationId"], receipt

    def state(self, reservation_id):
        return self.reb.functions.getReservation(reservation_id).call()[3]

    def mine(self, blocks=1):
        for _ in range(blocks):
            self.w3.provider.make_request("evm_mine", [])


def start_chain(workdir, **kwargs):
    """anvil on its default block gas limit (as the issue asks of everything new)."""
    return Anvil(workdir, **kwargs)


class SourceProcess:
    """The event source plugin run as its own process (its __main__ prints each event as a JSON line)."""

    def __init__(self, args, log_path):
        env = dict(os.environ, PYTHONPATH=str(ROOT / "collections"))
        self.log = open(log_path, "a")
        self.proc = subprocess.Popen([sys.executable, str(SOURCE), json.dumps(args)], stdout=subprocess.PIPE,
                                     stderr=self.log, env=env, text=True)
        self.events = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.append(json.loads(line)["reb"])

    def wait_for(self, predicate, timeout=30):
        """Events so far, once predicate(events) holds (bounded wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(list(self.events)):
                return list(self.events)
            if self.proc.poll() is not None:
                raise AssertionError("the event source exited with %s" % self.proc.returncode)
            time.sleep(0.05)
        raise AssertionError("timed out; events so far: %s" % self.events)

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self._reader.join(5)
        self.log.close()
