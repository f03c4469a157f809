"""The store's database: connections, ordered migrations, and the row types of its tables.

:class:`Database` opens the SQLite file in WAL mode with **one connection per
thread** (see its docstring for why) and runs :func:`migrate` on open;
:class:`registry.storage.store.Store` builds the typed operations on top.

The schema is built and upgraded by code only. ``PRAGMA user_version`` holds the
number of migrations applied; :func:`migrate` applies the missing ones, in
order, inside one ``BEGIN IMMEDIATE`` transaction, so a database is always at
one whole version (never half-migrated), and two processes opening the same
file at once cannot both migrate it. A database written by newer code is
refused rather than guessed at.

Migrations are never edited once released: a change to the schema is a new
entry at the end of :data:`MIGRATIONS`.

Tables (version 4, then 8):

* ``certificates`` — one row per accepted certificate; ``UNIQUE(issuer,
  certificate_number)`` and ``UNIQUE(document_hash)``; ``fingerprint`` identifies
  the request body (idempotency; keyed since version 8). Anchoring facts (root,
  tx, block, time) live once per batch in ``batches``, reached by ``batch_id``.
* ``sealed_documents`` / ``wrapped_keys`` — ciphertext of the sealed document
  (with its salts) and the KEK-wrapped data key; both deleted on erasure.
* ``outbox`` — accepted-but-not-anchored certificates in acceptance order
  (``seq``); ``batch_id`` is set while a batch holds them.
* ``batches`` — ``sending`` → ``sent`` → ``anchored``, or ``failed`` (released).
* ``chain_events`` + ``sync_state`` — the event index and the last indexed block;
  ``onchain_*`` — state projected from the events (:mod:`registry.storage.projection`).
* ``destruction_receipts``, ``audit_log`` (key releases), ``api_keys``.

Version 8 (erasure that holds): ``certificates.certificate_number`` holds a keyed
tag of the number once the key vault is attached, ``number_sealed`` the number
under the data key, and ``fingerprint`` an HMAC under the data key;
``verification_receipts`` keep the signed receipt in clear and the report only
sealed under the data key; ``erasures`` (``erasing`` → ``erased``) and
``erasure_acknowledgements`` (peers that destroyed their copy of a key);
``replaces`` names the replaced certificate by id, not by number.

Version 10: ``chain_writes`` — every chain write other than anchoring (status
changes, terms, utilisations, requests, answers, governance), recorded before it
is sent: ``pending`` → ``sent`` → ``settled``, or ``refused``
(:mod:`registry.pipelines.outbox`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from registry.domain.states import BatchState, CertificateStatus, Mode
from registry.errors import StoreError

CERTIFICATE_STATUSES: tuple[str, ...] = tuple(s.value for s in CertificateStatus)
MODES: tuple[str, ...] = tuple(m.value for m in Mode)
BATCH_STATES: tuple[str, ...] = tuple(b.value for b in BatchState)
WRITE_STATES: tuple[str, ...] = ("pending", "sent", "settled", "refused")


@dataclass(frozen=True)
class Migration:
    """One schema step: the statements that take version ``version - 1`` to ``version``."""

    version: int
    description: str
    statements: tuple[str, ...]
    rebuilds: bool = False
    """True when a table is rebuilt under rows that reference it: foreign keys are then
    switched off for the migration and checked in full before it commits (SQLite's
    documented procedure for schema changes ALTER TABLE cannot make)."""

    def apply(self, conn: sqlite3.Connection) -> None:
        """Run the statements on *conn* (inside the caller's transaction)."""
        for statement in self.statements:
            conn.execute(statement)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_CERTIFICATE_CHECKS = (
    f"""CREATE TRIGGER certificates_checked_insert BEFORE INSERT ON certificates
        WHEN NEW.status NOT IN {_in(CERTIFICATE_STATUSES)} OR NEW.mode NOT IN {_in(MODES)}
        BEGIN SELECT RAISE(ABORT, 'certificates: unknown status or mode'); END""",
    f"""CREATE TRIGGER certificates_checked_update BEFORE UPDATE OF status, mode ON certificates
        WHEN NEW.status NOT IN {_in(CERTIFICATE_STATUSES)} OR NEW.mode NOT IN {_in(MODES)}
             OR (OLD.status = 'erased' AND NEW.status <> 'erased')
        BEGIN SELECT RAISE(ABORT, 'certificates: unknown status or mode, or leaving erased'); END""",
)
_V1_CERTIFICATE_COLUMNS = ("id, issuer, certificate_number, fingerprint, document_hash, mode, status,"
                           " exporting_country, importing_country, batch_id, proof, replaces, replaced_by,"
                           " revocation_reason, created_at, updated_at")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", (
        """CREATE TABLE certificates (
            id TEXT PRIMARY KEY, issuer TEXT NOT NULL, certificate_number TEXT NOT NULL,
            fingerprint BLOB NOT NULL, document_hash BLOB NOT NULL UNIQUE, mode TEXT NOT NULL,
            status TEXT NOT NULL, exporting_country TEXT NOT NULL, importing_country TEXT NOT NULL,
            batch_id INTEGER REFERENCES batches(id), proof TEXT, replaces TEXT, replaced_by TEXT,
            revocation_reason INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL,
            UNIQUE (issuer, certificate_number))""",
        "CREATE TABLE sealed_records (certificate_id TEXT PRIMARY KEY REFERENCES certificates(id),"
        " ciphertext BLOB NOT NULL)",
        "CREATE TABLE wrapped_keys (certificate_id TEXT PRIMARY KEY REFERENCES certificates(id),"
        " wrapped BLOB NOT NULL)",
        """CREATE TABLE batches (
            id INTEGER PRIMARY KEY AUTOINCREMENT, issuer TEXT NOT NULL, mode TEXT NOT NULL, root BLOB,
            state TEXT NOT NULL, tx_hash TEXT, block_number INTEGER, anchored_at INTEGER,
            size INTEGER NOT NULL, created_at REAL NOT NULL)""",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            certificate_id TEXT NOT NULL UNIQUE REFERENCES certificates(id), issuer TEXT NOT NULL,
            mode TEXT NOT NULL, batch_id INTEGER REFERENCES batches(id), enqueued_at REAL NOT NULL)""",
        "CREATE INDEX outbox_pending ON outbox (issuer, mode, batch_id, seq)",
        "CREATE TABLE destruction_receipts (certificate_id TEXT PRIMARY KEY, receipt TEXT NOT NULL,"
        " created_at REAL NOT NULL)",
        "CREATE TABLE audit_log (id TEXT PRIMARY KEY, receipt TEXT NOT NULL, created_at REAL NOT NULL)",
        """CREATE TABLE api_keys (
            key_id TEXT PRIMARY KEY, role TEXT NOT NULL, country TEXT, account TEXT, label TEXT NOT NULL,
            salt BLOB NOT NULL, digest BLOB NOT NULL, created_at REAL NOT NULL)""",
    )),
    Migration(2, "index of chain events", (
        """CREATE TABLE chain_events (
            tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL, block_number INTEGER NOT NULL,
            name TEXT NOT NULL, subject BLOB, args TEXT NOT NULL, PRIMARY KEY (tx_hash, log_index))""",
        "CREATE INDEX chain_events_subject ON chain_events (subject, block_number)",
        "CREATE TABLE sync_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_block INTEGER NOT NULL)",
    )),
    Migration(3, "block times and the projected on-chain state", (
        "ALTER TABLE chain_events ADD COLUMN block_time INTEGER",
        """CREATE TABLE onchain_batches (
            root BLOB PRIMARY KEY, issuer TEXT NOT NULL, anchored_at INTEGER NOT NULL,
            document_count INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, reason INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE onchain_documents (
            document_hash BLOB PRIMARY KEY, state INTEGER NOT NULL, reason INTEGER NOT NULL,
            changed_at INTEGER NOT NULL, changed_by TEXT NOT NULL, replacement BLOB)""",
        "CREATE TABLE onchain_issuers (issuer TEXT PRIMARY KEY, country TEXT NOT NULL, active INTEGER NOT NULL)",
        """CREATE TABLE onchain_standing (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, issuer TEXT NOT NULL, at INTEGER NOT NULL,
            active INTEGER NOT NULL)""",
        "CREATE INDEX onchain_standing_issuer ON onchain_standing (issuer, at)",
    )),
    Migration(4, "sealed_documents, key timestamps, batch nonce/error, value checks", (
        "ALTER TABLE sealed_records RENAME TO sealed_documents",
        "ALTER TABLE wrapped_keys ADD COLUMN created_at REAL",
        "ALTER TABLE batches ADD COLUMN nonce INTEGER",
        "ALTER TABLE batches ADD COLUMN error TEXT",
        "UPDATE batches SET error = trim(substr(state, 8)), state = 'failed' WHERE state LIKE 'failed:%'",
        "UPDATE batches SET state = 'sending' WHERE state = 'claimed'",
        "CREATE INDEX certificates_batch ON certificates (batch_id)",
        *_CERTIFICATE_CHECKS,
        f"""CREATE TRIGGER batches_checked_insert BEFORE INSERT ON batches
            WHEN NEW.state NOT IN {_in(BATCH_STATES)}
            BEGIN SELECT RAISE(ABORT, 'batches: unknown state'); END""",
        f"""CREATE TRIGGER batches_checked_update BEFORE UPDATE OF state ON batches
            WHEN NEW.state NOT IN {_in(BATCH_STATES)}
            BEGIN SELECT RAISE(ABORT, 'batches: unknown state'); END""",
    )),
    Migration(5, "hash of the last indexed block, to notice reorgs", (
        "ALTER TABLE sync_state ADD COLUMN block_hash BLOB",
    )),
    Migration(6, "Customs: projected utilisation and requests; local declarations, request texts, released keys", (
        "CREATE TABLE onchain_ledgers (document_hash BLOB PRIMARY KEY, ledger BLOB NOT NULL)",
        """CREATE TABLE onchain_drawn (
            ledger BLOB NOT NULL, item INTEGER NOT NULL, drawn TEXT NOT NULL, PRIMARY KEY (ledger, item))""",
        """CREATE TABLE onchain_requests (
            id INTEGER PRIMARY KEY, document_hash BLOB NOT NULL, customs TEXT NOT NULL, reason_hash BLOB NOT NULL,
            opened_at INTEGER NOT NULL, state INTEGER NOT NULL, answered_by TEXT, answered_at INTEGER)""",
        "CREATE INDEX onchain_requests_document ON onchain_requests (document_hash, state)",
        "CREATE TABLE onchain_customs (account TEXT PRIMARY KEY, country TEXT NOT NULL)",
        """CREATE TABLE utilisations (
            id TEXT PRIMARY KEY, document_hash BLOB NOT NULL, declaration_reference TEXT NOT NULL,
            declaration_hash BLOB NOT NULL, declared_on TEXT NOT NULL, draws TEXT NOT NULL, customs TEXT NOT NULL,
            tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, created_at REAL NOT NULL)""",
        "CREATE UNIQUE INDEX utilisations_declaration ON utilisations (document_hash, declaration_hash)",
        "CREATE TABLE request_texts (id INTEGER PRIMARY KEY, reason TEXT, answer TEXT)",
        """CREATE TABLE released_keys (
            document_hash BLOB PRIMARY KEY, issuer TEXT NOT NULL, wrapped BLOB NOT NULL, created_at REAL NOT NULL)""",
        """CREATE TABLE peers (
            country TEXT PRIMARY KEY, url TEXT NOT NULL, sealed_api_key BLOB NOT NULL, created_at REAL NOT NULL)""",
    )),
    Migration(7, "certified true copies keep the original's number: certificates unique per (issuer, number, copy)", (
        """CREATE TABLE certificates_v7 (
            id TEXT PRIMARY KEY, issuer TEXT NOT NULL, certificate_number TEXT NOT NULL,
            fingerprint BLOB NOT NULL, document_hash BLOB NOT NULL UNIQUE, mode TEXT NOT NULL,
            status TEXT NOT NULL, exporting_country TEXT NOT NULL, importing_country TEXT NOT NULL,
            batch_id INTEGER REFERENCES batches(id), proof TEXT, replaces TEXT, replaced_by TEXT,
            revocation_reason INTEGER, created_at REAL NOT NULL, updated_at REAL NOT NULL,
            copy INTEGER NOT NULL DEFAULT 0, UNIQUE (issuer, certificate_number, copy))""",
        f"INSERT INTO certificates_v7 ({_V1_CERTIFICATE_COLUMNS}) SELECT {_V1_CERTIFICATE_COLUMNS} FROM certificates",
        "DROP TABLE certificates",
        "ALTER TABLE certificates_v7 RENAME TO certificates",
        "CREATE INDEX certificates_batch ON certificates (batch_id)",
        *_CERTIFICATE_CHECKS,
    ), rebuilds=True),
    Migration(8, "on-chain state per certificate, the pair (batch root, document hash): re-index from the chain", (
        "DROP TABLE onchain_documents",
        """CREATE TABLE onchain_documents (
            root BLOB NOT NULL, document_hash BLOB NOT NULL, state INTEGER NOT NULL, reason INTEGER NOT NULL,
            changed_at INTEGER NOT NULL, changed_by TEXT NOT NULL, replacement BLOB, replacement_root BLOB,
            PRIMARY KEY (root, document_hash))""",
        "DROP TABLE onchain_ledgers",
        "CREATE TABLE onchain_ledgers (certificate BLOB PRIMARY KEY, ledger BLOB NOT NULL)",
        "ALTER TABLE onchain_requests ADD COLUMN root BLOB",
        "DROP INDEX onchain_requests_document",
        "CREATE INDEX onchain_requests_certificate ON onchain_requests (document_hash, root, state)",
        *(f"DELETE FROM {table}" for table in ("chain_events", "onchain_batches", "onchain_documents",
                                               "onchain_issuers", "onchain_standing", "onchain_ledgers",
                                               "onchain_drawn", "onchain_requests", "onchain_customs",
                                               "sync_state")),
    )),
    Migration(9, "erasure that holds: sealed numbers, verification receipts with sealed contents, erasures", (
        "ALTER TABLE certificates ADD COLUMN number_sealed BLOB",
        """UPDATE certificates SET replaces = COALESCE((SELECT o.id FROM certificates o"""
        """ WHERE o.issuer = certificates.issuer
            AND o.certificate_number = certificates.replaces AND o.id <> certificates.id ORDER BY o.copy DESC LIMIT 1),
            replaces) WHERE replaces IS NOT NULL""",
        "UPDATE certificates SET certificate_number = 'erased:' || id, fingerprint = x'' WHERE status = 'erased'",
        """CREATE TABLE verification_receipts (
            id TEXT PRIMARY KEY, document_hash BLOB, issuer TEXT, importing_country TEXT, verdict TEXT NOT NULL,
            report_hash TEXT NOT NULL, checked_at TEXT NOT NULL, chain_head INTEGER, node_account TEXT NOT NULL,
            signature TEXT NOT NULL, contents BLOB, created_at REAL NOT NULL)""",
        "CREATE INDEX verification_receipts_document ON verification_receipts (document_hash)",
        """INSERT INTO verification_receipts (id, document_hash, issuer, importing_country, verdict, report_hash,
            checked_at, chain_head, node_account, signature, contents, created_at)
            SELECT id, NULL, json_extract(receipt, '$.report.issuer'), NULL, json_extract(receipt, '$.report.verdict'),
                   json_extract(receipt, '$.receipt.report_hash'), json_extract(receipt, '$.receipt.checked_at'),
                   json_extract(receipt, '$.receipt.chain_head'), json_extract(receipt, '$.receipt.node_account'),
                   json_extract(receipt, '$.receipt.signature'), NULL, created_at
            FROM audit_log WHERE json_extract(receipt, '$.receipt.report_hash') IS NOT NULL""",
        "DELETE FROM audit_log WHERE json_extract(receipt, '$.receipt.report_hash') IS NOT NULL",
        """CREATE TABLE erasures (
            document_hash BLOB PRIMARY KEY, certificate_id TEXT, role TEXT NOT NULL, state TEXT NOT NULL,
            started_at REAL NOT NULL, finished_at REAL, issuer TEXT, acknowledged INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE erasure_acknowledgements (
            document_hash BLOB NOT NULL, node_account TEXT NOT NULL, country TEXT NOT NULL,"""
        """ acknowledged_at TEXT NOT NULL,
            signature TEXT NOT NULL, received_at REAL NOT NULL, PRIMARY KEY (document_hash, node_account))""",
    )),
    Migration(10, "one durable outbox for every chain write other than anchoring", (
        f"""CREATE TABLE chain_writes (
            id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, signer TEXT NOT NULL, subject TEXT,
            args TEXT NOT NULL, local TEXT, state TEXT NOT NULL CHECK (state IN {_in(WRITE_STATES)}),
            tx_hash TEXT, block_number INTEGER, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, result TEXT,
            applied INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, settled_at REAL)""",
        "CREATE INDEX chain_writes_state ON chain_writes (state, id)",
        "CREATE INDEX chain_writes_subject ON chain_writes (subject, id)",
    )),
)
"""Every migration, in order; ``MIGRATIONS[i].version == i + 1``."""

LATEST: int = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database behind *conn* to the latest version, atomically.

    Args:
        conn: an autocommit connection (``isolation_level=None``) not inside a transaction.
        migrations: the ordered steps (tests pass their own).

    Returns:
        The schema version after migrating.

    Raises:
        StoreError: the database is newer than this code, or a step failed (nothing is applied).
    """
    enforced = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if any(m.rebuilds for m in migrations[version:]):
            conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction, so before BEGIN
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > len(migrations):
                raise StoreError(f"the database is at schema version {version} but this code only knows "
                                 f"{len(migrations)}; upgrade the software")
            for migration in migrations[version:]:
                migration.apply(conn)
                conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            broken = conn.execute("PRAGMA foreign_key_check").fetchone()
            if broken is not None:
                raise StoreError(f"migration would break a reference: {tuple(broken)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")
    except sqlite3.Error as error:
        raise StoreError(f"cannot migrate the store: {error}") from error
    return len(migrations)


# -- connections -------------------------------------------------------------------------


class Database:
    """An SQLite file in WAL mode, migrated on open, with one connection per thread.

    Why per thread: WAL lets FastAPI's worker threads read while the anchoring
    worker writes; writers serialise on ``BEGIN IMMEDIATE`` (30 s busy timeout).
    One shared connection behind a lock would make every read wait for every
    write. Connections live in a registry guarded by a lock: a connection whose
    thread has ended is closed when the next thread opens one, and
    :meth:`close` closes them all.

    Every connection runs with ``journal_mode=WAL``, ``synchronous=NORMAL``,
    ``foreign_keys=ON`` and ``secure_delete=ON`` (deleted content is overwritten
    with zeros: defence in depth only; erasure does not rely on it, and tests
    switch it off to prove that). The file and its WAL are 0600.

    Raises:
        StoreError: the file cannot be opened, WAL is unavailable, or migration failed.
    """

    def __init__(self, path: Path, *, secure_delete: bool = True) -> None:
        self.path = path
        self._secure_delete = secure_delete
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _private(path)
        self._lock = threading.Lock()
        self._connections: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}
        self._closed = False
        migrate(self._connection())

    def _connection(self) -> sqlite3.Connection:
        me = threading.current_thread()
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            entry = self._connections.get(me.ident or 0)
            if entry is not None and entry[0] is me:
                return entry[1]
            for ident, (thread, conn) in list(self._connections.items()):
                if not thread.is_alive() or thread is not me and ident == me.ident:
                    conn.close()
                    del self._connections[ident]
            conn = self._open()
            self._connections[me.ident or 0] = (me, conn)
            return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            secure = "ON" if self._secure_delete else "OFF"
            for pragma in ("synchronous=NORMAL", "foreign_keys=ON", f"secure_delete={secure}"):
                conn.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the store at {self.path}: {error}") from error
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"the store at {self.path} cannot use WAL mode (journal mode {mode})")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on any error.

        Raises:
            StoreError: SQLite failed (busy past the timeout, I/O, constraint) or transactions were nested.
        """
        conn = self._connection()
        if conn.in_transaction:
            raise StoreError("store transactions do not nest")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise StoreError(f"store write failed: {error}") from error

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._connection().execute(sql, args).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"store query failed: {error}") from error

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read-only *sql* statement.

        Raises:
            StoreError: SQLite failed.
        """
        return self._query(sql, args)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (read-only use by :mod:`registry.storage.projection`)."""
        return self._connection()

    def schema_version(self) -> int:
        """The number of migrations applied (``PRAGMA user_version``)."""
        return int(self._query("PRAGMA user_version")[0][0])

    def journal_mode(self) -> str:
        """SQLite's journal mode (``wal``)."""
        return str(self._query("PRAGMA journal_mode")[0][0])

    def close(self) -> None:
        """Close every connection of this store; later calls raise :class:`StoreError`. Call at shutdown."""
        with self._lock:
            self._closed = True
            for _thread, conn in self._connections.values():
                conn.close()
            self._connections.clear()

    def try_truncate_wal(self) -> bool:
        """Try, without waiting, to checkpoint and empty the WAL; False if another reader or writer blocked it.

        Only housekeeping: erasure does not rely on it (see :mod:`registry.custody.epochs`).
        """
        conn = self._connection()
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            return False
        finally:
            conn.execute("PRAGMA busy_timeout = 30000")
        return not busy


def _private(path: Path) -> None:
    """Create the database file 0600 (SQLite gives its -wal and -shm files the same mode), or tighten it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            os.chmod(sibling, 0o600)


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


class PendingGroup(NamedTuple):
    """Unclaimed outbox entries of one (issuer, mode)."""

    issuer: str
    mode: str
    waiting: int


class ClaimedBatch(NamedTuple):
    """A freshly claimed batch and its certificates in acceptance order."""

    batch: BatchRow
    members: list[CertificateRow]
