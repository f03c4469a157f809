"""The node's local store: SQLite in WAL mode.

Holds certificate records, their encrypted sealed documents and wrapped data
keys, the **outbox** of accepted-but-not-yet-anchored certificates and the
batches that anchor them, destruction receipts, the verification audit log and
API keys. The schema is created and migrated by code (``PRAGMA user_version``).

Each thread gets its own connection (WAL lets readers run beside the writer);
every multi-row write happens in one ``BEGIN IMMEDIATE`` transaction, so a crash
never leaves a half-written record.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.apikeys import Principal, Role, StoredKey
from registry.errors import ConflictError, NotFoundError, StoreError

MIGRATIONS: list[str] = [
    # 1: initial schema
    """
    CREATE TABLE certificates (
        id TEXT PRIMARY KEY,
        issuer TEXT NOT NULL,
        certificate_number TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        document_hash BLOB NOT NULL UNIQUE,
        mode TEXT NOT NULL,
        status TEXT NOT NULL,
        exporting_country TEXT NOT NULL,
        importing_country TEXT NOT NULL,
        batch_id INTEGER REFERENCES batches(id),
        proof TEXT,
        replaces TEXT,
        replaced_by TEXT,
        revocation_reason INTEGER,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (issuer, certificate_number)
    );
    CREATE TABLE sealed_records (certificate_id TEXT PRIMARY KEY REFERENCES certificates(id), ciphertext BLOB NOT NULL);
    CREATE TABLE wrapped_keys (certificate_id TEXT PRIMARY KEY REFERENCES certificates(id), wrapped BLOB NOT NULL);
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        issuer TEXT NOT NULL,
        mode TEXT NOT NULL,
        root BLOB,
        state TEXT NOT NULL,
        tx_hash TEXT,
        block_number INTEGER,
        anchored_at INTEGER,
        size INTEGER NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        certificate_id TEXT NOT NULL UNIQUE REFERENCES certificates(id),
        issuer TEXT NOT NULL,
        mode TEXT NOT NULL,
        batch_id INTEGER REFERENCES batches(id),
        enqueued_at REAL NOT NULL
    );
    CREATE INDEX outbox_pending ON outbox (issuer, mode, batch_id, seq);
    CREATE TABLE destruction_receipts (certificate_id TEXT PRIMARY KEY, receipt TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE audit_log (id TEXT PRIMARY KEY, receipt TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY, role TEXT NOT NULL, country TEXT, account TEXT, label TEXT NOT NULL,
        salt BLOB NOT NULL, digest BLOB NOT NULL, created_at REAL NOT NULL
    );
    """,
    # 2: index of chain events, kept current by the indexer
    """
    CREATE TABLE chain_events (
        tx_hash TEXT NOT NULL,
        log_index INTEGER NOT NULL,
        block_number INTEGER NOT NULL,
        name TEXT NOT NULL,
        subject BLOB,
        args TEXT NOT NULL,
        PRIMARY KEY (tx_hash, log_index)
    );
    CREATE INDEX chain_events_subject ON chain_events (subject, block_number);
    CREATE TABLE sync_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_block INTEGER NOT NULL);
    """,
    # 3: block times, and the on-chain state rebuilt from events (see registry.projection)
    """
