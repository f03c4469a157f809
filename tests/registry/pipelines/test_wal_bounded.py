"""The store's write-ahead log stays bounded under sustained writes while the pruner's checkpoints run."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from registry.pipelines.retention import AuditPruner
from registry.storage.audit import ReceiptRecord
from registry.storage.store import Store

ROUNDS = 40
ROWS_PER_ROUND = 20
BOUND = 2 * 1024 * 1024
"""Bytes the WAL may reach: one round's writes (~0.7 MB: each commit appends its pages) with room, well under
what ROUNDS rounds write."""


def _receipt() -> ReceiptRecord:
    return ReceiptRecord(id=str(uuid.uuid4()), document_hash=os.urandom(32), issuer="0xabc", importing_country="JP",
                         verdict="VALID", report_hash="0x" + "00" * 32, checked_at="2026-01-01T00:00:00+00:00",
                         chain_head=1, node_account="0xdef", signature="0x" + "11" * 65, contents=os.urandom(2048),
                         key_id=None)


def test_the_wal_stays_bounded_while_receipts_are_filed_and_the_pruner_checkpoints(tmp_path: Path) -> None:
    store = Store(tmp_path / "node.db", secure_delete=False)
    pruner = AuditPruner(store, 400)
    largest = 0
    try:
        for _ in range(ROUNDS):
            for _ in range(ROWS_PER_ROUND):
                store.add_receipt(_receipt())
            largest = max(largest, store.file_sizes()[1])
            pruner.round()
        database, wal = store.file_sizes()
        rows = store.audit_rows()
    finally:
        store.close()
    assert rows == ROUNDS * ROWS_PER_ROUND
    assert database > ROUNDS * ROWS_PER_ROUND * 2048  # the writes are all there
    assert largest < BOUND and wal < BOUND
    assert pruner.checkpoints_total == ROUNDS
