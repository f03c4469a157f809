"""A chain connection that cannot send a transaction: what an API worker process of ``coo up --workers N`` gets.

Only the node's chain writer process sends transactions and counts nonces
(:mod:`registry.pipelines.relay`). The API workers' clients refuse every method
that would put a transaction on the chain, at the JSON-RPC layer, so no code path
in a worker (a binding, a contract deployment, a funding transfer) can race the
writer for a nonce: it fails with :class:`~registry.errors.ChainError` instead.
Development RPCs that set state without a transaction (``anvil_setBalance``)
remain allowed.
"""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.middleware import Web3Middleware

from registry.errors import ChainError

SENDING = frozenset({"eth_sendRawTransaction", "eth_sendTransaction", "eth_signTransaction",
                     "personal_sendTransaction", "eth_sendRawTransactionSync"})
"""JSON-RPC methods that put (or sign, for the node to put) a transaction on the chain."""
NAME = "coo-no-transactions"


class TransactionsForbidden(Web3Middleware):
    """Refuses :data:`SENDING` methods before they leave the process."""

    def request_processor(self, method: Any, params: Any) -> Any:
        if str(method) in SENDING:
            raise ChainError(f"this process sends no transactions ({method}): an API worker records chain "
                             "writes in the store and the node's chain writer sends them")
        return method, params


def forbid_transactions(w3: Web3) -> Web3:
    """Make *w3* refuse every transaction-sending method (idempotent); returns it."""
    if NAME not in w3.middleware_onion:
        w3.middleware_onion.add(TransactionsForbidden, name=NAME)
    return w3


def sends_transactions(w3: Web3) -> bool:
    """Whether *w3* may send transactions (False once :func:`forbid_transactions` was applied)."""
    return NAME not in w3.middleware_onion
