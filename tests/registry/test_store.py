"""The SQLite store: WAL, migrations, idempotent acceptance, the outbox."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from registry.errors import ConflictError, NotFoundError
from registry.store import MIGRATIONS, NewCertificate, Store


def item(number: str = "N1", fingerprint: bytes = b"f1", issuer: str = "0xI") -> NewCertificate:
    cid = os.urandom(8).hex()
    return NewCertificate(id=cid, issuer=issuer, certificate_number=number, fingerprint=fingerprint,
                          document_hash=os.urandom(32), mode="hash-only", exporting_country="SG",
                          importing_country="JP", sealed_record=b"ct", wrapped_key=b"wk")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "registry.db")


def test_the_store_runs_in_wal_mode_at_the_latest_schema(store: Store) -> None:
    assert store.journal_mode() == "wal"
    assert store.schema_version() == len(MIGRATIONS)


def test_an_empty_older_database_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()  # version 0: nothing yet
    assert Store(path).schema_version() == len(MIGRATIONS)


def test_the_same_certificate_twice_is_accepted_once(store: Store) -> None:
    first = store.insert_certificates([item()])[0]
    again = store.insert_certificates([item()])[0]
    assert again.id == first.id and again.status == "pending"
    assert store.pending_groups() == [("0xI", "hash-only", 1)]


def test_the_same_number_with_other_contents_conflicts_and_writes_nothing(store: Store) -> None:
    store.insert_certificates([item()])
    with pytest.raises(ConflictError):
        store.insert_certificates([item("N2"), item("N1", b"other")])
    assert store.by_number("0xI", "N2") is None


def test_numbers_are_unique_per_issuer_only(store: Store) -> None:
    store.insert_certificates([item("N1", issuer="0xA"), item("N1", issuer="0xB")])
    assert store.by_number("0xA", "N1") is not None and store.by_number("0xB", "N1") is not None


def test_a_claimed_batch_is_anchored_with_proofs(store: Store) -> None:
    rows = store.insert_certificates([item(f"N{i}") for i in range(5)])
    claimed = store.claim_batch("0xI", "hash-only", 3)
    assert claimed is not None
    batch, members = claimed
    assert [m.id for m in members] == [r.id for r in rows[:3]]
    store.mark_batch_sent(batch.id, b"r" * 32, "0xtx")
    store.mark_batch_anchored(batch.id, 7, 1700000000, {m.id: ["0x" + "00" * 32] for m in members})
    assert store.certificate(rows[0].id).status == "anchored"
    assert store.certificate(rows[0].id).proof == ["0x" + "00" * 32]
    assert store.pending_groups() == [("0xI", "hash-only", 2)]
    assert store.unfinished_batches() == []


def test_a_released_batch_goes_back_to_the_outbox(store: Store) -> None:
    store.insert_certificates([item("N1"), item("N2")])
    claimed = store.claim_batch("0xI", "hash-only", 10)
    assert claimed is not None
    assert store.unfinished_batches()[0].id == claimed[0].id
    store.release_batch(claimed[0].id, "chain error")
    assert store.pending_groups() == [("0xI", "hash-only", 2)]
    assert store.claim_batch("0xI", "hash-only", 10) is not None


def test_unknown_ids_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.certificate("nope")
    with pytest.raises(NotFoundError):
        store.audit_entry("nope")


def test_a_version_one_database_gains_the_event_index(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO api_keys VALUES ('k', 'admin', NULL, NULL, 'kept', x'00', x'00', 0)")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS) >= 2
    assert store.last_indexed_block() == -1
    assert store.load_api_key("k") is not None  # data survives the migration