ALTER TABLE chain_events ADD COLUMN block_time INTEGER;
CREATE TABLE onchain_batches (
    root BLOB PRIMARY KEY, issuer TEXT NOT NULL, anchored_at INTEGER NOT NULL, document_count INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0, reason INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE onchain_documents (
    document_hash BLOB PRIMARY KEY, state INTEGER NOT NULL, reason INTEGER NOT NULL, changed_at INTEGER NOT NULL,
    changed_by TEXT NOT NULL, replacement BLOB
);
CREATE TABLE onchain_issuers (issuer TEXT PRIMARY KEY, country TEXT NOT NULL, active INTEGER NOT NULL);
CREATE TABLE onchain_standing (seq INTEGER PRIMARY KEY AUTOINCREMENT, issuer TEXT NOT NULL, at INTEGER NOT NULL,
                               active INTEGER NOT NULL);
CREATE INDEX onchain_standing_issuer ON onchain_standing (issuer, at)

    """,
]


@dataclass(frozen=True)
class CertificateRow:
    """One registered certificate, as the node knows it."""

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


@dataclass(frozen=True)
class BatchRow:
    """One anchoring batch."""

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
    """Everything written, atomically, when a certificate is accepted."""

    id: str
    issuer: str
    certificate_number: str
    fingerprint: bytes
    document_hash: bytes
    mode: str
    exporting_country: str
    importing_country: str
    sealed_record: bytes
    wrapped_key: bytes
    replaces: str | None = None


_CERT_COLUMNS = ", ".join(CertificateRow.__dataclass_fields__)


def _cert(row: sqlite3.Row | None) -> CertificateRow | None:
    if row is None:
        return None
    data = dict(row)
    data["proof"] = json.loads(data["proof"]) if data["proof"] else None
    return CertificateRow(**data)


class Store:
    """Typed access to the node's SQLite database at *path*."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._migrate()

    # -- plumbing ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); rolled back on any error."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._connection().execute(sql, args).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"store query failed: {error}") from error

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    def schema_version(self) -> int:
        """The applied migration count."""
        return int(self._query("PRAGMA user_version")[0][0])

    def journal_mode(self) -> str:
        """SQLite's journal mode (``wal``)."""
        return str(self._query("PRAGMA journal_mode")[0][0])

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- certificates ------------------------------------------------------------------

    def insert_certificates(self, items: Sequence[NewCertificate]) -> list[CertificateRow]:
        """Accept certificates: record, encrypted document, wrapped key and outbox entry, atomically.

        Idempotent per (issuer, certificate number): a resubmission with the same
        fingerprint returns the existing row.

        Raises:
            ConflictError: same number, different contents.
        """
        now = time.time()
        out: list[CertificateRow] = []
        with self.transaction() as conn:
            for item in items:
                existing = _cert(conn.execute(
                    f"SELECT {_CERT_COLUMNS} FROM certificates WHERE issuer = ? AND certificate_number = ?",
                    (item.issuer, item.certificate_number)).fetchone())
                if existing is not None:
                    if existing.fingerprint != item.fingerprint:
                        raise ConflictError(
                            f"certificate number {item.certificate_number} is already registered by this issuer "
                            "with different contents")
                    out.append(existing)
                    continue
                conn.execute(
                    "INSERT INTO certificates (id, issuer, certificate_number, fingerprint, document_hash, mode, status,"
                    " exporting_country, importing_country, replaces, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                    (item.id, item.issuer, item.certificate_number, item.fingerprint, item.document_hash, item.mode,
                     item.exporting_country, item.importing_country, item.replaces, now, now))
                conn.execute("INSERT INTO sealed_records VALUES (?, ?)", (item.id, item.sealed_record))
                conn.execute("INSERT INTO wrapped_keys VALUES (?, ?)", (item.id, item.wrapped_key))
                conn.execute("INSERT INTO outbox (certificate_id, issuer, mode, enqueued_at) VALUES (?, ?, ?, ?)",
                             (item.id, item.issuer, item.mode, now))
                row = _cert(conn.execute(f"SELECT {_CERT_COLUMNS} FROM certificates WHERE id = ?", (item.id,)).fetchone())
                assert row is not None
                out.append(row)
        return out

    def certificate(self, certificate_id: str) -> CertificateRow:
        """The certificate with *certificate_id*.

        Raises:
            NotFoundError: if there is none.
        """
        row = _cert(next(iter(self._query(f"SELECT {_CERT_COLUMNS} FROM certificates WHERE id = ?", (certificate_id,))), None))
        if row is None:
            raise NotFoundError("certificate", certificate_id)
        return row

    def by_document_hash(self, document_hash: bytes) -> CertificateRow | None:
        """The certificate with *document_hash*, if this node registered it."""
        rows = self._query(f"SELECT {_CERT_COLUMNS} FROM certificates WHERE document_hash = ?", (document_hash,))
        return _cert(rows[0]) if rows else None

    def by_number(self, issuer: str, certificate_number: str) -> CertificateRow | None:
        """Look a certificate up by (issuer, certificate number)."""
        rows = self._query(f"SELECT {_CERT_COLUMNS} FROM certificates WHERE issuer = ? AND certificate_number = ?",
                           (issuer, certificate_number))
        return _cert(rows[0]) if rows else None

    def set_status(self, certificate_id: str, status: str, *, reason: int | None = None,
                   replaced_by: str | None = None) -> None:
        """Record a status change made on chain."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE certificates SET status = ?, revocation_reason = COALESCE(?, revocation_reason),"
                " replaced_by = COALESCE(?, replaced_by), updated_at = ? WHERE id = ?",
                (status, reason, replaced_by, time.time(), certificate_id))

    def count_by_status(self) -> dict[str, int]:
        """How many certificates are in each status."""
        return {r[0]: r[1] for r in self._query("SELECT status, COUNT(*) FROM certificates GROUP BY status")}

    # -- keys and encrypted records ------------------------------------------------------

    def wrapped_key(self, certificate_id: str) -> bytes | None:
        """The wrapped data key, or None once destroyed."""
        rows = self._query("SELECT wrapped FROM wrapped_keys WHERE certificate_id = ?", (certificate_id,))
        return bytes(rows[0][0]) if rows else None

    def sealed_record(self, certificate_id: str) -> bytes | None:
        """The encrypted sealed document, or None once destroyed."""
        rows = self._query("SELECT ciphertext FROM sealed_records WHERE certificate_id = ?", (certificate_id,))
        return bytes(rows[0][0]) if rows else None

    def shred(self, certificate_id: str, receipt: str) -> bool:
        """Delete key and record and keep the receipt, in one transaction; False if already gone."""
        with self.transaction() as conn:
            deleted = conn.execute("DELETE FROM wrapped_keys WHERE certificate_id = ?", (certificate_id,)).rowcount
            if not deleted:
                return False
            conn.execute("DELETE FROM sealed_records WHERE certificate_id = ?", (certificate_id,))
            conn.execute("INSERT INTO destruction_receipts VALUES (?, ?, ?)", (certificate_id, receipt, time.time()))
            conn.execute("UPDATE certificates SET status = 'erased', updated_at = ? WHERE id = ?",
                         (time.time(), certificate_id))
        return True

    def destruction_receipt(self, certificate_id: str) -> dict[str, Any] | None:
        """The destruction receipt of an erased certificate."""
        rows = self._query("SELECT receipt FROM destruction_receipts WHERE certificate_id = ?", (certificate_id,))
        return json.loads(rows[0][0]) if rows else None

    # -- outbox and batches --------------------------------------------------------------

    def pending_groups(self) -> list[tuple[str, str, int]]:
        """(issuer, mode, count) of unclaimed outbox entries."""
        rows = self._query("SELECT issuer, mode, COUNT(*) FROM outbox WHERE batch_id IS NULL GROUP BY issuer, mode")
        return [(r[0], r[1], r[2]) for r in rows]

    def oldest_pending_age(self) -> float | None:
        """Seconds since the oldest unclaimed entry was accepted."""
        rows = self._query("SELECT MIN(enqueued_at) FROM outbox WHERE batch_id IS NULL")
        return None if rows[0][0] is None else time.time() - rows[0][0]

    def claim_batch(self, issuer: str, mode: str, limit: int) -> tuple[BatchRow, list[CertificateRow]] | None:
        """Move up to *limit* pending entries of (issuer, mode) into a new batch."""
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT certificate_id FROM outbox WHERE issuer = ? AND mode = ? AND batch_id IS NULL ORDER BY seq LIMIT ?",
                (issuer, mode, limit))]
            if not ids:
                return None
            batch_id = conn.execute(
                "INSERT INTO batches (issuer, mode, state, size, created_at) VALUES (?, ?, 'claimed', ?, ?)",
                (issuer, mode, len(ids), time.time())).lastrowid
            marks = ",".join("?" * len(ids))
            conn.execute(f"UPDATE outbox SET batch_id = ? WHERE certificate_id IN ({marks})", (batch_id, *ids))
            conn.execute(f"UPDATE certificates SET batch_id = ? WHERE id IN ({marks})", (batch_id, *ids))
            rows = conn.execute(f"SELECT {_CERT_COLUMNS} FROM certificates WHERE id IN ({marks})", ids).fetchall()
        order = {cid: i for i, cid in enumerate(ids)}
        certs = sorted((c for c in map(_cert, rows) if c is not None), key=lambda c: order[c.id])
        assert batch_id is not None
        return self.batch(batch_id), certs

    def mark_batch_sent(self, batch_id: int, root: bytes, tx_hash: str) -> None:
        """Record the batch root and the transaction that anchors it (before waiting for the receipt)."""
        with self.transaction() as conn:
            conn.execute("UPDATE batches SET root = ?, tx_hash = ?, state = 'sent' WHERE id = ?", (root, tx_hash, batch_id))

    def mark_batch_anchored(self, batch_id: int, block_number: int, anchored_at: int, proofs: dict[str, list[str]]) -> None:
        """Mark a batch mined: certificates become ``anchored`` with their proofs; outbox entries go."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute("UPDATE batches SET state = 'anchored', block_number = ?, anchored_at = ? WHERE id = ?",
                         (block_number, anchored_at, batch_id))
            for certificate_id, proof in proofs.items():
                conn.execute("UPDATE certificates SET proof = ?, updated_at = ?,"
                             " status = CASE status WHEN 'pending' THEN 'anchored' ELSE status END WHERE id = ?",
                             (json.dumps(proof), now, certificate_id))
            conn.execute("DELETE FROM outbox WHERE batch_id = ?", (batch_id,))

    def release_batch(self, batch_id: int, why: str) -> None:
        """Give a failed batch's certificates back to the outbox, to be anchored again."""
        with self.transaction() as conn:
            conn.execute("UPDATE batches SET state = ? WHERE id = ?", (f"failed: {why}"[:200], batch_id))
            conn.execute("UPDATE outbox SET batch_id = NULL WHERE batch_id = ?", (batch_id,))
            conn.execute("UPDATE certificates SET batch_id = NULL WHERE batch_id = ?", (batch_id,))

    def unfinished_batches(self) -> list[BatchRow]:
        """Batches claimed or sent but not known to be anchored (to resume after a crash)."""
        return [BatchRow(**dict(r)) for r in self._query(
            "SELECT * FROM batches WHERE state IN ('claimed', 'sent') ORDER BY id")]

    def batch(self, batch_id: int) -> BatchRow:
        """The batch with *batch_id*."""
        rows = self._query("SELECT * FROM batches WHERE id = ?", (batch_id,))
        if not rows:
            raise NotFoundError("batch", str(batch_id))
        return BatchRow(**dict(rows[0]))

    def batch_members(self, batch_id: int) -> list[CertificateRow]:
        """Certificates of a batch, in batch order."""
        rows = self._query(
            f"SELECT {', '.join('c.' + c for c in CertificateRow.__dataclass_fields__)} FROM certificates c"
            " JOIN outbox o ON o.certificate_id = c.id WHERE o.batch_id = ? ORDER BY o.seq", (batch_id,))
        return [c for c in map(_cert, rows) if c is not None]

    # -- chain event index -------------------------------------------------------------

    def last_indexed_block(self) -> int:
        """The last block whose events are indexed (-1 before the first sync)."""
        rows = self._query("SELECT last_block FROM sync_state WHERE id = 1")
        return int(rows[0][0]) if rows else -1

    def events_for(self, subject: bytes) -> list[IndexedEvent]:
        """Indexed events about one document hash, batch root or account, in chain order."""
        rows = self._query("SELECT tx_hash, log_index, block_number, name, subject, args, block_time FROM chain_events"
                           " WHERE subject = ? ORDER BY block_number, log_index", (subject,))
        return [IndexedEvent(*r) for r in rows]

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (read-only use by projections)."""
        return self._connection()

    # -- audit log and API keys ----------------------------------------------------------

    def append_audit(self, receipt_id: str, receipt: dict[str, Any]) -> None:
        """Append a signed verification receipt to the audit log."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO audit_log VALUES (?, ?, ?)", (receipt_id, json.dumps(receipt), time.time()))

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

    def save_api_key(self, key: StoredKey) -> None:
        """Persist a minted API key (hash only)."""
        p = key.principal
        with self.transaction() as conn:
            conn.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (p.key_id, p.role.value, p.country, p.account, p.label, key.salt, key.digest, time.time()))

    def load_api_key(self, key_id: str) -> StoredKey | None:
        """An API key record by id."""
        rows = self._query("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
        if not rows:
            return None
        r = rows[0]
        principal = Principal(r["key_id"], Role(r["role"]), r["country"], r["account"], r["label"])
        return StoredKey(principal, bytes(r["salt"]), bytes(r["digest"]))

    def count_api_keys(self) -> int:
        """How many API keys exist."""
        return int(self._query("SELECT COUNT(*) FROM api_keys")[0][0])
