"""The registry's on-chain state, rebuilt from its events into the local store.

Applying each contract event in chain order to a few tables reproduces what
``CertificateRegistry.inspect`` would answer, so a verification can be served
from SQLite without an RPC round trip while the index is at the chain head
(:class:`IndexedView`). The rules mirror the contract: a certificate is the pair
(batch root, document hash), and every status, replacement, ledger and request is
kept under that pair, taken from the event (never guessed from the hash alone); a
batch of one keeps its document's status in the batch record; erased is terminal;
a batch-wide revocation shows on every document that has no status of its own;
every anchored batch was anchored by an issuer authorised at that moment (the
contract refuses anything else, in transaction order).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from registry.chain.client import ChainEvent, DocumentState, DocumentView, certificate_key
from registry.chain.customs import RequestState, Utilisation
from registry.sealing.merkle import process_proof
from registry.storage.store import Store, shred_released

PROJECTED_TABLES = ("chain_events", "onchain_batches", "onchain_documents", "onchain_issuers", "onchain_standing",
                    "onchain_ledgers", "onchain_drawn", "onchain_requests", "onchain_customs", "onchain_names",
                    "onchain_authorities", "sync_state")
"""Everything rebuilt from the chain when the index is dropped (after a reorg)."""


# Complexity (radon C): one branch per registry contract event, the event-to-table mapping in one place
def apply(conn: sqlite3.Connection, event: ChainEvent, block_time: int) -> None:
    """Apply one event to the projection (inside the caller's transaction)."""
    a = event.args
    name = event.name
    if name == "BatchAnchored":
        conn.execute("INSERT OR IGNORE INTO onchain_batches (root, issuer, anchored_at, document_count)"
                     " VALUES (?, ?, ?, ?)",
                     (a["root"], a["issuer"].lower(), block_time, a["documentCount"]))
    elif name in ("CertificateRevoked", "CertificateSuperseded", "KeyDestroyed"):
        state = {"CertificateRevoked": DocumentState.REVOKED, "CertificateSuperseded": DocumentState.SUPERSEDED,
                 "KeyDestroyed": DocumentState.ERASED}[name]
        document, root = a["documentHash"], a["root"]
        reason = int(a.get("reason", 0))
        if root == document:  # a batch of one: the status lives in the batch record
            conn.execute("UPDATE onchain_batches SET state = ?, reason = ? WHERE root = ? AND document_count = 1",
                         (int(state), reason, root))
        conn.execute(
            "INSERT INTO onchain_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (root, document_hash) DO UPDATE"
            " SET state = excluded.state, reason = excluded.reason, changed_at = excluded.changed_at,"
            " changed_by = excluded.changed_by, replacement = COALESCE(excluded.replacement, replacement),"
            " replacement_root = COALESCE(excluded.replacement_root, replacement_root)",
            (root, document, int(state), reason, block_time, a["by"], a.get("replacement"), a.get("replacementRoot")))
        if state is DocumentState.ERASED:  # crypto-shredding reaches keys this root's issuer released to this node
            issuer = conn.execute("SELECT issuer FROM onchain_batches WHERE root = ?", (root,)).fetchone()
            if issuer is not None:
                shred_released(conn, document, issuer[0])  # the key vault then closes the key epoch
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
    elif name in ("CountryAdmitted", "AuthorityReplaced", "IssuerNamed", "AuthorityNamed"):
        _apply_governance(conn, name, a)
    else:
        _apply_customs(conn, name, a, block_time)
    if name == "CertificateSuperseded":  # a replacement continues the ledger of what it supersedes
        conn.execute("INSERT OR REPLACE INTO onchain_ledgers VALUES (?, ?)",
                     (certificate_key(a["replacementRoot"], a["replacement"]),
                      _ledger(conn, certificate_key(a["root"], a["documentHash"]))))


def _apply_governance(conn: sqlite3.Connection, name: str, a: dict[str, Any]) -> None:
    if name in ("CountryAdmitted", "AuthorityReplaced"):
        conn.execute("INSERT OR REPLACE INTO onchain_authorities VALUES (?, ?)",
                     (bytes(a["country"]).decode(), a["authority"].lower()))
    else:
        account = a["issuer"] if name == "IssuerNamed" else a["authority"]
        conn.execute("INSERT OR REPLACE INTO onchain_names VALUES (?, ?)", (account.lower(), a["name"]))


def _apply_customs(conn: sqlite3.Connection, name: str, a: dict[str, Any], block_time: int) -> None:
    if name == "CertificateUtilised":
        _draw(conn, a["ledger"], a["goodsItems"], a["quantities"])
        if a["parentItems"]:
            _draw(conn, a["parentLedger"], a["parentItems"], a["quantities"])
    elif name == "VerificationRequested":
        conn.execute("INSERT OR IGNORE INTO onchain_requests (id, document_hash, root, customs, reason_hash, opened_at,"
                     " state) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (a["id"], a["documentHash"], a["root"], a["customs"], a["reasonHash"], block_time,
                      int(RequestState.OPEN)))
    elif name == "VerificationAnswered":
        state = RequestState.CONFIRMED if a["confirmed"] else RequestState.NOT_CONFIRMED
        conn.execute("UPDATE onchain_requests SET state = ?, answered_by = ?, answered_at = ? WHERE id = ?",
                     (int(state), a["by"], block_time, a["id"]))
    elif name == "CustomsAuthorised":
        conn.execute("INSERT OR REPLACE INTO onchain_customs VALUES (?, ?)",
                     (a["account"].lower(), bytes(a["country"]).decode()))
    elif name == "CustomsWithdrawn":
        conn.execute("DELETE FROM onchain_customs WHERE account = ?", (a["account"].lower(),))


