"""The anchoring outbox and its batches: accepted certificates in order, claimed into batches, settled."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping

from registry.domain.states import BatchState
from registry.errors import ConflictError, NotFoundError
from registry.storage.base import _SELECT_CERT, CertificateRows
from registry.storage.rows import (
    BATCH_COLUMNS,
    BatchRow,
    CertificateRow,
    ClaimedBatch,
    PendingGroup,
    batch_row,
)


class BatchTables(CertificateRows):
    """The ``outbox`` and ``batches`` tables."""

    # -- outbox and batches --------------------------------------------------------------

    def pending_groups(self) -> list[PendingGroup]:
        """(issuer, mode, count) of unclaimed outbox entries."""
        rows = self._query("SELECT issuer, mode, COUNT(*) FROM outbox WHERE batch_id IS NULL"
                           " GROUP BY issuer, mode ORDER BY MIN(seq)")
        return [PendingGroup(r[0], r[1], r[2]) for r in rows]

    def oldest_pending_age(self) -> float | None:
        """Seconds since the oldest unclaimed entry was accepted (None when nothing waits)."""
        rows = self._query("SELECT MIN(enqueued_at) FROM outbox WHERE batch_id IS NULL")
        return None if rows[0][0] is None else time.time() - rows[0][0]

    def claim_batch(self, issuer: str, mode: str, limit: int) -> ClaimedBatch | None:
        """Claim up to *limit* unclaimed entries of (issuer, mode), oldest first, into a new ``sending`` batch.

        One transaction: two workers never claim the same entry.

        Returns:
            The batch and its certificates in acceptance order, or None when nothing is pending.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT certificate_id FROM outbox WHERE issuer = ? AND mode = ? AND batch_id IS NULL"
                " ORDER BY seq LIMIT ?", (issuer, mode, limit))]
            if not ids:
                return None
            batch_id = conn.execute(
                "INSERT INTO batches (issuer, mode, state, size, created_at) VALUES (?, ?, 'sending', ?, ?)",
                (issuer, mode, len(ids), time.time())).lastrowid
            marks = ",".join("?" * len(ids))
            conn.execute(f"UPDATE outbox SET batch_id = ? WHERE certificate_id IN ({marks})", (batch_id, *ids))
            conn.execute(f"UPDATE certificates SET batch_id = ? WHERE id IN ({marks})", (batch_id, *ids))
            rows = conn.execute(f"{_SELECT_CERT} WHERE id IN ({marks})", ids).fetchall()
            batch = batch_row(conn.execute(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone())
        order = {cid: i for i, cid in enumerate(ids)}
        members = sorted(map(self._member, rows), key=lambda c: order[c.id])
        return ClaimedBatch(batch, members)

    def _batch_state(self, conn: sqlite3.Connection, batch_id: int) -> str:
        row = conn.execute("SELECT state FROM batches WHERE id = ?", (batch_id,)).fetchone()
        if row is None:
            raise NotFoundError("batch", str(batch_id))
        return str(row[0])

    def mark_batch_sent(self, batch_id: int, root: bytes, tx_hash: str, nonce: int | None = None, *,
                        sent_block: int | None = None) -> None:
        """Record the root and the anchoring transaction (before waiting for its receipt), and the first
        *sent_block* given (a chain head no later than the sending: the anchoring event is in no earlier block).

        Raises:
            NotFoundError: unknown batch.
            ConflictError: the batch is already anchored or was released.
        """
        with self.transaction() as conn:
            state = self._batch_state(conn, batch_id)
            if state not in (BatchState.SENDING, BatchState.SENT):
                raise ConflictError(f"batch {batch_id} is {state}; it cannot be marked sent")
            conn.execute("UPDATE batches SET root = ?, tx_hash = ?, nonce = COALESCE(?, nonce), state = 'sent',"
                         " sent_block = COALESCE(sent_block, ?) WHERE id = ?",
                         (root, tx_hash, nonce, sent_block, batch_id))

    def mark_batch_anchored(self, batch_id: int, block_number: int, anchored_at: int, proofs: Mapping[str, list[str]],
                            *, root: bytes | None = None, tx_hash: str | None = None) -> None:
        """Mark a batch mined: members become ``anchored`` with their proofs; their outbox entries go.

        Idempotent for an anchored batch. *root*/*tx_hash* fill in what was not
        recorded by :meth:`mark_batch_sent` (a batch settled from the chain after a crash).

        Raises:
            NotFoundError: unknown batch.
            ConflictError: the batch was released (``failed``); its members may be in another batch.
        """
        now = time.time()
        with self.transaction() as conn:
            state = self._batch_state(conn, batch_id)
            if state == BatchState.FAILED:
                raise ConflictError(f"batch {batch_id} was released; it cannot be marked anchored")
            conn.execute("UPDATE batches SET state = 'anchored', block_number = ?, anchored_at = ?,"
                         " root = COALESCE(?, root), tx_hash = COALESCE(?, tx_hash) WHERE id = ?",
                         (block_number, anchored_at, root, tx_hash, batch_id))
            conn.executemany("UPDATE certificates SET proof = ?, updated_at = ?,"
                             " status = CASE status WHEN 'pending' THEN 'anchored' ELSE status END"
                             " WHERE id = ? AND batch_id = ?",
                             [(json.dumps(proof), now, member, batch_id) for member, proof in proofs.items()])
            conn.execute("DELETE FROM outbox WHERE batch_id = ?", (batch_id,))

    def release_batch(self, batch_id: int, why: str) -> None:
        """Mark a batch ``failed`` and give its certificates back to the outbox, to be claimed again.

        Use only when its transaction is known not to have been mined (or was never
        sent): a released root that mines later is still anchored on chain.

        Raises:
            NotFoundError: unknown batch.
            ConflictError: the batch is anchored.
        """
        with self.transaction() as conn:
            state = self._batch_state(conn, batch_id)
            if state == BatchState.ANCHORED:
                raise ConflictError(f"batch {batch_id} is anchored; it cannot be released")
            conn.execute("UPDATE batches SET state = 'failed', error = ? WHERE id = ?", (why[:200], batch_id))
            conn.execute("UPDATE outbox SET batch_id = NULL WHERE batch_id = ?", (batch_id,))
            conn.execute("UPDATE certificates SET batch_id = NULL WHERE batch_id = ?", (batch_id,))

    def anchored_since(self, block_number: int) -> list[BatchRow]:
        """Anchored batches mined after *block_number* (the ones a reorg could still undo)."""
        return [batch_row(r) for r in self._query(
            f"SELECT {BATCH_COLUMNS} FROM batches WHERE state = 'anchored' AND block_number > ? ORDER BY id",
            (block_number,))]

    def anchoring_block(self, root: bytes) -> int:
        """A block no later than the anchoring of *root*, where scans for its events start (never block 0).

        The block one of this node's batches was anchored in (or the head it was sent after), else the block
        of the indexed ``BatchAnchored`` event, else the first block the event index has not covered yet (an
        anchoring up to the index's mark is in the index).
        """
        rows = self._query(
            "SELECT MIN(b) FROM (SELECT MIN(COALESCE(block_number, sent_block)) AS b FROM batches WHERE root = ?"
            " UNION ALL SELECT MIN(block_number) FROM chain_events WHERE subject = ? AND name = 'BatchAnchored')",
            (root, root))
        return self._known_or_unindexed(rows[0][0])

    def publication_block(self, document_hash: bytes) -> int:
        """A block no later than the encrypted-mode anchoring of *document_hash* (its ``PayloadPublished``
        event, indexed or anchored by this node), where scans for it start (never block 0)."""
        rows = self._query(
            "SELECT MIN(b) FROM (SELECT MIN(COALESCE(b.block_number, b.sent_block)) AS b FROM certificates c"
            " JOIN batches b ON b.id = c.batch_id WHERE c.document_hash = ?"
            " UNION ALL SELECT MIN(block_number) FROM chain_events WHERE subject = ? AND name = 'PayloadPublished')",
            (document_hash, document_hash))
        return self._known_or_unindexed(rows[0][0])

    def _known_or_unindexed(self, block: int | None) -> int:
        if block is None:
            mark = self._query("SELECT last_block FROM sync_state WHERE id = 1")
            block = int(mark[0][0]) + 1 if mark else 1
        return max(1, int(block))

    def unanchor_batch(self, batch_id: int, why: str) -> int:
        """A reorg dropped this batch's root: mark it ``failed`` and put its certificates back in the outbox.

        Returns:
            How many certificates went back to ``pending``.
        """
        now = time.time()
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM certificates WHERE batch_id = ? AND status = 'anchored'", (batch_id,))]
            conn.execute("UPDATE batches SET state = 'failed', error = ? WHERE id = ?", (why[:200], batch_id))
            for certificate_id in ids:
                conn.execute("UPDATE certificates SET status = 'pending', batch_id = NULL, proof = NULL, updated_at = ?"
                             " WHERE id = ?", (now, certificate_id))
                conn.execute("INSERT INTO outbox (certificate_id, issuer, mode, enqueued_at)"
                             " SELECT id, issuer, mode, ? FROM certificates WHERE id = ?", (now, certificate_id))
        return len(ids)

    def unfinished_batches(self) -> list[BatchRow]:
        """Batches ``sending`` or ``sent`` (to settle after a crash), oldest first."""
        return [batch_row(r) for r in self._query(
            f"SELECT {BATCH_COLUMNS} FROM batches WHERE state IN ('sending', 'sent') ORDER BY id")]

    def batch(self, batch_id: int) -> BatchRow:
        """The batch with *batch_id*.

        Raises:
            NotFoundError: unknown batch.
        """
        rows = self._query(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,))
        if not rows:
            raise NotFoundError("batch", str(batch_id))
        return batch_row(rows[0])

    def batch_members(self, batch_id: int) -> list[CertificateRow]:
        """Certificates of an unfinished batch, in acceptance order (empty once anchored or released)."""
        columns = ", ".join("c." + c for c in (*CertificateRow.__dataclass_fields__, "number_sealed"))
        rows = self._query(f"SELECT {columns} FROM certificates c JOIN outbox o ON o.certificate_id = c.id"
                           " WHERE o.batch_id = ? ORDER BY o.seq", (batch_id,))
        return list(map(self._member, rows))

    def _member(self, row: sqlite3.Row) -> CertificateRow:
        """A batch member as anchoring uses it (id, issuer, document hash, mode), its number left unrevealed:
        revealing it would unwrap the member's data key, once per member of every batch, for nothing."""
        member = self._row(row, reveal=False)
        assert member is not None
        return member


__all__ = ["BatchTables"]
