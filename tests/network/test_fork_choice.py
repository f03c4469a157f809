"""Fork choice on the consortium network: split two and two, each half seals a branch of its own, and
when the split heals every node settles on one branch and the chain goes on.

This is the split that stalled the network for good before the launcher's patches 16-19
(``scripts/ethereumjs-node.mjs``): with four Clique sealers neither half can go on alone (a sealer may
seal one block in three), so after the heal each half must take the other's branch or keep its own by
the same rule, or no one seals again.
"""

from __future__ import annotations

import time

import pytest

from registry.chain.network import Network
from tests.support.network import (
    RunningNetwork,
    needs_ethereumjs,
)

pytestmark = [needs_ethereumjs, pytest.mark.slow, pytest.mark.network]
SIDE_DEADLINE_S = 30.0
CONVERGE_DEADLINE_S = 60.0


def _wait_fully_connected(network: Network, timeout: float = 60.0) -> None:
    """Every node peered with every other (a node that has just restarted may still be dialling)."""
    deadline = time.monotonic() + timeout
    while (counts := network.peer_counts()) != [len(network.nodes) - 1] * len(network.nodes):
        assert time.monotonic() < deadline, f"the nodes are not all peered within {timeout:.0f} s: {counts}"
        time.sleep(0.2)


def _split_so_both_halves_seal(network: Network) -> tuple[int, list[int], list[int]]:
    """Cut the network into two halves, each holding one of the last two blocks' sealers (who may not
    seal next) and one sealer who may, so that each half seals a branch of its own; the head at the cut.

    A block may arrive between looking and cutting; the cut is then healed and made again (a precondition
    of the scenario, not its outcome).
    """
    node_of = {m.sealer.lower(): m.index for m in network.members}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        number = network.head_number(0)
        last, before = (s.lower() if s else None for s in network.sealers_of(0, (number, number - 1)))
        if last in node_of and before in node_of and last != before:
            free = [i for i in range(len(network.nodes)) if i not in (node_of[last], node_of[before])]
            one, other = [node_of[last], free[0]], [node_of[before], free[1]]
            network.partition(one, other)
            if all(h is not None and h[0] == number for h in network.heads()):
                return number, one, other
            network.heal()
        time.sleep(0.05)
    raise AssertionError(f"the nodes never agreed on a head to split at within 60 s: {network.heads()}")


def test_after_an_even_split_heals_every_node_takes_one_branch_and_the_chain_goes_on(
        consortium_network: RunningNetwork) -> None:
    network = consortium_network.network
    network.wait_for_block(network.head_number(0), timeout=CONVERGE_DEADLINE_S)
    _wait_fully_connected(network)
    cut_at, one, other = _split_so_both_halves_seal(network)
    try:
        deadline = time.monotonic() + SIDE_DEADLINE_S
        while time.monotonic() < deadline and min(network.head_number(one[0]), network.head_number(other[0])) <= cut_at:
            time.sleep(0.1)
        held = {tuple(side): {network.block_hash(i, cut_at + 1) for i in side} for side in (one, other)}
        branches = {side: next(iter(hashes)) for side, hashes in held.items() if len(hashes) == 1}
        assert len(branches) == 2 and None not in branches.values() and len(set(branches.values())) == 2, \
            f"each half should seal a block of its own after {cut_at}, held by both its nodes: {held}, " \
            f"heads {network.heads()}"
        time.sleep(3 * network.block_time)  # each half has sealed what it can alone
    finally:
        network.heal()
    tip = max(network.head_number(i) for i in range(len(network.nodes)))
    network.wait_for_block(tip + 2, timeout=CONVERGE_DEADLINE_S)  # raises unless all agree on it
    settled = {network.block_hash(i, cut_at + 1) for i in range(len(network.nodes))}
    assert len(settled) == 1 and settled <= set(branches.values()), (settled, branches)
