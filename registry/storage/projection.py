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
from functools import lru_cache
from typing import Any

from eth_utils.address import to_checksum_address

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


_INSPECT = (
    "SELECT b.issuer, b.anchored_at, b.document_count, b.state, b.reason, i.country, i.active,"
    " d.state, d.reason, d.changed_at, d.changed_by, d.replacement, d.replacement_root,"
    " a.authority, issuer_name.name, authority_name.name"
    " FROM onchain_batches b"
    " LEFT JOIN onchain_issuers i ON i.issuer = b.issuer"
    " LEFT JOIN onchain_documents d ON d.root = b.root AND d.document_hash = ?"
    " LEFT JOIN onchain_authorities a ON a.country = i.country"
    " LEFT JOIN onchain_names issuer_name ON issuer_name.account = b.issuer"
    " LEFT JOIN onchain_names authority_name ON authority_name.account = a.authority"
    " WHERE b.root = ?")
"""A document's batch, its issuer's standing, its own status, the issuer's authority and both names: one
statement, each table read by its primary key (accounts are stored lower-case, as the events are applied)."""

_LEDGER = "COALESCE((SELECT ledger FROM onchain_ledgers WHERE certificate = :key), :key)"

_UTILISATION = (
    f"SELECT {_LEDGER}, NULL, NULL, (SELECT COUNT(*) FROM onchain_requests"
    " WHERE document_hash = :document_hash AND root = :root AND state = :open)"
    f" UNION ALL SELECT NULL, item, drawn, NULL FROM onchain_drawn WHERE ledger = {_LEDGER}")
"""The ledger a certificate draws on (its own, or the one of what it replaced, as :func:`_ledger`) with its open
verification requests (the row whose item is NULL), and what is drawn on each item of that ledger (one row
each): one statement, every table read by its primary key or an index."""


class IndexedView:
    """``inspect`` answered from the projection in the store (no RPC)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def inspect(self, document_hash: bytes, proof: Sequence[bytes] = ()) -> DocumentView:
        """What ``CertificateRegistry.inspect`` returns, from the indexed events (one statement)."""
        conn: sqlite3.Connection = self._connection()
        root = process_proof(document_hash, proof)
        found = conn.execute(_INSPECT, (document_hash, root)).fetchone()
        if found is None or (root == document_hash and found[2] != 1):
            return _unanchored(document_hash, root)
        issuer, anchored_at, count, _, _, country, active = found[:7]
        state, reason, changed_at, changed_by = _status(found, batch_of_one=root == document_hash)
        replacement, replacement_root, authority, issuer_name, authority_name = found[11:]
        return DocumentView(
            document_hash=document_hash, root=root, issuer=_checksummed(issuer), country=country,
            anchored_at=anchored_at, document_count=count, authorised_at_anchoring=True,
            issuer_active=bool(active), state=DocumentState(state), reason=reason, changed_at=changed_at,
            changed_by=_account(changed_by), replacement=_blob(replacement), replacement_root=_blob(replacement_root),
            issuer_name=_text(issuer_name), authority=_account(authority), authority_name=_text(authority_name))

    def utilisation(self, document_hash: bytes, root: bytes, item_count: int) -> Utilisation:
        """What ``CustomsRegistry.utilisationOf`` returns, from the indexed events (one statement)."""
        conn: sqlite3.Connection = self._connection()
        rows = conn.execute(_UTILISATION, {"key": certificate_key(root, document_hash), "document_hash": document_hash,
                                           "root": root, "open": int(RequestState.OPEN)}).fetchall()
        ledger, _, _, open_requests = next(row for row in rows if row[1] is None)
        drawn = {row[1]: row[2] for row in rows if row[1] is not None}
        return Utilisation(bytes(ledger), tuple(int(drawn.get(i, 0)) for i in range(item_count)), int(open_requests))

    def issuer_active(self, issuer: str) -> bool:
        """What ``TrustRegistry.isAuthorised`` returns, from the indexed events."""
        conn: sqlite3.Connection = self._connection()
        row = conn.execute("SELECT active FROM onchain_issuers WHERE issuer = ?", (issuer.lower(),)).fetchone()
        return bool(row and row[0])


def _status(found: sqlite3.Row, *, batch_of_one: bool) -> tuple[int, int, int, str | None]:
    """(state, reason, changed at, changed by) of an :data:`_INSPECT` row, as the contract has it: the
    document's own status when it has one (a batch of one keeps its state and reason in the batch record),
    else the batch's, with no change recorded."""
    state, reason, own_state, own_reason, changed_at, changed_by = found[3], found[4], *found[7:11]
    if not own_state:
        return state, reason, 0, None
    if batch_of_one:
        return state, reason, changed_at, changed_by
    return own_state, own_reason, changed_at, changed_by


def _account(value: str | None) -> str | None:
    return _checksummed(value) if value else None


def _blob(value: bytes | None) -> bytes | None:
    return bytes(value) if value else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@lru_cache(maxsize=4096)
def _checksummed(account: str) -> str:
    """*account* in EIP-55 form, computed once per account (a keccak each time otherwise; accounts are public)."""
    return str(to_checksum_address(account))


def _unanchored(document_hash: bytes, root: bytes) -> DocumentView:
    return DocumentView(document_hash, root, None, None, 0, 0, False, False, DocumentState.ACTIVE, 0, 0, None, None)
