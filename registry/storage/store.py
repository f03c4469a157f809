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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from registry.errors import ConflictError, NotFoundError
from registry.storage.audit import AuditTables, ReceiptRecord
from registry.storage.base import _SELECT_CERT, CertificateRows, NumberSealer
from registry.storage.batches import BatchTables
from registry.storage.database import Database
from registry.storage.migrations import MIGRATIONS
from registry.storage.rows import (
    BatchRow,
    CertificateRow,
    ClaimedBatch,
    HeldCertificate,
    IndexedEvent,
    NewCertificate,
    PendingGroup,
    held_certificate,
)

__all__ = ["MIGRATIONS", "BatchRow", "Database", "CertificateRow", "ClaimedBatch", "Erasure", "HeldCertificate",
           "IndexedEvent",
           "NewCertificate", "NumberSealer", "PendingGroup", "ReceiptRecord", "Store"]



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


_ERASURE_COLUMNS = ", ".join(Erasure.__dataclass_fields__)
_IN_CHUNK = 500
"""Values bound in one ``IN (...)`` list (well below SQLite's limit on bound parameters)."""


@runtime_checkable
class NumberTagger(NumberSealer, Protocol):
    """A number sealer that tags many numbers of one issuer at once (the key vault)."""

    def number_tags(self, issuer: str, numbers: Iterable[str]) -> dict[str, str]:
        """The lookup tag of each of *numbers* under the current epoch, by number."""


def _marks(values: Sequence[object]) -> str:
    """One ``?`` per value, for an ``IN (...)`` list."""
    return ", ".join("?" * len(values))


def _resubmitted(existing: CertificateRow, item: NewCertificate) -> CertificateRow:
    """*existing*, the row of *item*'s issuer, number and copy, when *item* has its fingerprint (constant-time).

    Raises:
        ConflictError: the number is registered with different contents.
    """
    if not hmac.compare_digest(existing.fingerprint, item.fingerprint):
        raise ConflictError(f"certificate number {item.certificate_number} is already registered by this issuer "
                            "with different contents")
    return existing


def _pending_row(item: NewCertificate, now: float) -> CertificateRow:
    """The row :meth:`Store.insert_certificates` writes for *item* at *now*, as reading it back gives it."""
    return CertificateRow(
        id=item.id, issuer=item.issuer, certificate_number=item.certificate_number, fingerprint=item.fingerprint,
        document_hash=item.document_hash, mode=item.mode, status="pending", exporting_country=item.exporting_country,
        importing_country=item.importing_country, batch_id=None, proof=None, replaces=item.replaces,
        replaced_by=None, revocation_reason=None, created_at=now, updated_at=now)