def _draw(conn: sqlite3.Connection, ledger: bytes, items: Sequence[int], quantities: Sequence[int]) -> None:
    for item, quantity in zip(items, quantities, strict=True):
        row = conn.execute("SELECT drawn FROM onchain_drawn WHERE ledger = ? AND item = ?", (ledger, item)).fetchone()
        total = int(row[0]) + int(quantity) if row else int(quantity)
        conn.execute("INSERT OR REPLACE INTO onchain_drawn VALUES (?, ?, ?)", (ledger, item, str(total)))


def _ledger(conn: sqlite3.Connection, certificate: bytes) -> bytes:
    """The ledger the certificate key *certificate* draws on: its own, or the one of what it replaced."""
    row = conn.execute("SELECT ledger FROM onchain_ledgers WHERE certificate = ?", (certificate,)).fetchone()
    return bytes(row[0]) if row else certificate


def record(store: Store, events: Sequence[ChainEvent], times: Mapping[int, int], last_block: int,
           block_hash: bytes | None) -> None:
    """Index *events* (with their blocks' times), project them, and move the mark to *last_block*, in one
    transaction: the one write path of the event index. Events already indexed are skipped."""
    with store.transaction() as conn:
        for event in events:
            block_time = times[event.block_number]
            conn.execute(
                "INSERT OR IGNORE INTO chain_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event.tx_hash, event.log_index, event.block_number, event.name, _subject(event),
                 json.dumps({k: _jsonable(v) for k, v in event.args.items()}), block_time))
            apply(conn, event, block_time)
        conn.execute("INSERT INTO sync_state (id, last_block, block_hash) VALUES (1, ?, ?)"
                     " ON CONFLICT (id) DO UPDATE SET last_block = excluded.last_block,"
                     " block_hash = excluded.block_hash", (last_block, block_hash))


def sync_mark(store: Store) -> tuple[int, bytes] | None:
    """The last indexed block and its hash, or None (never synced, or synced before hashes were kept)."""
    rows = store.query("SELECT last_block, block_hash FROM sync_state WHERE id = 1")
    if not rows or rows[0][1] is None:
        return None
    return int(rows[0][0]), bytes(rows[0][1])


