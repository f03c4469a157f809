"""The SQLite store: WAL, migrations, idempotent acceptance, the outbox and its crash safety."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from registry.chain.client import ChainEvent
from registry.errors import ConflictError, NotFoundError, StoreError
from registry.storage import projection
from registry.storage.migrations import Migration, migrate
from registry.storage.store import MIGRATIONS, IndexedEvent, NewCertificate, Store


def item(number: str = "N1", fingerprint: bytes = b"f1", issuer: str = "0xI",
         mode: str = "hash-only") -> NewCertificate:
    return NewCertificate(id=os.urandom(8).hex(), issuer=issuer, certificate_number=number, fingerprint=fingerprint,
                          document_hash=os.urandom(32), mode=mode, exporting_country="SG", importing_country="JP",
                          sealed_record=b"ct", wrapped_key=b"wk")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "registry.db")


def count(store: Store, table: str) -> int:
    return int(store.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


# -- opening and migrating ---------------------------------------------------------------


def test_the_store_runs_in_wal_mode_with_foreign_keys_and_secure_delete(store: Store) -> None:
    conn = store.connection()
    assert store.journal_mode() == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_an_empty_database_is_built_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    assert Store(path).schema_version() == len(MIGRATIONS) == MIGRATIONS[-1].version


def test_a_version_three_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:3])
    conn.execute("INSERT INTO certificates VALUES ('c1', '0xI', 'N1', x'01', x'02', 'hash-only', 'pending', 'SG', 'JP',"
                 " NULL, NULL, NULL, NULL, NULL, 0, 0)")
    conn.execute("INSERT INTO sealed_records VALUES ('c1', x'cafe')")
    conn.execute("INSERT INTO wrapped_keys VALUES ('c1', x'beef')")
    conn.execute("INSERT INTO batches (issuer, mode, state, size, created_at)"
                 " VALUES ('0xI', 'hash-only', 'claimed', 1, 0)")
    conn.execute("INSERT INTO batches (issuer, mode, state, size, created_at)"
                 " VALUES ('0xI', 'hash-only', 'failed: chain error', 1, 0)")
    conn.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS)
    assert store.sealed_record("c1") == b"\xca\xfe" and store.wrapped_key("c1") == b"\xbe\xef"
    assert [b.state for b in store.unfinished_batches()] == ["sending"]
    failed = store.batch(2)
    assert (failed.state, failed.error) == ("failed", "chain error")


def test_a_version_one_database_gains_the_event_index_and_keeps_its_api_keys(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    conn.execute("INSERT INTO api_keys VALUES ('k', 'admin', NULL, NULL, 'kept', x'00', x'00', 0)")
    conn.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS)
    assert store.last_indexed_block() == -1
    assert store.load_api_key("k") is not None


def test_a_database_written_by_newer_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade"):
        Store(path)


def test_a_failing_migration_applies_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "half.db", isolation_level=None)
    broken = Migration(2, "broken", ("CREATE TABLE fine (x)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError):
        migrate(conn, (MIGRATIONS[0], broken))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0


# -- accepting certificates ------------------------------------------------------------------


def test_the_same_certificate_twice_is_accepted_once(store: Store) -> None:
    first = store.insert_certificate(item())
    again = store.insert_certificate(item())
    assert again == first and again.status == "pending"
    assert store.pending_groups() == [("0xI", "hash-only", 1)]
    assert count(store, "outbox") == count(store, "sealed_documents") == count(store, "wrapped_keys") == 1


def test_the_same_number_with_other_contents_conflicts_and_writes_nothing(store: Store) -> None:
    store.insert_certificate(item())
    with pytest.raises(ConflictError):
        store.insert_certificates([item("N2"), item("N1", b"other")])
    assert store.by_number("0xI", "N2") is None
    assert count(store, "certificates") == count(store, "outbox") == 1


def test_numbers_are_unique_per_issuer_only(store: Store) -> None:
    store.insert_certificates([item("N1", issuer="0xA"), item("N1", issuer="0xB")])
    assert store.by_number("0xA", "N1") is not None and store.by_number("0xB", "N1") is not None


def test_a_document_hash_is_registered_only_once(store: Store) -> None:
    first = item("N1")
    store.insert_certificate(first)
    clash = NewCertificate(**{**vars(first), "id": "other", "certificate_number": "N2"})
    with pytest.raises(ConflictError, match="document hash"):
        store.insert_certificate(clash)
    assert store.by_document_hash(first.document_hash) == store.by_number("0xI", "N1")


def test_unknown_rows_raise_not_found_and_lookups_return_none(store: Store) -> None:
    for fetch in (lambda: store.certificate("nope"), lambda: store.audit_entry("nope"), lambda: store.batch(99),
                  lambda: store.set_status("nope", "revoked")):
        with pytest.raises(NotFoundError):
            fetch()
    assert store.by_document_hash(b"\0" * 32) is None and store.by_number("0xI", "nope") is None


def test_the_schema_refuses_unknown_statuses_and_leaving_erased(store: Store) -> None:
    row = store.insert_certificate(item())
    with pytest.raises(StoreError):
        store.set_status(row.id, "bogus")
    store.shred(row.id, {"certificate_id": row.id})
    with pytest.raises(StoreError):
        store.set_status(row.id, "revoked")
    assert store.certificate(row.id).status == "erased"


def test_a_failed_transaction_leaves_no_trace(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO audit_log VALUES ('r1', '{}', 0)")
        raise RuntimeError("crash mid-write")
    with pytest.raises(NotFoundError):
        store.audit_entry("r1")


# -- the outbox and batches ------------------------------------------------------------------


def test_a_claimed_batch_is_sent_and_anchored_with_proofs(store: Store) -> None:
    rows = store.insert_certificates([item(f"N{i}") for i in range(5)])
    claimed = store.claim_batch("0xI", "hash-only", 3)
    assert claimed is not None
    batch, members = claimed
    assert batch.state == "sending" and [m.id for m in members] == [r.id for r in rows[:3]]
    store.mark_batch_sent(batch.id, b"r" * 32, "0xtx", nonce=7)
    assert (store.batch(batch.id).state, store.batch(batch.id).nonce) == ("sent", 7)
    store.mark_batch_anchored(batch.id, 12, 1_700_000_000, {m.id: ["0x" + "00" * 32] for m in members})
    anchored = store.batch(batch.id)
    assert (anchored.state, anchored.root, anchored.tx_hash,
            anchored.block_number) == ("anchored", b"r" * 32, "0xtx", 12)
    assert store.certificate(rows[0].id).status == "anchored"
    assert store.certificate(rows[0].id).proof == ["0x" + "00" * 32]
    assert store.certificate(rows[3].id).status == "pending"
    assert store.pending_groups() == [("0xI", "hash-only", 2)] and store.unfinished_batches() == []


def test_claims_are_per_issuer_and_mode_in_acceptance_order(store: Store) -> None:
    a1, b1, a2, e1 = store.insert_certificates([item("1", issuer="0xA"), item("1", issuer="0xB"),
                                                item("2", issuer="0xA"), item("3", issuer="0xA", mode="encrypted")])
    claimed = store.claim_batch("0xA", "hash-only", 10)
    assert claimed is not None and [m.id for m in claimed.members] == [a1.id, a2.id]
    assert store.claim_batch("0xA", "hash-only", 10) is None
    assert sorted(store.pending_groups()) == [("0xA", "encrypted", 1), ("0xB", "hash-only", 1)]


def test_a_batch_left_by_a_crash_is_found_on_restart_and_released_for_retry(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    store = Store(path)
    rows = store.insert_certificates([item("N1"), item("N2")])
    claimed = store.claim_batch("0xI", "hash-only", 10)
    assert claimed is not None
    store.mark_batch_sent(claimed.batch.id, b"r" * 32, "0xnever-mined")
    store.close()  # the process dies waiting for the receipt

    restarted = Store(path)
    [unfinished] = restarted.unfinished_batches()
    assert unfinished.id == claimed.batch.id and unfinished.tx_hash == "0xnever-mined"
    assert [m.id for m in restarted.batch_members(unfinished.id)] == [r.id for r in rows]
    restarted.release_batch(unfinished.id, "transaction never mined")
    assert restarted.batch(unfinished.id).state == "failed"
    assert restarted.pending_groups() == [("0xI", "hash-only", 2)]
    with pytest.raises(ConflictError):
        restarted.mark_batch_anchored(unfinished.id, 1, 1, {})
    retry = restarted.claim_batch("0xI", "hash-only", 10)
    assert retry is not None and retry.batch.id != unfinished.id and len(retry.members) == 2


def test_a_batch_settled_from_the_chain_gets_its_root_and_cannot_be_released(store: Store) -> None:
    row = store.insert_certificate(item())
    claimed = store.claim_batch("0xI", "hash-only", 1)
    assert claimed is not None
    store.mark_batch_anchored(claimed.batch.id, 0, 1_700_000_000, {row.id: []}, root=b"s" * 32, tx_hash="0xfound")
    assert store.batch(claimed.batch.id).root == b"s" * 32
    store.mark_batch_anchored(claimed.batch.id, 0, 1_700_000_000, {row.id: []})  # idempotent
    with pytest.raises(ConflictError):
        store.release_batch(claimed.batch.id, "late")
    with pytest.raises(ConflictError):
        store.mark_batch_sent(claimed.batch.id, b"x" * 32, "0xother")
    assert store.certificate(row.id).status == "anchored"


def test_concurrent_workers_never_claim_the_same_certificate(store: Store) -> None:
    store.insert_certificates([item(f"N{i}") for i in range(40)])
    claimed: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        while (batch := store.claim_batch("0xI", "hash-only", 3)) is not None:
            with lock:
                claimed.extend(m.id for m in batch.members)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 40


def test_each_thread_gets_its_own_connection_and_ended_threads_release_theirs(store: Store) -> None:
    opened: list[sqlite3.Connection] = []

    def use() -> None:
        opened.append(store.connection())
        assert store.connection() is opened[-1] and store.journal_mode() == "wal"

    for _ in range(2):
        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
    assert store.connection() not in opened and opened[0] is not opened[1]
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")  # closed when the next thread opened its own
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.certificate("x")


def test_shredding_an_unanchored_certificate_drops_it_from_the_outbox(store: Store) -> None:
    row = store.insert_certificate(item())
    assert store.shred(row.id, {"certificate_id": row.id}) is True
    assert store.pending_groups() == [] and store.shred(row.id, {}) is False
    assert store.destruction_receipt(row.id) == {"certificate_id": row.id}


# -- chain events and the audit log ------------------------------------------------------------


def test_chain_events_are_indexed_once_with_the_sync_mark(store: Store) -> None:
    root, issuer = os.urandom(32), "0x" + os.urandom(20).hex()
    events = [ChainEvent("BatchAnchored", 5, 3, "0xt1", {"root": root, "issuer": issuer, "documentCount": 1}),
              ChainEvent("CertificateRevoked", 9, 0, "0xt2", {"documentHash": root, "root": root, "by": issuer,
                                                               "reason": 1})]
    times = {5: 1_700_000_000, 9: 1_700_000_100}
    projection.record(store, events, times, 9, b"\x01" * 32)
    projection.record(store, events[1:], times, 10, b"\x02" * 32)  # seen again: indexed once
    assert store.last_indexed_block() == 10 and projection.sync_mark(store) == (10, b"\x02" * 32)
    indexed = store.events_for(root)
    assert [e.name for e in indexed] == ["BatchAnchored", "CertificateRevoked"]
    assert indexed[1] == IndexedEvent("0xt2", 0, 9, "CertificateRevoked", root,
                                      json.dumps({"documentHash": "0x" + root.hex(), "root": "0x" + root.hex(),
                                                  "by": issuer, "reason": 1}), 1_700_000_100)
    projection.drop(store)
    assert store.events_for(root) == [] and store.last_indexed_block() == -1  # after a reorg: rebuilt from the start


def test_verification_receipts_are_appended_and_never_overwritten(store: Store) -> None:
    store.append_audit("r1", {"verdict": "VALID"})
    assert store.audit_entry("r1") == {"verdict": "VALID"}
    with pytest.raises(ConflictError):
        store.append_audit("r1", {"verdict": "INVALID"})
    assert store.audit_entry("r1") == {"verdict": "VALID"}
