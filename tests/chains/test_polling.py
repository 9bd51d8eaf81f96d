"""When the sender looks for a receipt again (reb_tx.TxSender._next_poll): no chain needed, the schedule is pure."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

from ansible_collections.decenter.fog.plugins.module_utils.reb_tx import TxSender  # noqa: E402


def sender(block_time):
    s = TxSender(None, None, 31337, "http://127.0.0.1:1", 30.0, 0, None)
    s._block_time = block_time  # as measured from the chain's last blocks
    return s


def test_the_first_look_waits_for_the_next_block_when_the_head_is_recent():
    head = {"timestamp": int(time.time()) - 3}
    assert 15 - 3 - 1 < sender(15.0)._next_poll(head, 0) <= 15 - 3 + 0.5


def test_a_head_ahead_of_our_clock_does_not_stretch_the_first_look():
    # A chain moved 1.5 hours forward (evm_increaseTime): the due time of its next block cannot be read from our
    # clock; the first look used to wait a whole block time (15 s), for a receipt an automine node has in ms.
    head = {"timestamp": int(time.time()) + 5400}
    assert sender(15.0)._next_poll(head, 0) == 1.5
    assert sender(1.0)._next_poll(head, 0) == 0.25
