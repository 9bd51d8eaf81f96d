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
    assert sender(1.0)._next_poll(head, 0) == 0.1


def test_after_the_due_time_a_tenth_of_a_block_for_one_block_then_growing_looks():
    # At 1 s blocks: ten looks 0.1 s apart see the block within 0.1 s of its coming, then a stalled chain gets looks
    # ever further apart, never more than a block time apart.
    head = {"timestamp": int(time.time()) - 30}  # long due: the first look is at once
    one = sender(1.0)
    assert [one._next_poll(head, n) for n in range(1, 11)] == [0.1] * 10
    later = [one._next_poll(head, n) for n in range(11, 20)]
    assert later == sorted(later) and later[0] == 0.15000000000000002 and later[-1] == 1.0
    assert [sender(12.0)._next_poll(head, n) for n in (1, 10)] == [1.2, 1.2]
    assert sender(0.2)._next_poll(head, 1) == 0.1, "never more often than every 0.1 s"
