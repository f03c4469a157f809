"""Typed rows of the node's database: what the store reads and writes."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, NamedTuple

# -- row types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateRow:
    """One registered certificate, as the node knows it (``proof`` as 0x-hex siblings)."""

    id: str
    issuer: str
    certificate_number: str
    fingerprint: bytes
    document_hash: bytes
    mode: str
    status: str
    exporting_country: str
    importing_country: str
    batch_id: int | None
    proof: list[str] | None
    replaces: str | None
    replaced_by: str | None
    revocation_reason: int | None
    created_at: float
    updated_at: float


CERTIFICATE_COLUMNS: str = ", ".join(CertificateRow.__dataclass_fields__)


def certificate_row(row: sqlite3.Row | None) -> CertificateRow | None:
    """Map a ``SELECT {CERTIFICATE_COLUMNS}`` row to a :class:`CertificateRow`."""
    if row is None:
        return None
    data: dict[str, Any] = dict(row)
    data["fingerprint"] = bytes(data["fingerprint"])
    data["document_hash"] = bytes(data["document_hash"])
    data["proof"] = json.loads(data["proof"]) if data["proof"] else None
    return CertificateRow(**data)


@dataclass(frozen=True)
class HeldCertificate:
    """What a verification reads of one of this node's certificates, in one statement.

    No certificate number: a verification never shows it, so it is not decrypted (that would
    unwrap the data key once more). The wrapped data key comes with the row (None once
    destroyed), and the encrypted sealed document when it was asked for, so the key is
    unwrapped at most once per verification and the facts, terms and receipt agree.
    """

    id: str
    issuer: str
    document_hash: bytes
    status: str
    importing_country: str
    proof: list[str] | None
    wrapped_key: bytes | None
    sealed_record: bytes | None = None
    """The encrypted sealed document, when asked for and its terms are not yet sealed apart."""
    sealed_terms: bytes | None = None
    """The committed terms sealed apart under the data key (schema version 14), when asked for."""


def held_certificate(row: sqlite3.Row | None) -> HeldCertificate | None:
    """Map a row of :meth:`registry.storage.store.Store.held_certificate` to a :class:`HeldCertificate`."""
    if row is None:
        return None
    return HeldCertificate(
        id=row[0], issuer=row[1], document_hash=bytes(row[2]), status=row[3], importing_country=row[4],
        proof=json.loads(row[5]) if row[5] else None, wrapped_key=None if row[6] is None else bytes(row[6]),
        sealed_record=None if row[7] is None else bytes(row[7]), sealed_terms=None if row[8] is None else bytes(row[8]))


@dataclass(frozen=True)
class BatchRow:
    """One anchoring batch; ``root``/``tx_hash`` are set once sent, block/time once anchored."""

    id: int
    issuer: str
    mode: str
    root: bytes | None
    state: str
    tx_hash: str | None
    block_number: int | None
    anchored_at: int | None
    size: int
    created_at: float
    nonce: int | None = None
    error: str | None = None
    sent_block: int | None = None
    """The chain head when the batch was sent: its anchoring event is in no earlier block (event scans start
    there, never at block 0)."""


BATCH_COLUMNS: str = ", ".join(BatchRow.__dataclass_fields__)


def batch_row(row: sqlite3.Row) -> BatchRow:
    """Map a ``SELECT {BATCH_COLUMNS}`` row to a :class:`BatchRow`."""
    data: dict[str, Any] = dict(row)
    data["root"] = None if data["root"] is None else bytes(data["root"])
    return BatchRow(**data)


@dataclass(frozen=True)
class IndexedEvent:
    """A contract event as kept in the index (``args`` as JSON text)."""

    tx_hash: str
    log_index: int
    block_number: int
    name: str
    subject: bytes | None
    args: str
    block_time: int | None = None


@dataclass(frozen=True)
class NewCertificate:
    """Everything written, atomically, when a certificate is accepted.

    ``sealed_record`` (the encrypted sealed document) and ``wrapped_key`` are
    normally both given; None leaves them to be added later
    (:meth:`registry.custody.keys.KeyVault.create_key`, ``Store.put_sealed_document``).
    """

    id: str
    issuer: str
    certificate_number: str
    fingerprint: bytes
    document_hash: bytes
    mode: str
    exporting_country: str
    importing_country: str
    sealed_record: bytes | None
    wrapped_key: bytes | None
    replaces: str | None = None
    copy: int = 0
    """0 for an original; n for the n-th certified true copy (same issuer and number)."""
    number_sealed: bytes | None = None
    """The certificate number encrypted under the data key; when given, the store keeps only
    this and a keyed tag of the number (never the number itself)."""
    terms_sealed: bytes | None = None
    """The committed terms encrypted under the data key, apart from the sealed document (what a
    verification by hash reads); None leaves them to be sealed apart at the first verification."""


class PendingGroup(NamedTuple):
    """Unclaimed outbox entries of one (issuer, mode)."""

    issuer: str
    mode: str
    waiting: int


class ClaimedBatch(NamedTuple):
    """A freshly claimed batch and its certificates in acceptance order."""

    batch: BatchRow
    members: list[CertificateRow]
