"""What a node keeps about Customs work besides the chain: declarations, request texts, released keys, peers."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from registry.storage.store import Store, shred_released


class CustomsRecords:
    """What a node keeps about Customs work besides the chain (tables of migration 6).

    Declarations and request texts stay off chain (only their hashes are on it);
    released data keys of other issuers' certificates are kept wrapped under this
    node's KEK; peer API keys are kept encrypted.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_utilisation(self, record: Mapping[str, Any]) -> None:
        """Record one utilisation this node's Customs made on chain (once per document and declaration)."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO utilisations (id, document_hash, declaration_reference, declaration_hash,"
                " declared_on, draws, customs, tx_hash, block_number, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record["id"], record["document_hash"], record["declaration_reference"], record["declaration_hash"],
                 record["declared_on"], json.dumps(record["draws"]), record["customs"], record["tx_hash"],
                 record["block_number"], time.time()))

    def utilisations(self, document_hash: bytes) -> list[dict[str, Any]]:
        """This node's utilisations of one document, oldest first."""
        rows = self.store.query(
            "SELECT id, declaration_reference, declared_on, draws, customs, tx_hash, block_number, created_at"
            " FROM utilisations WHERE document_hash = ? ORDER BY created_at", (document_hash,))
        return [{"id": r[0], "declaration_reference": r[1], "declared_on": r[2], "draws": json.loads(r[3]),
                 "customs": r[4], "tx_hash": r[5], "block_number": r[6]} for r in rows]

    def utilisation_by_declaration(self, document_hash: bytes, declaration_hash: bytes) -> dict[str, Any] | None:
        """The utilisation of *document_hash* under one declaration, if this node made it."""
        rows = self.store.query("SELECT id FROM utilisations WHERE document_hash = ? AND declaration_hash = ?",
                                 (document_hash, declaration_hash))
        if not rows:
            return None
        return next(u for u in self.utilisations(document_hash) if u["id"] == rows[0][0])

    def set_request_text(self, request_id: int, *, reason: str | None = None, answer: str | None = None) -> None:
        """Keep the reason (or answer) text of a verification request."""
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO request_texts (id, reason, answer) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE"
                         " SET reason = COALESCE(excluded.reason, reason), answer = COALESCE(excluded.answer, answer)",
                         (request_id, reason, answer))

    def requests(self, *, state: int | None = None, request_id: int | None = None) -> list[dict[str, Any]]:
        """Verification requests from the event index (all, in one *state*, or one by id), with any
        text this node holds."""
        args: tuple[int, ...]
        if request_id is not None:
            where, args = "WHERE r.id = ?", (request_id,)
        elif state is not None:
            where, args = "WHERE r.state = ?", (state,)
        else:
            where, args = "", ()
        rows = self.store.query(
            "SELECT r.id, r.document_hash, r.customs, r.reason_hash, r.opened_at, r.state, r.answered_by,"
            " r.answered_at, t.reason, t.answer, c.country FROM onchain_requests r"
            " LEFT JOIN request_texts t ON t.id = r.id"
            " LEFT JOIN onchain_customs c ON c.account = lower(r.customs)"
            f" {where} ORDER BY r.id", args)  # noqa: S608 (fixed clauses)
        return [{"id": r[0], "document_hash": bytes(r[1]), "customs": r[2], "reason_hash": bytes(r[3]),
                 "opened_at": r[4], "state": r[5], "answered_by": r[6], "answered_at": r[7], "reason": r[8],
                 "answer": r[9], "customs_country": r[10]} for r in rows]

    def put_released_key(self, document_hash: bytes, issuer: str, wrapped: bytes) -> None:
        """Keep a data key released to this node (wrapped under its KEK)."""
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO released_keys VALUES (?, ?, ?, ?)",
                         (document_hash, issuer, wrapped, time.time()))

    def released_key(self, document_hash: bytes) -> tuple[str, bytes] | None:
        """(issuer, wrapped key) released for *document_hash*, if any."""
        rows = self.store.query("SELECT issuer, wrapped FROM released_keys WHERE document_hash = ?", (document_hash,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def forget_released_key(self, document_hash: bytes, issuer: str) -> bool:
        """Delete the key *issuer* released (its certificate was erased) and record the erasure; True if one was held.

        WARNING: irreversible; the receipts' sealed contents of the document go too.
        """
        with self.store.transaction() as conn:
            return shred_released(conn, document_hash, issuer)

    def released_documents(self) -> list[bytes]:
        """Document hashes whose keys were released to this node and are still held."""
        return [bytes(r[0]) for r in self.store.query("SELECT document_hash FROM released_keys")]

    def put_peer(self, country: str, url: str, sealed_api_key: bytes) -> None:
        """Remember the node of *country* and the (encrypted) API key this node uses there."""
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO peers VALUES (?, ?, ?, ?)",
                         (country, url, sealed_api_key, time.time()))

    def peer(self, country: str) -> tuple[str, bytes] | None:
        """(url, encrypted API key) of *country*'s node, if known."""
        rows = self.store.query("SELECT url, sealed_api_key FROM peers WHERE country = ?", (country,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None


__all__ = ["CustomsRecords"]
