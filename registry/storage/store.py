"""The node's local store: SQLite in WAL mode.

Holds certificate records, their encrypted sealed documents and wrapped data
keys, the **outbox** of accepted-but-not-yet-anchored certificates and the
batches that anchor them, the chain-event index, destruction receipts, the
verification audit log and API keys. The schema lives in :mod:`registry.storage.database`
and is migrated when the store opens.

Threads: safe to share between FastAPI worker threads and the background
workers. Each thread gets its own connection (:class:`registry.storage.database.Database`):
WAL lets readers run beside the single writer, and writers serialise on
``BEGIN IMMEDIATE``.

Every multi-row write happens in one transaction (:meth:`Store.transaction`), so
a crash never leaves a half-written record. Erasure does not rely on SQLite
forgetting deleted rows (``secure_delete``, WAL truncation): see
:mod:`registry.custody.vault` for why what it keeps is unreadable.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from registry.custody.apikeys import Principal, Role, StoredKey
from registry.domain.states import BatchState, CertificateStatus
from registry.errors import ConflictError, NotFoundError
from registry.storage.database import (
    BATCH_COLUMNS,
    CERTIFICATE_COLUMNS,
    MIGRATIONS,
    BatchRow,
    CertificateRow,
    ClaimedBatch,
    Database,
    IndexedEvent,
    NewCertificate,
    PendingGroup,
    batch_row,
    certificate_row,
)

__all__ = ["MIGRATIONS", "BatchRow", "Database", "CertificateRow", "ClaimedBatch", "Erasure", "IndexedEvent",
           "NewCertificate", "NumberSealer", "PendingGroup", "ReceiptRecord", "Store"]

_SELECT_CERT = f"SELECT {CERTIFICATE_COLUMNS}, number_sealed FROM certificates"


class NumberSealer(Protocol):
    """What keeps certificate numbers out of the database in clear (the key vault).

    The ``certificate_number`` column then holds a keyed tag of (issuer, number),
    and ``number_sealed`` the number encrypted under the certificate's data key.
    """

    def number_tag(self, issuer: str, number: str) -> str:
        """The lookup tag of (issuer, number) under the current epoch."""

    def reveal_number(self, certificate_id: str, issuer: str, sealed: bytes) -> str:
        """The certificate number, decrypted ("" when the key is gone)."""


@dataclass(frozen=True)
class ReceiptRecord:
    """One verification receipt in the audit log; ``contents`` is the report sealed under the data key."""

    id: str
    document_hash: bytes | None
    issuer: str | None
    importing_country: str | None
    verdict: str
    report_hash: str
    checked_at: str
    chain_head: int | None
    node_account: str
    signature: str
    contents: bytes | None


class ErasureState(StrEnum):
    """Where an erasure stands on this node."""

    ERASING = "erasing"
    """The key is deleted; the key epoch that wrapped it is not closed yet."""
    ERASED = "erased"
    """The epoch is closed: nothing on disk opens the certificate any more."""


@dataclass(frozen=True)
class Erasure:
    """The erasure of one certificate on this node: ``erasing`` until its key epoch is closed, then ``erased``."""

    document_hash: bytes
    certificate_id: str | None
    role: str
    state: ErasureState
    started_at: float
    finished_at: float | None


_RECEIPT_COLUMNS = ", ".join(ReceiptRecord.__dataclass_fields__)
_ERASURE_COLUMNS = ", ".join(Erasure.__dataclass_fields__)


class Store(Database):
    """Typed access to the node's SQLite database at *path* (created and migrated on open).

    Raises:
        StoreError: the file cannot be opened, WAL is unavailable, or migration failed.
    """

    _sealer: NumberSealer | None = None

    def attach_sealer(self, sealer: NumberSealer) -> None:
        """From now on keep certificate numbers only sealed and tagged by *sealer* (the key vault)."""
        self._sealer = sealer

    def _number_key(self, issuer: str, certificate_number: str) -> str:
        return certificate_number if self._sealer is None else self._sealer.number_tag(issuer, certificate_number)

    def _row(self, row: sqlite3.Row | None) -> CertificateRow | None:
        """A certificate row with its number revealed (sealed numbers are decrypted; erased ones are "")."""
        if row is None:
            return None
        data = dict(row)
        sealed = data.pop("number_sealed", None)
        found = certificate_row(data)  # type: ignore[arg-type]
        assert found is not None
        if sealed is not None and self._sealer is not None:
            return replace(found, certificate_number=self._sealer.reveal_number(found.id, found.issuer, bytes(sealed)))
        if found.status == CertificateStatus.ERASED:
            return replace(found, certificate_number="")
        return found

    # -- certificates ------------------------------------------------------------------

    def copies_of(self, issuer: str, certificate_number: str) -> int:
        """How many certified true copies (issuer, number) has."""
        rows = self._query("SELECT MAX(copy) FROM certificates WHERE issuer = ? AND certificate_number = ?",
                           (issuer, self._number_key(issuer, certificate_number)))
        return int(rows[0][0] or 0)

    def insert_certificate(self, item: NewCertificate) -> CertificateRow:
        """Accept one certificate; see :meth:`insert_certificates`.

        Raises:
            ConflictError: same (issuer, number) with a different fingerprint, or a known document hash.
        """
        return self.insert_certificates([item])[0]

    def insert_certificates(self, items: Sequence[NewCertificate]) -> list[CertificateRow]:
        """Accept certificates: record, sealed document, wrapped key and outbox entry, all or none.

        Idempotent per (issuer, certificate number): a resubmission with the same
        request fingerprint returns the existing row and writes nothing.

        Returns:
            One row per item, in order (existing rows for resubmissions).

        Raises:
            ConflictError: a number already registered with different contents, or a
                document hash already registered (nothing of the call is written).
        """
        now = time.time()
        out: list[CertificateRow] = []
        with self.transaction() as conn:
            for item in items:
                number = item.certificate_number
                if item.number_sealed is not None:
                    number = self._number_key(item.issuer, item.certificate_number)
                existing = self._row(conn.execute(
                    f"{_SELECT_CERT} WHERE issuer = ? AND certificate_number = ? AND copy = ?",
                    (item.issuer, number, item.copy)).fetchone())
                if existing is not None:
                    if not hmac.compare_digest(existing.fingerprint, item.fingerprint):
                        raise ConflictError(
                            f"certificate number {item.certificate_number} is already registered by this issuer "
                            "with different contents")
                    out.append(existing)
                    continue
                if conn.execute("SELECT 1 FROM certificates WHERE document_hash = ?", (item.document_hash,)).fetchone():
                    raise ConflictError(f"document hash 0x{item.document_hash.hex()} is already registered")
                conn.execute(
                    "INSERT INTO certificates (id, issuer, certificate_number, fingerprint, document_hash, mode,"
                    " status, exporting_country, importing_country, replaces, created_at, updated_at, copy,"
                    " number_sealed) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
                    (item.id, item.issuer, number, item.fingerprint, item.document_hash, item.mode,
                     item.exporting_country, item.importing_country, item.replaces, now, now, item.copy,
                     item.number_sealed))
                if item.sealed_record is not None:
                    conn.execute("INSERT INTO sealed_documents (certificate_id, ciphertext) VALUES (?, ?)",
                                 (item.id, item.sealed_record))
                if item.wrapped_key is not None:
                    conn.execute("INSERT INTO wrapped_keys (certificate_id, wrapped, created_at) VALUES (?, ?, ?)",
                                 (item.id, item.wrapped_key, now))
                conn.execute("INSERT INTO outbox (certificate_id, issuer, mode, enqueued_at) VALUES (?, ?, ?, ?)",
                             (item.id, item.issuer, item.mode, now))
                row = self._row(conn.execute(f"{_SELECT_CERT} WHERE id = ?", (item.id,)).fetchone())
                assert row is not None
                out.append(row)
        return out

    def certificate(self, certificate_id: str) -> CertificateRow:
        """The certificate with *certificate_id*.

        Raises:
            NotFoundError: if there is none.
        """
        rows = self._query(f"{_SELECT_CERT} WHERE id = ?", (certificate_id,))
        row = self._row(rows[0] if rows else None)
        if row is None:
            raise NotFoundError("certificate", certificate_id)
        return row

    def by_document_hash(self, document_hash: bytes) -> CertificateRow | None:
        """The certificate with *document_hash*, or None if this node did not register it."""
        rows = self._query(f"{_SELECT_CERT} WHERE document_hash = ?", (document_hash,))
        return self._row(rows[0]) if rows else None

    def by_number(self, issuer: str, certificate_number: str) -> CertificateRow | None:
        """The certificate of (issuer, certificate number), or None (numbers are unique per issuer only).

        After a certified true copy, the number names the latest copy.
        """
        rows = self._query(f"{_SELECT_CERT} WHERE issuer = ? AND certificate_number = ? ORDER BY copy DESC LIMIT 1",
                           (issuer, self._number_key(issuer, certificate_number)))
        return self._row(rows[0]) if rows else None

    def set_status(self, certificate_id: str, status: str, *, reason: int | None = None,
                   replaced_by: str | None = None) -> None:
        """Record a status change made on chain (``erased`` is final and set only by :meth:`shred`).

        Raises:
            NotFoundError: unknown certificate.
            StoreError: unknown status, or an erased certificate.
        """
        with self.transaction() as conn:
            changed = conn.execute(
                "UPDATE certificates SET status = ?, revocation_reason = COALESCE(?, revocation_reason),"
                " replaced_by = COALESCE(?, replaced_by), updated_at = ? WHERE id = ?",
                (status, reason, replaced_by, time.time(), certificate_id)).rowcount
            if not changed:
                raise NotFoundError("certificate", certificate_id)

    def status_changes_since(self, since: float) -> list[CertificateRow]:
        """Anchored certificates revoked, superseded or erased here at or after *since* (local time), oldest first."""
        rows = self._query(f"{_SELECT_CERT} WHERE status IN ('revoked', 'superseded', 'erased') AND proof IS NOT NULL"
                           " AND updated_at >= ? ORDER BY updated_at", (since,))
        return [c for c in map(self._row, rows) if c is not None]

    def count_by_status(self) -> dict[str, int]:
        """How many certificates are in each status."""
        return {r[0]: r[1] for r in self._query("SELECT status, COUNT(*) FROM certificates GROUP BY status")}

    # -- keys and sealed documents -------------------------------------------------------

    def wrapped_key(self, certificate_id: str) -> bytes | None:
        """The wrapped data key, or None (never stored, or destroyed)."""
        rows = self._query("SELECT wrapped FROM wrapped_keys WHERE certificate_id = ?", (certificate_id,))
        return bytes(rows[0][0]) if rows else None

    def sealed_record(self, certificate_id: str) -> bytes | None:
        """The encrypted sealed document, or None (never stored, or destroyed)."""
        rows = self._query("SELECT ciphertext FROM sealed_documents WHERE certificate_id = ?", (certificate_id,))
        return bytes(rows[0][0]) if rows else None

    def _put_secret(self, table: str, certificate_id: str, columns: Mapping[str, object]) -> None:
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM certificates WHERE id = ?", (certificate_id,)).fetchone() is None:
                raise NotFoundError("certificate", certificate_id)
            if conn.execute("SELECT 1 FROM destruction_receipts WHERE certificate_id = ?",
                            (certificate_id,)).fetchone():
                raise ConflictError(f"certificate {certificate_id} was erased; nothing can be added to it")
            if conn.execute(f"SELECT 1 FROM {table} WHERE certificate_id = ?", (certificate_id,)).fetchone():
                raise ConflictError(f"certificate {certificate_id} already has one ({table})")
            names = ", ".join(columns)
            conn.execute(f"INSERT INTO {table} (certificate_id, {names}) VALUES (?{', ?' * len(columns)})",
                         (certificate_id, *columns.values()))

    def put_wrapped_key(self, certificate_id: str, wrapped: bytes) -> None:
        """Store the wrapped data key of a certificate recorded without one.

        Raises:
            NotFoundError: unknown certificate.
            ConflictError: it already has a key, or it was erased (never re-keyed).
        """
        self._put_secret("wrapped_keys", certificate_id, {"wrapped": wrapped, "created_at": time.time()})

    def put_sealed_document(self, certificate_id: str, ciphertext: bytes) -> None:
        """Store the encrypted sealed document of a certificate recorded without one.

        Raises:
            NotFoundError: unknown certificate.
            ConflictError: it already has one, or it was erased.
        """
        self._put_secret("sealed_documents", certificate_id, {"ciphertext": ciphertext})

    def shred(self, certificate_id: str, receipt: Mapping[str, Any]) -> bool:
        """Delete the wrapped key and sealed document, keep *receipt*, mark ``erased``: one transaction.

        WARNING: irreversible. An unclaimed outbox entry is dropped too (an erased
        certificate is not anchored afterwards), and so are the number's tag, the
        fingerprint and the receipts' sealed contents. The erasure is recorded as
        ``erasing``: the key vault closes the key epoch next (:meth:`rekey`).

        Returns:
            False if the certificate was already shredded (nothing changes).

        Raises:
            NotFoundError: unknown certificate.
        """
        now = time.time()
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM certificates WHERE id = ?", (certificate_id,)).fetchone() is None:
                raise NotFoundError("certificate", certificate_id)
            if conn.execute("SELECT 1 FROM destruction_receipts WHERE certificate_id = ?",
                            (certificate_id,)).fetchone():
                return False
            document_hash = bytes(conn.execute("SELECT document_hash FROM certificates WHERE id = ?",
                                               (certificate_id,)).fetchone()[0])
            conn.execute("DELETE FROM wrapped_keys WHERE certificate_id = ?", (certificate_id,))
            conn.execute("DELETE FROM sealed_documents WHERE certificate_id = ?", (certificate_id,))
            conn.execute("DELETE FROM outbox WHERE certificate_id = ? AND batch_id IS NULL", (certificate_id,))
            conn.execute("INSERT INTO destruction_receipts (certificate_id, receipt, created_at) VALUES (?, ?, ?)",
                         (certificate_id, json.dumps(dict(receipt), sort_keys=True), now))
            conn.execute("UPDATE certificates SET status = 'erased', certificate_number = 'erased:' || id,"
                         " number_sealed = NULL, fingerprint = x'', updated_at = ? WHERE id = ?",
                         (now, certificate_id))
            begin_erasure(conn, document_hash, certificate_id, "issued", now)
        return True


    # -- key epochs and erasures ---------------------------------------------------------

    def rekey(self, rewrap: Callable[[str, bytes], bytes], rewrap_released: Callable[[bytes, bytes], bytes],
              retag: Callable[[str, str, str, bytes | None, bytes], tuple[str, bytes]]) -> int:
        """Re-wrap every stored data key, re-tag every certificate number, finish every erasure: one transaction.

        Args:
            rewrap: (certificate id, wrapped key) -> the key wrapped under the new epoch.
            rewrap_released: (document hash, wrapped key) -> the released key wrapped under the new epoch.
            retag: (certificate id, issuer, stored number, sealed number or None, wrapped key) ->
                (new tag, sealed number); a None sealed number means the stored number is in clear.

        Returns:
            How many erasures this completed (``erasing`` -> ``erased``).
        """
        now = time.time()
        with self.transaction() as conn:
            numbered = conn.execute(
                "SELECT c.id, c.issuer, c.certificate_number, c.number_sealed, w.wrapped FROM certificates c"
                " JOIN wrapped_keys w ON w.certificate_id = c.id WHERE c.status <> 'erased'").fetchall()
            for cid, issuer, number, sealed, wrapped in numbered:
                tag, sealed = retag(cid, issuer, number, None if sealed is None else bytes(sealed), bytes(wrapped))
                conn.execute("UPDATE certificates SET certificate_number = ?, number_sealed = ? WHERE id = ?",
                             (tag, sealed, cid))
            for cid, wrapped in conn.execute("SELECT certificate_id, wrapped FROM wrapped_keys").fetchall():
                conn.execute("UPDATE wrapped_keys SET wrapped = ? WHERE certificate_id = ?",
                             (rewrap(cid, bytes(wrapped)), cid))
            for digest, wrapped in conn.execute("SELECT document_hash, wrapped FROM released_keys").fetchall():
                conn.execute("UPDATE released_keys SET wrapped = ? WHERE document_hash = ?",
                             (rewrap_released(bytes(digest), bytes(wrapped)), digest))
            return conn.execute("UPDATE erasures SET state = 'erased', finished_at = ? WHERE state = 'erasing'",
                                (now,)).rowcount

    def erasing(self) -> bool:
        """True while an erasure waits for its key epoch to close (after a crash, until the next start)."""
        return bool(self._query("SELECT 1 FROM erasures WHERE state = 'erasing' LIMIT 1"))

    def erasure(self, document_hash: bytes) -> Erasure | None:
        """The erasure of *document_hash* on this node, if any."""
        rows = self._query(f"SELECT {_ERASURE_COLUMNS} FROM erasures WHERE document_hash = ?", (document_hash,))
        if not rows:
            return None
        _, certificate_id, role, state, started_at, finished_at = tuple(rows[0])
        return Erasure(bytes(rows[0][0]), certificate_id, role, ErasureState(state), started_at, finished_at)

    def count_erasures(self) -> dict[str, int]:
        """How many erasures are in each state."""
        return {r[0]: r[1] for r in self._query("SELECT state, COUNT(*) FROM erasures GROUP BY state")}

    def unacknowledged_erasures(self) -> list[tuple[bytes, str]]:
        """(document hash, issuer) of released keys destroyed here but not yet acknowledged to their issuer."""
        rows = self._query("SELECT document_hash, issuer FROM erasures WHERE role = 'released' AND state = 'erased'"
                           " AND acknowledged = 0 AND issuer IS NOT NULL")
        return [(bytes(r[0]), r[1]) for r in rows]

    def mark_acknowledged(self, document_hash: bytes) -> None:
        """The issuing node received this node's acknowledgement of *document_hash*."""
        with self.transaction() as conn:
            conn.execute("UPDATE erasures SET acknowledged = 1 WHERE document_hash = ?", (document_hash,))

    def add_acknowledgement(self, document_hash: bytes, node_account: str, country: str, acknowledged_at: str,
                            signature: str) -> None:
        """Keep a peer's signed acknowledgement that it destroyed its copy of the key (once per peer)."""
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO erasure_acknowledgements VALUES (?, ?, ?, ?, ?, ?)",
                         (document_hash, node_account, country, acknowledged_at, signature, time.time()))

    def acknowledgements(self, document_hash: bytes) -> list[dict[str, str]]:
        """The peers that confirmed destroying the key of *document_hash*, oldest first."""
        rows = self._query("SELECT node_account, country, acknowledged_at, signature FROM erasure_acknowledgements"
                           " WHERE document_hash = ? ORDER BY received_at", (document_hash,))
        return [{"node_account": r[0], "country": r[1], "acknowledged_at": r[2], "signature": r[3]} for r in rows]

    def destruction_receipt(self, certificate_id: str) -> dict[str, Any] | None:
        """The destruction receipt of an erased certificate, or None if its key was never destroyed."""
        rows = self._query("SELECT receipt FROM destruction_receipts WHERE certificate_id = ?", (certificate_id,))
        return json.loads(rows[0][0]) if rows else None

    # -- outbox and batches --------------------------------------------------------------

    def pending_groups(self) -> list[PendingGroup]:
        """(issuer, mode, count) of unclaimed outbox entries."""
        rows = self._query("SELECT issuer, mode, COUNT(*) FROM outbox WHERE batch_id IS NULL"
                           " GROUP BY issuer, mode ORDER BY MIN(seq)")
        return [PendingGroup(r[0], r[1], r[2]) for r in rows]

    def oldest_pending_age(self) -> float | None:
        """Seconds since the oldest unclaimed entry was accepted (None when nothing waits)."""
        rows = self._query("SELECT MIN(enqueued_at) FROM outbox WHERE batch_id IS NULL")
        return None if rows[0][0] is None else time.time() - rows[0][0]

    def claim_batch(self, issuer: str, mode: str, limit: int) -> ClaimedBatch | None:
        """Claim up to *limit* unclaimed entries of (issuer, mode), oldest first, into a new ``sending`` batch.

        One transaction: two workers never claim the same entry.

        Returns:
            The batch and its certificates in acceptance order, or None when nothing is pending.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT certificate_id FROM outbox WHERE issuer = ? AND mode = ? AND batch_id IS NULL"
                " ORDER BY seq LIMIT ?", (issuer, mode, limit))]
            if not ids:
                return None
            batch_id = conn.execute(
                "INSERT INTO batches (issuer, mode, state, size, created_at) VALUES (?, ?, 'sending', ?, ?)",
                (issuer, mode, len(ids), time.time())).lastrowid
            marks = ",".join("?" * len(ids))
            conn.execute(f"UPDATE outbox SET batch_id = ? WHERE certificate_id IN ({marks})", (batch_id, *ids))
            conn.execute(f"UPDATE certificates SET batch_id = ? WHERE id IN ({marks})", (batch_id, *ids))
            rows = conn.execute(f"{_SELECT_CERT} WHERE id IN ({marks})", ids).fetchall()
            batch = batch_row(conn.execute(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone())
        order = {cid: i for i, cid in enumerate(ids)}
        members = sorted((c for c in map(self._row, rows) if c is not None), key=lambda c: order[c.id])
        return ClaimedBatch(batch, members)

    def _batch_state(self, conn: sqlite3.Connection, batch_id: int) -> str:
        row = conn.execute("SELECT state FROM batches WHERE id = ?", (batch_id,)).fetchone()
        if row is None:
            raise NotFoundError("batch", str(batch_id))
        return str(row[0])

    def mark_batch_sent(self, batch_id: int, root: bytes, tx_hash: str, nonce: int | None = None) -> None:
        """Record the root and the anchoring transaction (before waiting for its receipt).

        Raises:
            NotFoundError: unknown batch.
            ConflictError: the batch is already anchored or was released.
        """
        with self.transaction() as conn:
            state = self._batch_state(conn, batch_id)
            if state not in (BatchState.SENDING, BatchState.SENT):
                raise ConflictError(f"batch {batch_id} is {state}; it cannot be marked sent")
            conn.execute("UPDATE batches SET root = ?, tx_hash = ?, nonce = COALESCE(?, nonce), state = 'sent'"
                         " WHERE id = ?", (root, tx_hash, nonce, batch_id))

    def mark_batch_anchored(self, batch_id: int, block_number: int, anchored_at: int, proofs: Mapping[str, list[str]],
                            *, root: bytes | None = None, tx_hash: str | None = None) -> None:
        """Mark a batch mined: members become ``anchored`` with their proofs; their outbox entries go.

        Idempotent for an anchored batch. *root*/*tx_hash* fill in what was not
        recorded by :meth:`mark_batch_sent` (a batch settled from the chain after a crash).

        Raises:
            NotFoundError: unknown batch.
            ConflictError: the batch was released (``failed``); its members may be in another batch.
        """
        now = time.time()
        with self.transaction() as conn:
            state = self._batch_state(conn, batch_id)
            if state == BatchState.FAILED:
                raise ConflictError(f"batch {batch_id} was released; it cannot be marked anchored")
            conn.execute("UPDATE batches SET state = 'anchored', block_number = ?, anchored_at = ?,"
                         " root = COALESCE(?, root), tx_hash = COALESCE(?, tx_hash) WHERE id = ?",
                         (block_number, anchored_at, root, tx_hash, batch_id))
            for certificate_id, proof in proofs.items():
                conn.execute("UPDATE certificates SET proof = ?, updated_at = ?,"
                             " status = CASE status WHEN 'pending' THEN 'anchored' ELSE status END"
                             " WHERE id = ? AND batch_id = ?", (json.dumps(proof), now, certificate_id, batch_id))
            conn.execute("DELETE FROM outbox WHERE batch_id = ?", (batch_id,))

    def release_batch(self, batch_id: int, why: str) -> None:
        """Mark a batch ``failed`` and give its certificates back to the outbox, to be claimed again.

        Use only when its transaction is known not to have been mined (or was never
        sent): a released root that mines later is still anchored on chain.

        Raises:
            NotFoundError: unknown batch.
            ConflictError: the batch is anchored.
        """
        with self.transaction() as conn:
            state = self._batch_state(conn, batch_id)
            if state == BatchState.ANCHORED:
                raise ConflictError(f"batch {batch_id} is anchored; it cannot be released")
            conn.execute("UPDATE batches SET state = 'failed', error = ? WHERE id = ?", (why[:200], batch_id))
            conn.execute("UPDATE outbox SET batch_id = NULL WHERE batch_id = ?", (batch_id,))
            conn.execute("UPDATE certificates SET batch_id = NULL WHERE batch_id = ?", (batch_id,))

    def anchored_since(self, block_number: int) -> list[BatchRow]:
        """Anchored batches mined after *block_number* (the ones a reorg could still undo)."""
        return [batch_row(r) for r in self._query(
            f"SELECT {BATCH_COLUMNS} FROM batches WHERE state = 'anchored' AND block_number > ? ORDER BY id",
            (block_number,))]

    def unanchor_batch(self, batch_id: int, why: str) -> int:
        """A reorg dropped this batch's root: mark it ``failed`` and put its certificates back in the outbox.

        Returns:
            How many certificates went back to ``pending``.
        """
        now = time.time()
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM certificates WHERE batch_id = ? AND status = 'anchored'", (batch_id,))]
            conn.execute("UPDATE batches SET state = 'failed', error = ? WHERE id = ?", (why[:200], batch_id))
            for certificate_id in ids:
                conn.execute("UPDATE certificates SET status = 'pending', batch_id = NULL, proof = NULL, updated_at = ?"
                             " WHERE id = ?", (now, certificate_id))
                conn.execute("INSERT INTO outbox (certificate_id, issuer, mode, enqueued_at)"
                             " SELECT id, issuer, mode, ? FROM certificates WHERE id = ?", (now, certificate_id))
        return len(ids)

    def unfinished_batches(self) -> list[BatchRow]:
        """Batches ``sending`` or ``sent`` (to settle after a crash), oldest first."""
        return [batch_row(r) for r in self._query(
            f"SELECT {BATCH_COLUMNS} FROM batches WHERE state IN ('sending', 'sent') ORDER BY id")]

    def batch(self, batch_id: int) -> BatchRow:
        """The batch with *batch_id*.

        Raises:
            NotFoundError: unknown batch.
        """
        rows = self._query(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,))
        if not rows:
            raise NotFoundError("batch", str(batch_id))
        return batch_row(rows[0])

    def batch_members(self, batch_id: int) -> list[CertificateRow]:
        """Certificates of an unfinished batch, in acceptance order (empty once anchored or released)."""
        columns = ", ".join("c." + c for c in (*CertificateRow.__dataclass_fields__, "number_sealed"))
        rows = self._query(f"SELECT {columns} FROM certificates c JOIN outbox o ON o.certificate_id = c.id"
                           " WHERE o.batch_id = ? ORDER BY o.seq", (batch_id,))
        return [c for c in map(self._row, rows) if c is not None]

    # -- chain event index -------------------------------------------------------------

    def last_indexed_block(self) -> int:
        """The last block whose events are indexed (-1 before the first sync)."""
        rows = self._query("SELECT last_block FROM sync_state WHERE id = 1")
        return int(rows[0][0]) if rows else -1

    def has_legacy_wrapping(self, legacy_length: int) -> bool:
        """Whether any key is still wrapped in the pre-epoch format (*legacy_length* bytes), or any live
        certificate still keeps its number in clear (both are migrated when the vault opens)."""
        rows = self._query(
            "SELECT 1 FROM wrapped_keys WHERE length(wrapped) = ? UNION ALL SELECT 1 FROM released_keys"
            " WHERE length(wrapped) = ? UNION ALL SELECT 1 FROM certificates WHERE number_sealed IS NULL"
            " AND status <> 'erased' AND id IN (SELECT certificate_id FROM wrapped_keys) LIMIT 1",
            (legacy_length, legacy_length))
        return bool(rows)

    def events_for(self, subject: bytes) -> list[IndexedEvent]:
        """Indexed events about one document hash, batch root or account, in chain order."""
        rows = self._query("SELECT tx_hash, log_index, block_number, name, subject, args, block_time FROM chain_events"
                           " WHERE subject = ? ORDER BY block_number, log_index", (subject,))
        return [IndexedEvent(r[0], r[1], r[2], r[3], None if r[4] is None else bytes(r[4]), r[5], r[6]) for r in rows]

    # -- audit log and API keys ----------------------------------------------------------

    def append_audit(self, receipt_id: str, receipt: Mapping[str, Any]) -> None:
        """Append a signed verification receipt to the audit log.

        Raises:
            ConflictError: *receipt_id* is already in the log (entries are never overwritten).
        """
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM audit_log WHERE id = ?", (receipt_id,)).fetchone():
                raise ConflictError(f"verification receipt {receipt_id} is already in the audit log")
            conn.execute("INSERT INTO audit_log (id, receipt, created_at) VALUES (?, ?, ?)",
                         (receipt_id, json.dumps(dict(receipt)), time.time()))

    def audit_entry(self, receipt_id: str) -> dict[str, Any]:
        """A verification receipt by id.

        Raises:
            NotFoundError: unknown id.
        """
        rows = self._query("SELECT receipt FROM audit_log WHERE id = ?", (receipt_id,))
        if not rows:
            raise NotFoundError("verification receipt", receipt_id)
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def add_receipt(self, record: ReceiptRecord) -> None:
        """Append a signed verification receipt (its contents already sealed) to the audit log.

        Raises:
            ConflictError: the id is already in the log (entries are never overwritten).
        """
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM verification_receipts WHERE id = ?", (record.id,)).fetchone():
                raise ConflictError(f"verification receipt {record.id} is already in the audit log")
            values = tuple(record.__dict__.values())
            conn.execute(f"INSERT INTO verification_receipts ({_RECEIPT_COLUMNS}, created_at)"
                         f" VALUES ({', '.join('?' * len(values))}, ?)", (*values, time.time()))

    def receipt(self, receipt_id: str) -> ReceiptRecord:
        """A verification receipt by id.

        Raises:
            NotFoundError: unknown id.
        """
        rows = self._query(f"SELECT {_RECEIPT_COLUMNS} FROM verification_receipts WHERE id = ?", (receipt_id,))
        if not rows:
            raise NotFoundError("verification receipt", receipt_id)
        data = dict(rows[0])
        for name in ("document_hash", "contents"):
            data[name] = None if data[name] is None else bytes(data[name])
        return ReceiptRecord(**data)

    def prune_audit(self, before: float) -> int:
        """Delete the verification receipts and key-release entries of the audit log filed before *before*
        (``time.time()`` seconds), in one transaction (the retention policy, :mod:`registry.pipelines.retention`).

        WARNING: irreversible; a receipt a party already holds stays verifiable by its signature.

        Returns:
            How many rows were deleted (both tables).
        """
        with self.transaction() as conn:
            return sum(conn.execute(f"DELETE FROM {table} WHERE created_at < ?", (before,)).rowcount
                       for table in ("verification_receipts", "audit_log"))

    def save_api_key(self, key: StoredKey) -> None:
        """Persist a minted API key (salted hash only)."""
        p = key.principal
        with self.transaction() as conn:
            conn.execute("INSERT INTO api_keys (key_id, role, country, account, label, salt, digest, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (p.key_id, p.role.value, p.country, p.account, p.label, key.salt, key.digest, time.time()))

    def load_api_key(self, key_id: str) -> StoredKey | None:
        """An API key record by id, or None."""
        rows = self._query("SELECT key_id, role, country, account, label, salt, digest FROM api_keys WHERE key_id = ?",
                           (key_id,))
        if not rows:
            return None
        r = rows[0]
        principal = Principal(r["key_id"], Role(r["role"]), r["country"], r["account"], r["label"])
        return StoredKey(principal, bytes(r["salt"]), bytes(r["digest"]))

    def count_api_keys(self) -> int:
        """How many API keys exist."""
        return int(self._query("SELECT COUNT(*) FROM api_keys")[0][0])



def begin_erasure(conn: sqlite3.Connection, document_hash: bytes, certificate_id: str | None, role: str,
                  now: float, issuer: str | None = None) -> None:
    """Drop the sealed contents of the document's receipts and record its erasure as ``erasing``
    (inside the caller's transaction; the key vault closes the epoch and marks it ``erased``)."""
    conn.execute("UPDATE verification_receipts SET contents = NULL WHERE document_hash = ?", (document_hash,))
    conn.execute("INSERT INTO erasures (document_hash, certificate_id, role, state, started_at, issuer)"
                 " VALUES (?, ?, ?, 'erasing', ?, ?) ON CONFLICT (document_hash) DO UPDATE SET state = 'erasing',"
                 " finished_at = NULL", (document_hash, certificate_id, role, now, issuer))


def shred_released(conn: sqlite3.Connection, document_hash: bytes, issuer: str) -> bool:
    """Delete the key *issuer* released to this node for *document_hash* (that issuer's certificate
    was erased on chain) and record the erasure, inside the caller's transaction.

    Only *issuer*'s key goes: another issuer anchoring the same hash under its own root
    cannot make this node drop it (see ``CertificateRegistry``'s keying).

    WARNING: irreversible.

    Returns:
        True if this node held the key.
    """
    held = conn.execute("SELECT issuer FROM released_keys WHERE document_hash = ? AND lower(issuer) = lower(?)",
                        (document_hash, issuer)).fetchone()
    if held is None:
        return False
    conn.execute("DELETE FROM released_keys WHERE document_hash = ? AND lower(issuer) = lower(?)",
                 (document_hash, issuer))
    begin_erasure(conn, document_hash, None, "released", time.time(), held[0])
    return True


class CustomsRecords:
    """What a node keeps about Customs work besides the chain (tables of migration 6).

    Declarations and request texts stay off chain (only their hashes are on it);
    released data keys of other issuers' certificates are kept wrapped under this
    node's KEK; peer API keys are kept encrypted.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_utilisation(self, record: Mapping[str, Any]) -> None:
        """Record one utilisation this node's Customs made on chain (once per document and declaration)."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO utilisations (id, document_hash, declaration_reference, declaration_hash,"
                " declared_on, draws, customs, tx_hash, block_number, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record["id"], record["document_hash"], record["declaration_reference"], record["declaration_hash"],
                 record["declared_on"], json.dumps(record["draws"]), record["customs"], record["tx_hash"],
                 record["block_number"], time.time()))

    def utilisations(self, document_hash: bytes) -> list[dict[str, Any]]:
        """This node's utilisations of one document, oldest first."""
        rows = self.store.query(
            "SELECT id, declaration_reference, declared_on, draws, customs, tx_hash, block_number, created_at"
            " FROM utilisations WHERE document_hash = ? ORDER BY created_at", (document_hash,))
        return [{"id": r[0], "declaration_reference": r[1], "declared_on": r[2], "draws": json.loads(r[3]),
                 "customs": r[4], "tx_hash": r[5], "block_number": r[6]} for r in rows]

    def utilisation_by_declaration(self, document_hash: bytes, declaration_hash: bytes) -> dict[str, Any] | None:
        """The utilisation of *document_hash* under one declaration, if this node made it."""
        rows = self.store.query("SELECT id FROM utilisations WHERE document_hash = ? AND declaration_hash = ?",
                                 (document_hash, declaration_hash))
        if not rows:
            return None
        return next(u for u in self.utilisations(document_hash) if u["id"] == rows[0][0])

    def set_request_text(self, request_id: int, *, reason: str | None = None, answer: str | None = None) -> None:
        """Keep the reason (or answer) text of a verification request."""
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO request_texts (id, reason, answer) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE"
                         " SET reason = COALESCE(excluded.reason, reason), answer = COALESCE(excluded.answer, answer)",
                         (request_id, reason, answer))

    def requests(self, *, state: int | None = None, request_id: int | None = None) -> list[dict[str, Any]]:
        """Verification requests from the event index (all, in one *state*, or one by id), with any
        text this node holds."""
        args: tuple[int, ...]
        if request_id is not None:
            where, args = "WHERE r.id = ?", (request_id,)
        elif state is not None:
            where, args = "WHERE r.state = ?", (state,)
        else:
            where, args = "", ()
        rows = self.store.query(
            "SELECT r.id, r.document_hash, r.customs, r.reason_hash, r.opened_at, r.state, r.answered_by,"
            " r.answered_at, t.reason, t.answer, c.country FROM onchain_requests r"
            " LEFT JOIN request_texts t ON t.id = r.id"
            " LEFT JOIN onchain_customs c ON c.account = lower(r.customs)"
            f" {where} ORDER BY r.id", args)  # noqa: S608 (fixed clauses)
        return [{"id": r[0], "document_hash": bytes(r[1]), "customs": r[2], "reason_hash": bytes(r[3]),
                 "opened_at": r[4], "state": r[5], "answered_by": r[6], "answered_at": r[7], "reason": r[8],
                 "answer": r[9], "customs_country": r[10]} for r in rows]

    def put_released_key(self, document_hash: bytes, issuer: str, wrapped: bytes) -> None:
        """Keep a data key released to this node (wrapped under its KEK)."""
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO released_keys VALUES (?, ?, ?, ?)",
                         (document_hash, issuer, wrapped, time.time()))

    def released_key(self, document_hash: bytes) -> tuple[str, bytes] | None:
        """(issuer, wrapped key) released for *document_hash*, if any."""
        rows = self.store.query("SELECT issuer, wrapped FROM released_keys WHERE document_hash = ?", (document_hash,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def forget_released_key(self, document_hash: bytes, issuer: str) -> bool:
        """Delete the key *issuer* released (its certificate was erased) and record the erasure; True if one was held.

        WARNING: irreversible; the receipts' sealed contents of the document go too.
        """
        with self.store.transaction() as conn:
            return shred_released(conn, document_hash, issuer)

    def released_documents(self) -> list[bytes]:
        """Document hashes whose keys were released to this node and are still held."""
        return [bytes(r[0]) for r in self.store.query("SELECT document_hash FROM released_keys")]

    def put_peer(self, country: str, url: str, sealed_api_key: bytes) -> None:
        """Remember the node of *country* and the (encrypted) API key this node uses there."""
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO peers VALUES (?, ?, ?, ?)",
                         (country, url, sealed_api_key, time.time()))

    def peer(self, country: str) -> tuple[str, bytes] | None:
        """(url, encrypted API key) of *country*'s node, if known."""
        rows = self.store.query("SELECT url, sealed_api_key FROM peers WHERE country = ?", (country,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None
