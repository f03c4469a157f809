"""Verification receipts filed under the key that asked (schema version 11), listed a key at a time."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from registry.errors import ValidationError
from registry.storage.audit import ReceiptQuery
from registry.storage.migrations import MIGRATIONS, migrate
from registry.storage.store import ReceiptRecord, Store


def receipt(key_id: str | None, verdict: str = "VALID") -> ReceiptRecord:
    return ReceiptRecord(id=str(uuid.uuid4()), document_hash=b"\x01" * 32, issuer="0xissuer", importing_country="JP",
                         verdict=verdict, report_hash="0x" + "ab" * 32, checked_at="2026-11-20T10:00:00+00:00",
                         chain_head=7, node_account="0xnode", signature="0xsig", contents=None, key_id=key_id)


def test_a_version_ten_database_keeps_its_receipts_unattributed_and_in_no_history(tmp_path: Path) -> None:
    path = tmp_path / "v10.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:10])
    conn.execute("INSERT INTO verification_receipts (id, document_hash, issuer, importing_country, verdict,"
                 " report_hash, checked_at, chain_head, node_account, signature, contents, created_at)"
                 " VALUES ('old', NULL, '0xI', 'JP', 'VALID', '0xr', '2026-01-01T00:00:00+00:00', 1, '0xn', '0xs',"
                 " NULL, 1)")
    conn.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS) >= 11
    assert store.receipt("old").key_id is None and store.receipt("old").verdict == "VALID"
    assert store.receipts(ReceiptQuery()) == []
    store.add_receipt(new := receipt("k1"))
    assert store.receipts(ReceiptQuery()) == [new] == store.receipts(ReceiptQuery(key_id="k1"))


def test_a_key_lists_only_its_receipts_newest_first_and_pages_only_from_its_own(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    mine = [receipt("mine", verdict) for verdict in ("VALID", "INVALID", "VALID")]
    for filed_at, record in enumerate([*mine, theirs := receipt("theirs"), receipt(None)], start=1000):
        store.add_receipt(record)
        with store.transaction() as conn:  # filing times fixed, one second apart: the order is not left to the clock
            conn.execute("UPDATE verification_receipts SET created_at = ? WHERE id = ?", (filed_at, record.id))
    listed = store.receipts(ReceiptQuery(key_id="mine", limit=2))
    assert listed == [mine[2], mine[1]]
    assert store.receipts(ReceiptQuery(key_id="mine", after=listed[-1].id)) == [mine[0]]
    assert store.receipts(ReceiptQuery(key_id="mine", verdict="INVALID")) == [mine[1]]
    assert {r.id for r in store.receipts(ReceiptQuery())} == {r.id for r in [*mine, theirs]}
    with pytest.raises(ValidationError, match="after"):
        store.receipts(ReceiptQuery(key_id="mine", after=theirs.id))
    assert store.receipts(replace(ReceiptQuery(key_id="mine"), since=1001, until=1002)) == [mine[1]]
