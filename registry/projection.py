"""The registry's on-chain state, rebuilt from its events into the local store.

Applying each contract event in chain order to a few tables reproduces what
``CertificateRegistry.inspect`` would answer, so a verification can be served
from SQLite without an RPC round trip while the index is at the chain head
(:class:`IndexedView`). The rules mirror the contract: a batch of one keeps its
document's status in the batch record; erased is terminal; a batch-wide
revocation shows on every document that has no status of its own; issuer
authorisation is checkpointed by block time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from registry.chain import ChainEvent, DocumentState, DocumentView
from registry.merkle import process_proof



def apply(conn: sqlite3.Connection, event: ChainEvent, block_time: int) -> None:
    """Apply one event to the projection (inside the caller's transaction)."""
    a = event.args
    name = event.name
    if name == "BatchAnchored":
        conn.execute("INSERT OR IGNORE INTO onchain_batches (root, issuer, anchored_at, document_count) VALUES (?, ?, ?, ?)",
                     (a["root"], a["issuer"].lower(), block_time, a["documentCount"]))
    elif name in ("CertificateRevoked", "CertificateSuperseded", "KeyDestroyed"):
        state = {"CertificateRevoked": DocumentState.REVOKED, "CertificateSuperseded": DocumentState.SUPERSEDED,
                 "KeyDestroyed": DocumentState.ERASED}[name]
        document = a["documentHash"]
        reason = int(a.get("reason", 0))
        single = conn.execute("SELECT 1 FROM onchain_batches WHERE root = ? AND document_count = 1",
                              (document,)).fetchone()
        if single:
            conn.execute("UPDATE onchain_batches SET state = ?, reason = ? WHERE root = ?", (int(state), reason, document))
        conn.execute(
            "INSERT INTO onchain_documents VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (document_hash) DO UPDATE SET"
            " state = excluded.state, reason = excluded.reason, changed_at = excluded.changed_at,"
            " changed_by = excluded.changed_by, replacement = COALESCE(excluded.replacement, replacement)",
            (document, int(state), reason, block_time, a["by"], a.get("replacement")))
    elif name == "BatchRevoked":
        conn.execute("UPDATE onchain_batches SET state = ?, reason = ? WHERE root = ? AND state = 0",
                     (int(DocumentState.REVOKED), int(a["reason"]), a["root"]))
    elif name == "IssuerAuthorised":
        issuer = a["issuer"].lower()
        conn.execute("INSERT OR REPLACE INTO onchain_issuers VALUES (?, ?, 1)", (issuer, bytes(a["country"]).decode()))
        conn.execute("INSERT INTO onchain_standing (issuer, at, active) VALUES (?, ?, 1)", (issuer, block_time))
    elif name in ("IssuerSuspended", "IssuerReinstated"):
        active = 1 if name == "IssuerReinstated" else 0
        issuer = a["issuer"].lower()
        conn.execute("UPDATE onchain_issuers SET active = ? WHERE issuer = ?", (active, issuer))
        conn.execute("INSERT INTO onchain_standing (issuer, at, active) VALUES (?, ?, ?)", (issuer, block_time, active))


class IndexedView:
    """``inspect`` answered from the projection in the store (no RPC)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def inspect(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> DocumentView:
        """What ``CertificateRegistry.inspect`` returns, from the indexed events."""
        conn: sqlite3.Connection = self._connection()
        root = process_proof(document_hash, proof)
        batch = conn.execute("SELECT issuer, anchored_at, document_count, state, reason FROM onchain_batches"
                             " WHERE root = ?", (root,)).fetchone()
        if batch is None or (root == document_hash and batch[2] != 1):
            return _unanchored(document_hash, root)
        issuer, anchored_at, count, state, reason = batch
        standing = conn.execute("SELECT country, active FROM onchain_issuers WHERE issuer = ?", (issuer,)).fetchone()
        country, active = (standing[0], bool(standing[1])) if standing else (None, False)
        then = conn.execute("SELECT active FROM onchain_standing WHERE issuer = ? AND at <= ? ORDER BY at DESC, seq DESC"
                            " LIMIT 1", (issuer, anchored_at)).fetchone()
        own = conn.execute("SELECT state, reason, changed_at, changed_by, replacement FROM onchain_documents"
                           " WHERE document_hash = ?", (document_hash,)).fetchone()
        changed_at, changed_by = 0, None
        if own is not None and own[0] != 0:
            changed_at, changed_by = own[2], own[3]
            if root != document_hash:
                state, reason = own[0], own[1]
        from eth_utils import to_checksum_address

        return DocumentView(
            document_hash=document_hash, root=root, issuer=to_checksum_address(issuer), country=country,
            anchored_at=anchored_at, document_count=count, authorised_at_anchoring=bool(then and then[0]),
            issuer_active=active, state=DocumentState(state), reason=reason, changed_at=changed_at,
            changed_by=to_checksum_address(changed_by) if changed_by else None,
            replacement=bytes(own[4]) if own is not None and own[4] else None,
        )


def _unanchored(document_hash: bytes, root: bytes) -> DocumentView:
    return DocumentView(document_hash, root, None, None, 0, 0, False, False, DocumentState.ACTIVE, 0, 0, None, None)
