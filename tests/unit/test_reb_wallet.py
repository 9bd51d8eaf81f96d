"""The wallet journal and lock (reb_wallet): entries survive processes, the lock excludes other processes."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import intent_of
from ansible_collections.decenter.fog.plugins.module_utils.reb_wallet import WalletJournal

ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
COLLECTIONS = str(Path(__file__).resolve().parents[2] / "collections")


def test_entries_are_added_and_removed_and_the_file_goes_when_empty(tmp_path):
    journal = WalletJournal("31337-abc", ADDRESS, directory=str(tmp_path))
    with journal.locked():
        journal.add({"hash": "0x01", "nonce": 4, "intent": "i", "what": "publishOffer"})
        journal.add({"hash": "0x02", "nonce": 5, "intent": "j", "what": "reserve"})
    again = WalletJournal("31337-abc", ADDRESS, directory=str(tmp_path))  # another process reads the same file
    assert [e["hash"] for e in again.entries()] == ["0x01", "0x02"]
    assert json.loads(Path(again.path).read_text())["sent"][0]["nonce"] == 4
    again.forget("0x01")
    assert [e["hash"] for e in journal.entries()] == ["0x02"]
    journal.forget("0x02")
    assert not Path(journal.path).exists() and journal.entries() == []


def test_a_damaged_journal_reads_as_empty(tmp_path):
    journal = WalletJournal("1-x", ADDRESS, directory=str(tmp_path))
    Path(journal.path).write_text("{not json")
    assert journal.entries() == []


def test_the_lock_excludes_other_processes(tmp_path):
    # Four processes each add 25 entries, one read-modify-write at a time: without the lock entries get lost.
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from ansible_collections.decenter.fog.plugins.module_utils.reb_wallet import WalletJournal
        journal = WalletJournal("1-x", %r, directory=%r)
        for i in range(25):
            with journal.locked():
                journal.add({"hash": "0x" + sys.argv[1] + "-" + str(i), "nonce": i, "intent": "i", "what": "w"})
    """ % (COLLECTIONS, ADDRESS, str(tmp_path)))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(4)]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    entries = WalletJournal("1-x", ADDRESS, directory=str(tmp_path)).entries()
    assert len(entries) == 100 and len(set(e["hash"] for e in entries)) == 100


def test_an_intent_is_chain_sender_target_calldata_and_value():
    base = intent_of(1, ADDRESS, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xabcd", 5)
    assert base == intent_of(1, ADDRESS.lower(), "0x5fbdb2315678afecb367f032d93f642f64180aa3", "0xABCD", 5)
    others = [intent_of(2, ADDRESS, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xabcd", 5),
              intent_of(1, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                        "0xabcd", 5),
              intent_of(1, ADDRESS, None, "0xabcd", 5),
              intent_of(1, ADDRESS, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xabce", 5),
              intent_of(1, ADDRESS, "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xabcd", 6)]
    assert base not in others and len(set(others)) == len(others)


def test_an_unwritable_state_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RebError) as refused:
        WalletJournal("1-x", ADDRESS, directory=str(blocker / "wallets"))
    assert str(refused.value) == ("cannot create the wallet state directory %s (Not a directory): set "
                                  "DECENTER_REB_STATE_DIR to a directory the controller may write."
                                  % (blocker / "wallets"))
