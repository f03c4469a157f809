"""What the chain answers, as plain values: document states and views, events, transactions, deployments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from registry.domain.codes import check_country
from registry.errors import (
    ValidationError,
)

CONTRACT_NAME = "CustomsRegistry"
DEFAULT_FUNDING_WEI = 10**21  # 1,000 ether on a development chain
ANCHOR_GAS_LIMIT = 120_000  # a single anchoring uses about 49,300
FEE_CACHE_SECONDS = 2.0


class DocumentState(IntEnum):
    """On-chain lifecycle of one document (mirrors ``ICertificateRegistry.DocumentState``)."""

    ACTIVE = 0
    REVOKED = 1
    SUPERSEDED = 2
    ERASED = 3


@dataclass(frozen=True)
class Deployment:
    """Where the registry contract lives on one chain."""

    chain_id: int
    address: str
    block_number: int
    tx_hash: str

    def to_json(self) -> dict[str, Any]:
        """Return the record stored in the data directory."""
        return {"chain_id": self.chain_id, "address": self.address,
                "block_number": self.block_number, "tx_hash": self.tx_hash}


@dataclass(frozen=True)
class ChainEvent:
    """One decoded contract event."""

    name: str
    block_number: int
    log_index: int
    tx_hash: str
    args: dict[str, Any]
    block_time: int | None = None


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction and the events it emitted."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[ChainEvent, ...]


@dataclass(frozen=True)
class BatchRecord:
    """An anchored batch (``issuer`` is None when the root was never anchored).

    ``state`` is the batch-wide status, which for a batch of one document is that
    document's own status.
    """

    root: bytes
    issuer: str | None
    anchored_at: int
    document_count: int
    state: DocumentState
    reason: int


@dataclass(frozen=True)
class DocumentView:
    """Everything the chain knows about one document, read in a single call."""

    document_hash: bytes
    root: bytes
    issuer: str | None
    country: str | None
    anchored_at: int
    document_count: int
    authorised_at_anchoring: bool
    issuer_active: bool
    state: DocumentState
    reason: int
    changed_at: int
    changed_by: str | None
    replacement: bytes | None
    replacement_root: bytes | None = None
    issuer_name: str | None = None
    authority: str | None = None
    authority_name: str | None = None

    @property
    def anchored(self) -> bool:
        """True when the proof leads to an anchored root."""
        return self.issuer is not None


_ZERO32 = b"\x00" * 32


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_checksum_address(value)


def _country(value: bytes) -> str | None:
    return None if value == b"\x00\x00" else value.decode("ascii")


def _b2(country: str) -> bytes:
    return country.upper().encode("ascii")


def iso_country(country: str) -> str:
    """*country* once it is an ISO 3166-1 alpha-2 code (the contract only checks ``A-Z``).

    Raises:
        ValidationError: not an ISO 3166-1 code (nothing is sent).
    """
    try:
        return check_country(country)
    except ValueError as error:
        raise ValidationError(f"country: {error}", [{"loc": "country", "msg": str(error)}]) from None


def _iso_country(country: str) -> bytes:
    return iso_country(country).encode("ascii")


def certificate_key(root: bytes, document_hash: bytes) -> bytes:
    """``CertificateRegistry.certificateKey``: where the certificate (*root*, *document_hash*) keeps its state."""
    return keccak(root + document_hash)


def _document_view(document_hash: bytes, raw: Sequence[Any]) -> DocumentView:
    (root, issuer, country, anchored_at, count, authorised, active,
     state, reason, changed_at, changed_by, replacement, replacement_root,
     issuer_name, authority, authority_name) = raw
    return DocumentView(
        document_hash=document_hash,
        root=bytes(root),
        issuer=_address_or_none(issuer),
        country=_country(bytes(country)),
        anchored_at=int(anchored_at),
        document_count=int(count),
        authorised_at_anchoring=bool(authorised),
        issuer_active=bool(active),
        state=DocumentState(int(state)),
        reason=int(reason),
        changed_at=int(changed_at),
        changed_by=_address_or_none(changed_by),
        replacement=None if bytes(replacement) == _ZERO32 else bytes(replacement),
        replacement_root=None if bytes(replacement_root) == _ZERO32 else bytes(replacement_root),
        issuer_name=str(issuer_name) or None,
        authority=_address_or_none(authority),
        authority_name=str(authority_name) or None,
    )


__all__ = [
    "ANCHOR_GAS_LIMIT", "BatchRecord", "CONTRACT_NAME", "ChainEvent", "DEFAULT_FUNDING_WEI", "Deployment",
    "DocumentState", "DocumentView", "FEE_CACHE_SECONDS", "TxResult", "certificate_key", "iso_country",
]
