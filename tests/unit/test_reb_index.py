"""The market index's eth_getLogs paging: ranges capped by the node, answers kept small (pure functions)."""
import pytest

from ansible_collections.decenter.fog.plugins.module_utils import reb_index
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError


class CappedNode:
    """eth_getLogs of a node that refuses ranges over `cap` blocks, with `per_block` logs in every block."""

    def __init__(self, cap, per_block=1, message="query exceeds max block range 100"):
        self.cap, self.per_block, self.message = cap, per_block, message
        self.calls = []

    def __call__(self, method, params):
        assert method == "eth_getLogs"
        first, last = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        self.calls.append((first, last))
        if last - first + 1 > self.cap:
            raise RebError("eth_getLogs at http://node failed: %s" % self.message)
        return [{"blockNumber": hex(b), "n": i} for b in range(first, last + 1) for i in range(self.per_block)]


@pytest.mark.parametrize("message", ["query exceeds max block range 100", "block range is too large",
                                     "query returned more than 10000 results", "Log response size exceeded"])
def test_a_capped_range_is_halved_until_the_node_answers(message):
    node = CappedNode(100, message=message)
    logs, span = reb_index.get_logs_paged(node, "0xabc", 0, 5000, 10000)
    assert [int(log["blockNumber"], 16) for log in logs] == list(range(0, 5001)), "every block exactly once"
    assert all(last - first + 1 <= 10000 for first, last in node.calls)
    assert span <= 200 and len(node.calls) < 120  # it learned the cap instead of asking block by block


def test_an_error_that_is_not_about_the_range_is_raised():
    node = CappedNode(100, message="connection refused")
    with pytest.raises(RebError, match="connection refused"):
        reb_index.get_logs_paged(node, "0xabc", 0, 5000, 1000)
    assert len(node.calls) == 1


def test_a_node_that_refuses_even_one_block_is_an_error():
    node = CappedNode(0)
    with pytest.raises(RebError, match="max block range"):
        reb_index.get_logs_paged(node, "0xabc", 0, 10, 8)
    assert len(node.calls) == 4  # 8, 4, 2, 1 blocks


def test_dense_blocks_shrink_the_span_and_sparse_ones_grow_it():
    dense = CappedNode(10 ** 9, per_block=500)
    logs, span = reb_index.get_logs_paged(dense, "0xabc", 0, 399, 64)
    assert len(logs) == 400 * 500 and span <= 8
    assert max(last - first + 1 for first, last in dense.calls[1:]) <= 32  # no answer of 64 x 500 logs again
    sparse = CappedNode(10 ** 9, per_block=0)
    logs, span = reb_index.get_logs_paged(sparse, "0xabc", 0, 10 ** 6, 16)
    assert logs == [] and span == reb_index.MAX_SPAN and len(sparse.calls) < 120
