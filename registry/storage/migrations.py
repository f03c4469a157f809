"""The schema, built and upgraded by code only: every migration, in order, and how they are applied.

See :mod:`registry.storage.database` for the tables and what each version added.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

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
    Migration(11, "who asked for each verification (the API key's id), for a caller's own history", (
        "ALTER TABLE verification_receipts ADD COLUMN key_id TEXT",
        "CREATE INDEX verification_receipts_key ON verification_receipts (key_id, created_at, id)",
        "CREATE INDEX verification_receipts_filed ON verification_receipts (created_at, id)",
    )),
    Migration(12, "the names governance registers on chain, and each country's authority: re-index from the chain", (
        "CREATE TABLE onchain_names (account TEXT PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE onchain_authorities (country TEXT PRIMARY KEY, authority TEXT NOT NULL)",
        *(f"DELETE FROM {table}" for table in ("chain_events", "onchain_batches", "onchain_documents",
                                               "onchain_issuers", "onchain_standing", "onchain_ledgers",
                                               "onchain_drawn", "onchain_requests", "onchain_customs",
                                               "sync_state")),
    )),
    Migration(13, "background reads by index: batches by state, block and root, the outbox by age, the audit"
                  " log by filing time, chain writes by settlement and kind, erasures to acknowledge;"
                  " the block a batch was sent at (where its anchoring event can first be)", (
        "CREATE INDEX batches_state ON batches (state, block_number)",
        "CREATE INDEX batches_root ON batches (root)",
        "CREATE INDEX outbox_waiting ON outbox (batch_id, enqueued_at)",
        "CREATE INDEX audit_log_filed ON audit_log (created_at)",
        "CREATE INDEX chain_writes_settled ON chain_writes (state, settled_at)",
        "CREATE INDEX chain_writes_unapplied ON chain_writes (id) WHERE applied = 0",
        "CREATE INDEX chain_writes_kind ON chain_writes (kind, id)",
        "CREATE INDEX erasures_unacknowledged ON erasures (document_hash)"
        " WHERE role = 'released' AND state = 'erased' AND acknowledged = 0",
        "ALTER TABLE batches ADD COLUMN sent_block INTEGER",
    )),
    Migration(14, "the committed terms sealed apart under the same data key, so a verification by hash reads them"
                  " without opening the whole sealed document; deleted with it on erasure", (
        "ALTER TABLE sealed_documents ADD COLUMN terms BLOB",
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
