"""The registry's exception tree.

Every error the core raises derives from :class:`RegistryError`; the HTTP layer
maps the tree to ``application/problem+json`` in one place and the CLI prints
``str(error)`` as one line.

::

    RegistryError
    ├── ValidationError              bad input; carries the failing field path
    │   ├── CertificateValidationError
    │   └── SealedDocumentError      malformed sealed document / proof
    ├── NotFoundError                unknown certificate, batch, key, receipt
    ├── ConflictError                idempotency clash, illegal status change
    ├── AuthenticationError          no or an invalid API key
    │   └── TooManyAttemptsError     a client failed too often; wait ``retry_after`` s
    ├── PermissionDenied             caller may not do this
    ├── KeyVaultError                key storage / crypto-shredding
    │   ├── KeyDestroyedError        the data key was destroyed (erased)
    │   └── DecryptionError          ciphertext or key failed authentication
    ├── StoreError                   local database problems
    ├── WorkerError                  a background worker did not stop
    ├── WritePending                 accepted, not yet on chain (the API's 202)
    ├── PeerError                    another member node failed or refused
    └── ChainError                   anything from the EVM node
        ├── ChainUnavailableError    node unreachable (verification fails closed)
        │   └── QuorumError          too few RPC endpoints answered, or they disagree
        ├── ContractNotDeployedError no code at the configured address
        ├── TransactionFailedError   mined but reverted / dropped
        └── ContractRevertError      decoded custom error (``name``, ``args``)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class RegistryError(Exception):
    """Root of every error raised by the registry core."""

    title: str = "Registry error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- input ---------------------------------------------------------------------


class ValidationError(RegistryError):
    """Input failed validation; ``errors`` lists ``{"loc": path, "msg": text}``."""

    title = "Invalid input"

    def __init__(self, message: str, errors: list[Mapping[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[Mapping[str, Any]] = list(errors or [])


class CertificateValidationError(ValidationError):
    """A certificate did not satisfy the dataset rules (codes, dates, goods)."""

    title = "Invalid certificate"


class SealedDocumentError(ValidationError):
    """A sealed document is structurally malformed (not merely untrusted)."""

    title = "Malformed sealed document"


# -- lookups and state -----------------------------------------------------------


class NotFoundError(RegistryError):
    """The thing asked for does not exist here."""

    title = "Not found"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!s} not found")
        self.kind = kind
        self.key = key


class ConflictError(RegistryError):
    """The request clashes with existing state (idempotency, status rules)."""

    title = "Conflict"


class AuthenticationError(RegistryError):
    """The caller did not prove who it is (missing or invalid API key)."""

    title = "Unauthorized"


class TooManyAttemptsError(AuthenticationError):
    """A client presented too many invalid keys in a short time; it must wait."""

    title = "Too many failed attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many invalid API keys from this client; try again in {retry_after} s")
        self.retry_after = retry_after


class PermissionDenied(RegistryError):
    """The caller is not entitled to perform this operation."""

    title = "Forbidden"


# -- keys and storage ---------------------------------------------------------------


class KeyVaultError(RegistryError):
    """Problems with data keys, the key-encryption key or encryption."""

    title = "Key vault error"


class KeyDestroyedError(KeyVaultError):
    """The data key for a certificate was destroyed; its contents are gone."""

    title = "Key destroyed"

    def __init__(self, certificate_id: str) -> None:
        super().__init__(f"the data key of certificate {certificate_id} was destroyed")
        self.certificate_id = certificate_id


class DecryptionError(KeyVaultError):
    """Authenticated decryption failed (wrong key, wrong AAD, or tampering)."""

    title = "Decryption failed"


class StoreError(RegistryError):
    """The local store failed (I/O, schema, integrity)."""

    title = "Store error"


class WorkerError(RegistryError):
    """A node's background worker thread did not end when asked to stop."""

    title = "Worker did not stop"

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(f"worker {name} still running {timeout:g} s after it was asked to stop")
        self.name = name


class WritePending(RegistryError):
    """A chain write is recorded and will be sent, but is not on chain yet (not an error: the API answers 202).

    Attributes:
        write_id: the write's id in the node's outbox (``GET /v1/chain-writes/{id}``).
        kind: what it does (``revoke``, ``utilise``, …).
    """

    title = "Accepted, not yet on chain"

    def __init__(self, write_id: int, kind: str, why: str) -> None:
        super().__init__(f"the {kind} (chain write {write_id}) is recorded and will be sent: {why}")
        self.write_id = write_id
        self.kind = kind
        self.shown: dict[str, str] = {}
        """What the answer must carry all the same (the API key minted for a new account)."""


class PeerError(RegistryError):
    """Another member node (e.g. an issuing node asked for a key) failed or refused."""

    title = "Peer node failed"


# -- chain -------------------------------------------------------------------------


class ChainError(RegistryError):
    """Anything that went wrong talking to the EVM chain."""

    title = "Chain error"


class ChainUnavailableError(ChainError):
    """The chain node could not be reached; callers must fail closed."""

    title = "Chain unavailable"


class QuorumError(ChainUnavailableError):
    """Fewer than the quorum of RPC endpoints answered, or those that answered disagree.

    Attributes:
        endpoints: what each endpoint said (``endpoint``, and ``head``, ``block``, ``block_hash``,
            ``answer`` or ``problem``), endpoints named by scheme, host and port only.
        disagree: True when answers contradict each other (not only missing).
    """

    title = "Chain endpoints did not answer alike"

    def __init__(self, message: str, endpoints: Sequence[Mapping[str, Any]], *, disagree: bool) -> None:
        super().__init__(message)
        self.endpoints = [dict(e) for e in endpoints]
        self.disagree = disagree


class ContractNotDeployedError(ChainError):
    """No contract code at the configured address."""

    title = "Contract not deployed"


class TransactionFailedError(ChainError):
    """A transaction was mined but failed, or never got mined."""

    title = "Transaction failed"


class ContractRevertError(ChainError):
    """A contract call reverted with a decoded custom error.

    Attributes:
        name: the Solidity custom error name, e.g. ``CertificateRegistryNotIssuer``.
        args: the decoded error arguments in declaration order.
    """

    title = "Rejected by contract"

    def __init__(self, name: str, args: tuple[Any, ...] = ()) -> None:
        shown = ", ".join(_show(a) for a in args)
        super().__init__(f"{name}({shown})")
        self.name = name
        self.args_decoded = args


def _show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return str(value)