def drop(store: Store) -> None:
    """Forget the whole index and projection (the chain reorganised below the mark): the next sync rebuilds it."""
    with store.transaction() as conn:
        for table in PROJECTED_TABLES:
            conn.execute(f"DELETE FROM {table}")  # fixed table names


_SUBJECT_KEYS = ("documentHash", "root", "issuer", "authority")


def _subject(event: ChainEvent) -> bytes | None:
    for key in _SUBJECT_KEYS:
        value = event.args.get(key)
        if isinstance(value, bytes):
            return value
        if isinstance(value, str) and value.startswith("0x"):
            return bytes.fromhex(value[2:])
    return None


def _jsonable(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


class IndexedView:
    """``inspect`` answered from the projection in the store (no RPC)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    # Complexity (radon C): rebuilds the contract's inspect() from the indexed rows, batch-of-one case included
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
        own = conn.execute("SELECT state, reason, changed_at, changed_by, replacement, replacement_root"
                           " FROM onchain_documents WHERE root = ? AND document_hash = ?",
                           (root, document_hash)).fetchone()
        changed_at, changed_by = 0, None
        if own is not None and own[0] != 0:
            changed_at, changed_by = own[2], own[3]
            if root != document_hash:
                state, reason = own[0], own[1]
        from eth_utils.address import to_checksum_address

        authority = conn.execute("SELECT authority FROM onchain_authorities WHERE country = ?", (country,)).fetchone()
        return DocumentView(
            document_hash=document_hash, root=root, issuer=to_checksum_address(issuer), country=country,
            anchored_at=anchored_at, document_count=count, authorised_at_anchoring=True,
            issuer_active=active, state=DocumentState(state), reason=reason, changed_at=changed_at,
            changed_by=to_checksum_address(changed_by) if changed_by else None,
            replacement=bytes(own[4]) if own is not None and own[4] else None,
            replacement_root=bytes(own[5]) if own is not None and own[5] else None,
            issuer_name=_name(conn, issuer), authority=to_checksum_address(authority[0]) if authority else None,
            authority_name=_name(conn, authority[0]) if authority else None,
        )


    def utilisation(self, document_hash: bytes, root: bytes, item_count: int) -> Utilisation:
        """What ``CustomsRegistry.utilisationOf`` returns, from the indexed events."""
        conn: sqlite3.Connection = self._connection()
        ledger = _ledger(conn, certificate_key(root, document_hash))
        drawn = dict(conn.execute("SELECT item, drawn FROM onchain_drawn WHERE ledger = ?", (ledger,)).fetchall())
        open_requests = conn.execute("SELECT COUNT(*) FROM onchain_requests WHERE document_hash = ? AND root = ?"
                                     " AND state = ?", (document_hash, root, int(RequestState.OPEN))).fetchone()[0]
        return Utilisation(ledger, tuple(int(drawn.get(i, 0)) for i in range(item_count)), int(open_requests))

    def issuer_active(self, issuer: str) -> bool:
        """What ``TrustRegistry.isAuthorised`` returns, from the indexed events."""
        conn: sqlite3.Connection = self._connection()
        row = conn.execute("SELECT active FROM onchain_issuers WHERE issuer = ?", (issuer.lower(),)).fetchone()
        return bool(row and row[0])


def _name(conn: sqlite3.Connection, account: str) -> str | None:
    row = conn.execute("SELECT name FROM onchain_names WHERE account = ?", (account.lower(),)).fetchone()
    return str(row[0]) if row else None


def _unanchored(document_hash: bytes, root: bytes) -> DocumentView:
    return DocumentView(document_hash, root, None, None, 0, 0, False, False, DocumentState.ACTIVE, 0, 0, None, None)
