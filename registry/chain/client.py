"""Contract client over web3.py: deploy, every contract function, reads, events.

The only module of the core that imports web3. It works the same against a
managed Anvil, any external JSON-RPC URL (Ganache, Besu, Geth) and an in-process
py-evm chain (eth-tester). Transactions are signed locally with eth-account
(``coincurve`` makes that fast) and nonces are tracked locally per account.

Every revert is decoded into :class:`~registry.errors.ContractRevertError` carrying
the Solidity custom error's name and arguments; an unreachable node becomes
:class:`~registry.errors.ChainUnavailableError` so callers can fail closed.
"""

from __future__ import annotations

from registry.chain.bindings import CertificateRegistryBinding, TrustRegistryBinding
from registry.chain.devchain import DevChain
from registry.chain.models import (
    ANCHOR_GAS_LIMIT,
    CONTRACT_NAME,
    DEFAULT_FUNDING_WEI,
    BatchRecord,
    ChainEvent,
    Deployment,
    DocumentState,
    DocumentView,
    TxResult,
    certificate_key,
    iso_country,
)


class ChainClient(CertificateRegistryBinding, TrustRegistryBinding, DevChain):
    """Client for one deployed registry contract (``CustomsRegistry``) on one chain: the transaction engine
    (:class:`~registry.chain.transport.Transport`), a typed binding per contract, and the development-chain
    tricks.

    Args:
        w3: a connected :class:`~web3.Web3`.
        address: the contract address; ``None`` until :meth:`deploy` or :meth:`use`.
        receipt_timeout: seconds to wait for a transaction to be mined.
    """


__all__ = [
    "ANCHOR_GAS_LIMIT", "CONTRACT_NAME", "DEFAULT_FUNDING_WEI", "BatchRecord", "ChainClient", "ChainEvent",
    "Deployment", "DocumentState", "DocumentView", "TxResult", "certificate_key", "iso_country",
]
