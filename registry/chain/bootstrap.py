"""The node's own first chain steps, its gas money and its registry's deployment, settled before the node serves.

On a chain without instant finality (Clique) a block seen mined can still be replaced by a
competing one, and a transaction in it may not come back: a node that took its funding or its
deployment for done at depth 1 was left, once the block was replaced, with no gas money (it died on its
first transaction) or with a record of a contract that is not there. Each step here waits until its
block is *depth* deep (:mod:`registry.chain.finality`), checks that its effect is still there, and
does it again if not, a bounded number of times.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient, Deployment
from registry.errors import ChainError, ChainUnavailableError

log = logging.getLogger("coo.chain")

TRIES = 3
"""How many times a step is done before the node gives up (each a full wait for its depth)."""


def wait_for_depth(chain: ChainClient, block: int, depth: int, timeout: float) -> None:
    """Return once the head is at least *depth* blocks on from *block*, its own included.

    Raises:
        ChainUnavailableError: not within *timeout* seconds.
    """
    target = block + depth - 1
    deadline = time.monotonic() + timeout
    while (head := chain.block_number()) < target:
        if time.monotonic() > deadline:
            raise ChainUnavailableError(f"the chain did not reach block {target} within {timeout:.0f} s "
                                        f"(head {head})")
        time.sleep(0.2)


def fund_settled(chain: ChainClient, address: str, depth: int, timeout: float) -> None:
    """Fund *address*; once the transfer is *depth* deep, fund again if the balance is gone.

    Raises:
        ChainError: the chain cannot fund it, or the funding did not stay after :data:`TRIES` tries.
    """
    failure: ChainError | None = None
    for _ in range(TRIES):
        try:
            block = chain.fund(address)
        except ChainError as error:  # e.g. never mined: the node dropped it with a replaced block it sealed
            failure = error
            continue
        if block is None or depth <= 1:
            return
        wait_for_depth(chain, block, depth, timeout)
        if chain.balance(address) > 0:
            return
        log.warning("the funding of %s in block %s left the chain (the block was replaced); funding again",
                    address, block)
    raise ChainError(f"the funding of {address} did not stay on chain after {TRIES} tries"
                     + (f" (last: {failure})" if failure is not None else ""))


def deploy_settled(chain: ChainClient, admin: LocalAccount, record: Path, depth: int,
                   timeout: float) -> Deployment:
    """:meth:`~registry.chain.bindings.CertificateRegistryBinding.ensure_deployed`, and once the deployment
    is *depth* deep, deploy again if the code is no longer at its address (the record is rewritten).

    Raises:
        ChainError: the deployment did not stay on chain after :data:`TRIES` tries.
    """
    for _ in range(TRIES):
        deployment = chain.ensure_deployed(admin, record)
        if depth <= 1:
            return deployment
        wait_for_depth(chain, deployment.block_number, depth, timeout)
        if chain.is_deployed():
            return deployment
        log.warning("the registry deployed at %s in block %s left the chain (the block was replaced); "
                    "deploying again", deployment.address, deployment.block_number)
        chain.reset_nonces()  # the deployment's nonce is free again
    raise ChainError(f"the registry's deployment did not stay on chain after {TRIES} tries")


__all__ = ["TRIES", "deploy_settled", "fund_settled", "wait_for_depth"]
