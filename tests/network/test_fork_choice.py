"""Fork choice on the consortium network: split two and two, each half seals a branch of its own, and
when the split heals every node settles on one branch and the chain goes on.

This is the split that stalled the network for good before the launcher's patches 16-19
(``scripts/ethereumjs-node.mjs``): with four Clique sealers neither half can go on alone (a sealer may
seal one block in three), so after the heal each half must take the other's branch or keep its own by
the same rule, or no one seals again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from registry.chain.network import Network
from tests.support.network import (
    RunningNetwork,
    needs_ethereumjs,
)

pytestmark = [needs_ethereumjs, pytest.mark.slow, pytest.mark.network]
SIDE_DEADLINE_S = 30.0
CONVERGE_DEADLINE_S = 60.0


@dataclass
class Split:
    """Two halves of the network, cut apart, each holding a branch of its own from their last common block."""

    fork_point: int
    halves: tuple[list[int], list[int]]
    branches: tuple[str, str]
    """The block after the fork point on each half's branch (held by both of its nodes)."""


def _halves_at(network: Network) -> tuple[list[int], list[int]] | None:
    """Each half holding one of the last two blocks' sealers (who may not seal next) and one sealer who may,
    as chain node 0 sees its head now; None when those two sealers are not two members."""
    node_of = {m.sealer.lower(): m.index for m in network.members}
    number = network.head_number(0)
    last, before = (s.lower() if s else None for s in network.sealers_of(0, (number, number - 1)))
    if last not in node_of or before not in node_of or last == before:
        return None
    free = [i for i in range(len(network.nodes)) if i not in (node_of[last], node_of[before])]
    return [node_of[last], free[0]], [node_of[before], free[1]]


def _branches(network: Network, halves: tuple[list[int], list[int]]) -> Split | None:
    """The split as it stands: each half's nodes on one head, and the halves on two branches (else None)."""
    now = network.heads()
    heads = [{now[i] for i in half} for half in halves]
    if any(len(h) != 1 or None in h for h in heads):
        return None
    tops = [next(iter(h)) for h in heads]
    point = min(top[0] for top in tops if top is not None)
    while point > 0 and network.block_hash(halves[0][0], point) != network.block_hash(halves[1][0], point):
        point -= 1
    after = tuple(network.block_hash(half[0], point + 1) for half in halves)
    if None in after:
        return None
    return Split(point, halves, (str(after[0]), str(after[1])))


def _split_so_both_halves_seal(network: Network, timeout: float = 120.0) -> Split:
    """Cut the network in two so that each half seals a branch of its own.

    Which halves can is read from chain node 0's head just before the cut; under load the nodes are seldom
    all on one head at the moment of any read, so what counts is what the halves then do: each must come to
    hold a block of its own after their last common block. When a block slipped in before the cut and one
    half cannot seal, the cut is healed, every node left to peer again, and made anew (a precondition of the
    scenario, not its outcome).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        network.wait_fully_peered(timeout=max(1.0, deadline - time.monotonic()))
        halves = _halves_at(network)
        if halves is None:
            time.sleep(0.05)
            continue
        network.partition(*halves)
        sides_by = time.monotonic() + SIDE_DEADLINE_S
        while time.monotonic() < sides_by:
            if (split := _branches(network, halves)) is not None:
                return split
            time.sleep(0.2)
        network.heal()
    raise AssertionError(f"no cut left each half with a branch of its own within {timeout:.0f} s: "
                         f"heads {network.heads()}")


def test_after_an_even_split_heals_every_node_takes_one_branch_and_the_chain_goes_on(
        consortium_network: RunningNetwork) -> None:
    network = consortium_network.network
    network.wait_for_block(network.head_number(0), timeout=CONVERGE_DEADLINE_S)
    try:
        split = _split_so_both_halves_seal(network)
        time.sleep(3 * network.block_time)  # each half has sealed what it can alone
    finally:
        network.heal()
    tip = max(network.head_number(i) for i in range(len(network.nodes)))
    network.wait_for_block(tip + 2, timeout=CONVERGE_DEADLINE_S)  # raises unless all agree on it
    settled = {network.block_hash(i, split.fork_point + 1) for i in range(len(network.nodes))}
    assert len(settled) == 1 and settled <= set(split.branches), (settled, split)
