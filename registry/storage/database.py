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

Version 11: ``verification_receipts.key_id`` — the id of the API key that asked
for the verification (never the key), NULL for one asked without a key; it
scopes a caller's verification history (``GET /v1/verifications``).

Version 12: ``onchain_names`` and ``onchain_authorities`` — the names governance
registers on chain for issuing bodies and authorities, and each country's current
authority, projected like the rest (the index is rebuilt from the chain).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from registry.errors import StoreError
from registry.storage.gate import WriteGate
from registry.storage.migrations import migrate

WAL_AUTOCHECKPOINT_PAGES = 1000
"""Pages the write-ahead log may grow to before a commit checkpoints it (SQLite's usual default, set here so
the bound does not depend on how SQLite was built)."""

WAL_SIZE_LIMIT = 8 * 1024 * 1024
"""Bytes the write-ahead log file is truncated back to when a checkpoint lets it restart."""

# -- connections -------------------------------------------------------------------------


class Database:
    """An SQLite file in WAL mode, migrated on open, with one connection per thread.

    Why per thread: WAL lets FastAPI's worker threads read while the anchoring
    worker writes; writers serialise on ``BEGIN IMMEDIATE`` (30 s busy timeout).
    One shared connection behind a lock would make every read wait for every
    write. Connections live in a registry guarded by a lock: a connection whose
    thread has ended is closed when the next thread opens one, and
    :meth:`close` closes them all.

    Several processes share one file (``coo up --workers N``: a chain writer and API
    workers): WAL lets each read while one writes, and a writer waits up to the
    busy timeout (30 s) for another process's write transaction rather than fail.
    No connection crosses a ``fork``: a child that inherited the registry abandons
    the parent's connections (never closing or using them) and opens its own.

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
        self._pid = os.getpid()
        self._closed = False
        self._gate = WriteGate(path.with_name(path.name + "-writer.lock"))
        migrate(self._connection())

    def _connection(self) -> sqlite3.Connection:
        me = threading.current_thread()
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            self._forget_if_forked()
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

    def _forget_if_forked(self) -> None:
        """In a forked child, drop the parent's connections unused and unclosed (SQLite forbids sharing them)."""
        if self._pid != os.getpid():
            self._connections, self._pid = {}, os.getpid()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            secure = "ON" if self._secure_delete else "OFF"
            for pragma in ("synchronous=NORMAL", "foreign_keys=ON", f"secure_delete={secure}",
                           f"wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}", f"journal_size_limit={WAL_SIZE_LIMIT}"):
                conn.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the store at {self.path}: {error}") from error
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(f"the store at {self.path} cannot use WAL mode (journal mode {mode})")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on any error, under
        the write gate (:mod:`registry.storage.gate`: waiters across threads and processes are woken when it
        is free, instead of polling SQLite's lock with growing sleeps).

        Raises:
            StoreError: SQLite failed (busy past the timeout, I/O, constraint), the gate was held too long,
                or transactions were nested.
        """
        conn = self._connection()
        if conn.in_transaction:
            raise StoreError("store transactions do not nest")
        with self._gate.held():
            yield from self._write(conn)

    @staticmethod
    def _write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
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
        self._gate.close()

    def file_sizes(self) -> tuple[int, int]:
        """Bytes of the database file and of its write-ahead log (0 when there is none)."""
        wal = self.path.with_name(self.path.name + "-wal")
        return _size(self.path), _size(wal)

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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


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
