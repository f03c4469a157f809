"""Every statement the background loops run reads by index, so a round costs the same at any store size.

The statements are not listed by hand: the loops' rounds run against a fresh store while SQLite's trace
callback records what they execute, and each one is planned with ``EXPLAIN QUERY PLAN``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from registry.chain.models import BatchRecord, DocumentState
from registry.pipelines.anchoring import Anchorer, BatchPolicy
from registry.pipelines.indexer import ChainIndexer, Follower
from registry.pipelines.retention import AuditPruner
from registry.storage.store import Store
from registry.storage.writelog import WriteKind, WriteLog
from tests.support.plans import full_scans

ROOT = b"\x11" * 32


class _QuietChain:
    """A chain at block 100 where nothing happens and no root is anchored."""

    def head(self) -> tuple[int, bytes]:
        return 100, b"\x01" * 32

    def block_number(self) -> int:
        return 100

    def block_hash(self, block: int) -> bytes:
        return b"\x01" * 32

    def block_timestamp(self, block: int | str = "latest") -> int:
        return 1_700_000_000

    def events(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def batch_of(self, root: bytes) -> BatchRecord:
        return BatchRecord(root, None, 0, 0, DocumentState(0), 0)

    def batches_of(self, roots: list[bytes]) -> list[BatchRecord]:
        return [self.batch_of(root) for root in roots]

    def reset_nonces(self) -> None:
        return None


def _traced(store: Store) -> list[str]:
    statements: list[str] = []
    store.connection().set_trace_callback(statements.append)
    return statements


def _background_rounds(store: Store) -> None:
    """One round of each background loop, and the store calls their busy rounds make."""
    chain: Any = _QuietChain()
    anchorer = Anchorer(store, chain, vault=None, signer_for=lambda _: None,  # type: ignore[arg-type]
                        policy=BatchPolicy(reorg_every=0.0))
    anchorer.round()
    anchorer.round()
    Follower(ChainIndexer(store, chain)).round()
    AuditPruner(store, 1).round()
    writes = WriteLog(store)
    writes.unapplied()
    writes.unsettled()
    writes.settled_since(time.time() - 3600)
    writes.oldest_open_age()
    writes.claimed_results(WriteKind.REQUEST, "request_id")
    store.unacknowledged_erasures()
    store.last_indexed_block()
    store.anchoring_block(ROOT)
    store.publication_block(ROOT)
    with store.transaction() as conn:
        batch_id = int(conn.execute("INSERT INTO batches (issuer, mode, state, size, created_at)"
                                    " VALUES ('0xabc', 'hash', 'sending', 0, 0)").lastrowid or 0)
    store.claim_batch("0xabc", "hash", 16)
    store.mark_batch_sent(batch_id, ROOT, "0xtx", sent_block=90)
    store.batch_members(batch_id)
    store.mark_batch_anchored(batch_id, 95, 1_700_000_000, {})
    store.anchored_since(68)
    store.unanchor_batch(batch_id, "reorg")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    found = Store(tmp_path / "node.db")
    yield found  # type: ignore[misc]
    found.close()


def test_every_statement_of_the_background_loops_reads_by_index(store: Store) -> None:
    statements = _traced(store)
    _background_rounds(store)
    store.connection().set_trace_callback(None)
    planned = {s for s in statements if s.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT"))}
    assert any("FROM batches" in s and "'anchored'" in s for s in planned)  # the reorg watch ran
    assert any("state IN ('sending', 'sent')" in s for s in planned)  # so did the settling of sent batches
    scans = {s: found for s in planned if (found := full_scans(store.connection(), s))}
    assert scans == {}


def test_the_reorg_watch_and_the_settling_use_the_indexes_migration_13_added(store: Store) -> None:
    conn = store.connection()
    plans = {sql: " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql)) for sql in (
        "SELECT id FROM batches WHERE state = 'anchored' AND block_number > 10 ORDER BY id",
        "SELECT id FROM batches WHERE state IN ('sending', 'sent') ORDER BY id",
        "SELECT id FROM batches WHERE root = x'11'",
    )}
    assert all("batches_state" in plan or "batches_root" in plan for plan in plans.values()), plans