class Store(BatchTables, AuditTables, CertificateRows):
    """Typed access to the node's SQLite database at *path* (created and migrated on open).

    Raises:
        StoreError: the file cannot be opened, WAL is unavailable, or migration failed.
    """

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

        Every item is checked against what is stored (one query per issuer for the numbers, one
        for the document hashes, per 500 items) and against the items before it, then the new ones
        are written together; the rows returned for them are what reading them back gives.

        Returns:
            One row per item, in order (existing rows for resubmissions).

        Raises:
            ConflictError: a number already registered with different contents, or a
                document hash already registered (nothing of the call is written).
        """
        now = time.time()
        keys = self._stored_numbers(items)
        with self.transaction():
            placed = self._placed(items, keys)
            taken = self._taken_hashes([item.document_hash for item in items])
            out: list[CertificateRow] = []
            fresh: list[tuple[NewCertificate, str]] = []
            for item, key in zip(items, keys, strict=True):
                where = (item.issuer, key, item.copy)
                existing = placed.get(where)
                if existing is not None:
                    out.append(_resubmitted(existing, item))
                    continue
                if item.document_hash in taken:
                    raise ConflictError(f"document hash 0x{item.document_hash.hex()} is already registered")
                taken.add(item.document_hash)
                placed[where] = row = _pending_row(item, now)
                out.append(row)
                fresh.append((item, key))
            self._write_new(fresh, now)
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

    def held_certificate(self, document_hash: bytes, *, with_record: bool = False) -> HeldCertificate | None:
        """What a verification needs of the certificate with *document_hash*, or None if this node did not
        register it: the row without its number and its wrapped data key, read together in one indexed
        statement (one snapshot: they cannot disagree). With *with_record*, also its terms sealed apart, or,
        until they are (:meth:`put_sealed_terms`), the whole encrypted sealed document."""
        extra, join = ("NULL, NULL", "")
        if with_record:
            extra, join = ("CASE WHEN s.terms IS NULL THEN s.ciphertext END, s.terms",
                           " LEFT JOIN sealed_documents s ON s.certificate_id = c.id")
        rows = self._query("SELECT c.id, c.issuer, c.document_hash, c.status, c.importing_country, c.proof, w.wrapped,"
                           f" {extra} FROM certificates c LEFT JOIN wrapped_keys w ON w.certificate_id = c.id{join}"
                           " WHERE c.document_hash = ?", (document_hash,))
        return held_certificate(rows[0] if rows else None)

    def put_sealed_terms(self, certificate_id: str, sealed_terms: bytes) -> None:
        """Keep a certificate's committed terms sealed apart (under its data key), once: nothing changes
        when they already are, or when its sealed document is gone (erased: they go with it)."""
        with self.transaction() as conn:
            conn.execute("UPDATE sealed_documents SET terms = ? WHERE certificate_id = ? AND terms IS NULL",
                         (sealed_terms, certificate_id))

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

    def certificates(self, *, issuer: str | None = None, exporting_country: str | None = None,
                     importing_country: str | None = None, status: str | None = None,
                     created_since: float | None = None, created_before: float | None = None,
                     after: str | None = None, limit: int = 50) -> list[CertificateRow]:
        """Certificates matching every filter given (registered at or after *created_since*, before
        *created_before*), newest first; *after* is the id of the last row of the previous page (keyset
        pagination: stable while new certificates arrive)."""
        where: list[str] = []
        args: list[object] = []
        for condition, value in (("issuer = ?", issuer), ("exporting_country = ?", exporting_country),
                                 ("importing_country = ?", importing_country), ("status = ?", status),
                                 ("created_at >= ?", created_since), ("created_at < ?", created_before)):
            if value is not None:
                where.append(condition)
                args.append(value)
        if after is not None:
            where.append("(created_at, id) < (SELECT created_at, id FROM certificates WHERE id = ?)")
            args.append(after)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(f"{_SELECT_CERT}{clause} ORDER BY created_at DESC, id DESC LIMIT ?", (*args, limit))
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

    # -- registration in bulk (numbers looked up and certificates written per request, not per item) ----------

    def by_numbers(self, issuer: str, certificate_numbers: Sequence[str]) -> dict[str, CertificateRow]:
        """:meth:`by_number` of each of *certificate_numbers* that is found, by number (one query per 500)."""
        if not certificate_numbers:
            return {}
        keys = self._number_keys(issuer, certificate_numbers)
        number_of = {key: number for number, key in keys.items()}
        latest = {row["certificate_number"]: row for row in self._numbered_rows(issuer, list(number_of))}  # copy order
        found = {number_of[key]: self._row(row) for key, row in latest.items()}
        return {number: row for number, row in found.items() if row is not None}

    def _number_keys(self, issuer: str, numbers: Iterable[str]) -> dict[str, str]:
        """What the ``certificate_number`` column holds for each of *numbers* (:meth:`_number_key`), by number."""
        sealer = self._sealer
        if sealer is None:
            return {number: number for number in numbers}
        if isinstance(sealer, NumberTagger):
            return sealer.number_tags(issuer, numbers)
        return {number: sealer.number_tag(issuer, number) for number in numbers}

    def _stored_numbers(self, items: Sequence[NewCertificate]) -> list[str]:
        """The ``certificate_number`` column of each item: its number's tag when the number is kept sealed."""
        sealed: dict[str, list[str]] = {}
        for item in items:
            if item.number_sealed is not None:
                sealed.setdefault(item.issuer, []).append(item.certificate_number)
        tags = {issuer: self._number_keys(issuer, numbers) for issuer, numbers in sealed.items()}
        return [item.certificate_number if item.number_sealed is None else tags[item.issuer][item.certificate_number]
                for item in items]

    def _numbered_rows(self, issuer: str, keys: Sequence[str], copy: int | None = None) -> list[sqlite3.Row]:
        """The stored rows of *issuer* whose ``certificate_number`` column is one of *keys* (of that *copy*, or every
        copy in copy order)."""
        rows: list[sqlite3.Row] = []
        which = "" if copy is None else " AND copy = ?"
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start:start + _IN_CHUNK]
            rows += self._query(f"{_SELECT_CERT} WHERE issuer = ?{which} AND certificate_number IN ({_marks(chunk)})"
                                " ORDER BY copy", (issuer, *([] if copy is None else [copy]), *chunk))
        return rows

    def _placed(self, items: Sequence[NewCertificate],
                keys: Sequence[str]) -> dict[tuple[str, str, int], CertificateRow]:
        """The stored rows the items name, by (issuer, ``certificate_number`` column, copy)."""
        wanted: dict[tuple[str, int], set[str]] = {}
        for item, key in zip(items, keys, strict=True):
            wanted.setdefault((item.issuer, item.copy), set()).add(key)
        placed: dict[tuple[str, str, int], CertificateRow] = {}
        for (issuer, copy), copy_keys in wanted.items():
            for raw in self._numbered_rows(issuer, sorted(copy_keys), copy):
                row = self._row(raw)
                assert row is not None
                placed[(issuer, raw["certificate_number"], copy)] = row
        return placed

    def _taken_hashes(self, document_hashes: Sequence[bytes]) -> set[bytes]:
        """Those of *document_hashes* already registered."""
        taken: set[bytes] = set()
        for start in range(0, len(document_hashes), _IN_CHUNK):
            chunk = document_hashes[start:start + _IN_CHUNK]
            rows = self._query(f"SELECT document_hash FROM certificates WHERE document_hash IN ({_marks(chunk)})",
                               chunk)
            taken.update(bytes(row[0]) for row in rows)
        return taken

    def _write_new(self, fresh: Sequence[tuple[NewCertificate, str]], now: float) -> None:
        """Write the record, sealed document, wrapped key and outbox entry of each new item (inside a transaction),
        *fresh* pairing each with its ``certificate_number`` column."""
        conn = self._connection()
        conn.executemany(
            "INSERT INTO certificates (id, issuer, certificate_number, fingerprint, document_hash, mode,"
            " status, exporting_country, importing_country, replaces, created_at, updated_at, copy,"
            " number_sealed) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
            [(item.id, item.issuer, key, item.fingerprint, item.document_hash, item.mode, item.exporting_country,
              item.importing_country, item.replaces, now, now, item.copy, item.number_sealed) for item, key in fresh])
        conn.executemany("INSERT INTO sealed_documents (certificate_id, ciphertext, terms) VALUES (?, ?, ?)",
                         [(item.id, item.sealed_record, item.terms_sealed) for item, _ in fresh
                          if item.sealed_record is not None])
        conn.executemany("INSERT INTO wrapped_keys (certificate_id, wrapped, created_at) VALUES (?, ?, ?)",
                         [(item.id, item.wrapped_key, now) for item, _ in fresh if item.wrapped_key is not None])
        conn.executemany("INSERT INTO outbox (certificate_id, issuer, mode, enqueued_at) VALUES (?, ?, ?, ?)",
                         [(item.id, item.issuer, item.mode, now) for item, _ in fresh])


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
