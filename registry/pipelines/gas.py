"""Gas money for the signers of this process's transactions, before the first one is sent.

A node creates accounts (authorities, issuing bodies, Customs) and funds them where the chain allows
it (:meth:`~registry.services.context.ServiceContext.new_funded_account`). With several API
workers the account is created in a worker, which sends no transaction (:mod:`registry.chain.readonly`)
and so funds nothing; the writer, which sends the account's transactions, funds it instead, once,
when it first looks its key up and finds no gas money there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient
from registry.errors import ChainError

log = logging.getLogger("coo.gas")


class FundedSigners:
    """The signing key for an address (as *lookup* gives it), its account funded first if it has nothing."""

    def __init__(self, chain: ChainClient, lookup: Callable[[str], LocalAccount | None]) -> None:
        self.chain = chain
        self.lookup = lookup
        self._checked: set[str] = set()
        """Addresses seen with gas money (or funded) by this process."""

    def __call__(self, address: str) -> LocalAccount | None:
        signer = self.lookup(address)
        if signer is not None and signer.address not in self._checked:
            self._fund_if_empty(signer.address)
        return signer

    def _fund_if_empty(self, address: str) -> None:
        """Fund *address* when it has no gas money (a chain that cannot read or fund: left to the send to fail)."""
        with contextlib.suppress(ChainError):
            if self.chain.balance(address) == 0:
                log.info("funding %s, which has no gas money, before its first transaction", address)
                with contextlib.suppress(ChainError):  # a permissioned network funds accounts by its own rules
                    self.chain.fund(address)
            self._checked.add(address)
