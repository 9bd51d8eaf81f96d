# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""One wallet's lock and journal of sent transactions, on the controller, shared by all its processes.

Two playbooks (or AWX jobs) signing with one key take the lock (fcntl.flock, so it also works across
processes and is released if a process dies) around choosing a nonce and sending, so they never pick the
same nonce. The journal lists transactions sent but not yet reported to the task that wanted them (a
timeout, a killed run): a rerun with the same intent finds its transaction there and waits for it instead
of paying again. It holds only public data (hashes, nonces, intents), never a key.

Files live in $DECENTER_REB_STATE_DIR, by default ~/.ansible/decenter_fog/wallets, one pair per chain
(chain id and genesis hash) and account.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import time

from ansible_collections.decenter.fog.plugins.module_utils.fog_files import write_atomically
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

STATE_DIR_ENV = "DECENTER_REB_STATE_DIR"
# Entries older than this are dropped when the journal is written (a rerun comes long before).
KEEP_SECONDS = 7 * 24 * 3600
# A reported transaction stays this long: a run that read the chain just before it was mined, and
# whose same call now fails because of it, reports it instead of failing (two runs, one intent).
RECENT_SECONDS = 120


def state_dir():
    return os.environ.get(STATE_DIR_ENV) or os.path.join(os.path.expanduser("~"), ".ansible", "decenter_fog",
                                                         "wallets")


class WalletJournal(object):
    def __init__(self, chain_key, address, directory=None):
        directory = directory or state_dir()
        try:
            os.makedirs(directory, 0o700)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise RebError("cannot create the wallet state directory %s (%s): set %s to a directory the "
                               "controller may write." % (directory, e.strerror, STATE_DIR_ENV))
        base = os.path.join(directory, "%s-%s" % (chain_key, address.lower()))
        self.path = base + ".json"
        self.lock_path = base + ".lock"

    @contextlib.contextmanager
    def locked(self):
        """Exclusive use of the wallet; waits for another process that holds it (bounded by its own work)."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def entries(self):
        """Sent transactions, oldest first: dicts with hash, nonce, intent, what, sent and, once the task
        that sent it was told, reported (unix times)."""
        try:
            with open(self.path) as f:
                data = json.load(f)
        except (IOError, OSError, ValueError):
            return []
        return [e for e in data.get("sent", []) if isinstance(e, dict) and "hash" in e]

    def add(self, entry):
        """Call with the lock held."""
        self._write(self.entries() + [dict(entry, sent=time.time())])

    def remove(self, tx_hash):
        """Call with the lock held: `tx_hash` was reported to its task, or can never be mined."""
        self._write([e for e in self.entries() if e["hash"] != tx_hash])

    def forget(self, tx_hash):
        """remove(), taking the lock."""
        with self.locked():
            self.remove(tx_hash)

    def reported(self, tx_hash):
        """The task that sent `tx_hash` was told: keep it only as a recent answer (RECENT_SECONDS)."""
        with self.locked():
            now = time.time()
            self._write([dict(e, reported=now) if e["hash"] == tx_hash else e for e in self.entries()])

    def _write(self, entries):
        cutoff = time.time() - KEEP_SECONDS
        now = time.time()
        entries = [e for e in entries if e.get("sent", 0) >= cutoff and e.get("reported", now) > now - RECENT_SECONDS]
        if not entries:
            if os.path.exists(self.path):
                os.remove(self.path)
            return
        # atomic: a crash leaves the old or the new journal, never half of one
        write_atomically(self.path, json.dumps({"sent": entries}, indent=1, sort_keys=True))
