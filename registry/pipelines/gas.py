"""Gas money for the signers of this process's transactions, before the first one is sent.

A node creates accounts (authorities, issuing bodies, Customs) and funds them where the chain allows
it (:meth:`~registry.services.context.ServiceContext.new_funded_account`). With several API
workers the account is created in a worker, which sends no transaction (:mod:`registry.chain.readonly`)
and so funds nothing; the writer, which sends the account's transactions, funds it instead when it
looks its key up and finds no gas money there (again every :data:`RECHECK_S` seconds: a funding can
be lost in a replaced block).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from eth_account.signers.local import LocalAccount

from registry.chain.bootstrap import fund_settled
from registry.chain.client import ChainClient
from registry.errors import ChainError

log = logging.getLogger("coo.gas")


RECHECK_S = 10.0
"""Seconds after which a signer's gas money is looked at again before its next transaction: a funding transfer
seen mined can be lost in a block the chain replaces (Clique, QBFT before finality), and the account's writes
would then be refused for want of gas for good."""


class FundedSigners:
    """The signing key for an address (as *lookup* gives it), its account funded first if it has nothing."""

    def __init__(self, chain: ChainClient, lookup: Callable[[str], LocalAccount | None],
                 clock: Callable[[], float] = time.monotonic, *, depth: int = 1,
                 settle_timeout: float = 60.0) -> None:
        self.chain = chain
        self.lookup = lookup
        self.clock = clock
        self.depth = depth
        """Blocks a funding needs before it counts (the confirmation depth): on Clique a funding seen mined
        can be lost with its block, and the account's first transaction then refused for want of gas."""
        self.settle_timeout = settle_timeout
        self._checked: dict[str, float] = {}
        """When each address was last seen with gas money (or funded) by this process."""

    def __call__(self, address: str) -> LocalAccount | None:
        signer = self.lookup(address)
        if signer is not None:
            seen = self._checked.get(signer.address)
            if seen is None or self.clock() - seen > RECHECK_S:
                self._fund_if_empty(signer.address)
        return signer

    def _fund_if_empty(self, address: str) -> None:
        """Fund *address* when it has no gas money (a chain that cannot read or fund: left to the send to fail)."""
        with contextlib.suppress(ChainError):
            if self.chain.balance(address) == 0:
                log.info("funding %s, which has no gas money, before its next transaction", address)
                with contextlib.suppress(ChainError):  # a permissioned network funds accounts by its own rules
                    fund_settled(self.chain, address, self.depth, self.settle_timeout)
            self._checked[address] = self.clock()
