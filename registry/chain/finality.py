"""How deep a transaction's block must be before the node counts the write as settled, per consensus.

A write (an anchoring, a revocation, any other chain write) is *mined* once its block
is on the node's chain, and *settled* once that block has enough blocks on top that
the consensus will not take it back. The depth is counted in blocks, the
transaction's own included (1: settled when mined):

* **Anvil** (a single development node, instant mining): 1. There is no other
  sealer that could build a competing branch.
* **QBFT** (Besu, the production target): 1. A QBFT block is final once it is
  added: it carries the commit seals of more than two thirds of the validators,
  and no honest validator commits a second block at the same height.
* **Clique** (the local EthereumJS network): ``N // 2 + 2`` for ``N`` sealers, the
  block and ``N // 2 + 1`` on top. Clique has no finality: two sealers may seal
  the same height and the heavier branch wins, so a block can be reorganised away
  while it is shallow. A sealer may seal only one block in any ``N // 2 + 1``
  consecutive ones, so once ``N // 2 + 1`` blocks are on top, more than half of
  the sealers have built on it; a branch without it would need one of them to
  seal twice on two branches.

A chain that seals at a steady pace also tells when it has *stalled*: see
:func:`clique_stall_after` and :class:`~registry.chain.network.LiveChainClient`.
"""

from __future__ import annotations

from typing import Literal

Consensus = Literal["anvil", "clique", "qbft"]
CONSENSUS: tuple[Consensus, ...] = ("anvil", "clique", "qbft")


def clique_confirmations(sealers: int) -> int:
    """Blocks (its own included) after which a Clique block is settled: it and ``N // 2 + 1`` on top."""
    if sealers < 1:
        raise ValueError("a Clique chain has at least one sealer")
    return sealers // 2 + 2


def confirmations_for(consensus: Consensus, sealers: int = 1) -> int:
    """The confirmation depth *consensus* needs (see the module docstring for why)."""
    if consensus == "clique":
        return clique_confirmations(sealers)
    return 1


def clique_stall_after(block_time: int, sealers: int) -> float:
    """Seconds without a new block after which a Clique chain has stalled (not merely missed a sealer).

    A missing in-turn sealer delays a block by two periods more (the out-of-turn grace of the
    EthereumJS consortium profile) and a random wiggle of up to half a second per sealer; four such
    gaps in a row, at least 10 s.
    """
    return float(max(10, 4 * (3 * block_time + sealers // 2)))
