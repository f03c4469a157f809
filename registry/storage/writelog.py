"""The durable record of chain writes: what was asked, whether the chain has it yet.

Every state-changing transaction other than anchoring (anchoring has its own
outbox of certificates and batches) is a row of ``chain_writes`` before it is
sent: its kind, the account that signs it, its arguments as JSON and, for the
node's own bookkeeping once it is on chain, a ``local`` part. The outbox
(:mod:`registry.pipelines.outbox`) moves it ``pending`` → ``sent`` → ``settled``, or to
``refused`` when the contract will never accept it; a settled write the chain
later loses (a reorg, a chain restarted from an older state) goes back to
``pending``. Arguments hold only what the transaction publishes anyway (hashes,
addresses, quantities); texts kept for the node (a request's reason) live in
``local`` and are cleared once applied.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from registry.errors import NotFoundError
from registry.storage.database import Database


class WriteKind(StrEnum):
    """What a chain write does (one contract function each)."""

    REVOKE = "revoke"
    SUPERSEDE = "supersede"
    ERASE = "erase"
    TERMS = "terms"
    UTILISE = "utilise"
    REQUEST = "request"
    ANSWER = "answer"
    ADMIT_COUNTRY = "admit-country"
    AUTHORISE_ISSUER = "authorise-issuer"
    SUSPEND_ISSUER = "suspend-issuer"
    REINSTATE_ISSUER = "reinstate-issuer"
    AUTHORISE_CUSTOMS = "authorise-customs"
    WITHDRAW_CUSTOMS = "withdraw-customs"
    NAME_ISSUER = "name-issuer"
    NAME_AUTHORITY = "name-authority"
    OA_ISSUE = "oa-issue"
    """``issue(merkleRoot)`` on this node's OpenAttestation DocumentStore (an exported certificate)."""
    OA_REVOKE = "oa-revoke"
    """``revoke(targetHash)`` on this node's OpenAttestation DocumentStore (its certificate was revoked)."""
    ZK_CLAIM = "zk-claim"
    """``record`` on this node's ``ZkClaimLog``: one claim of a proof bundle verified and recorded on chain."""


class WriteState(StrEnum):
    """Where a chain write stands."""

    PENDING = "pending"
    """Recorded; its effect is not (or no longer) on chain."""
    SENT = "sent"
    """Mined, not yet at the configured confirmation depth."""
    SETTLED = "settled"
    """Its effect is on the canonical chain at the confirmation depth."""
    REFUSED = "refused"
    """The contract refuses it (or its effect can no longer happen); never sent again."""


_COLUMNS = ("id, kind, signer, subject, args, local, state, tx_hash, block_number, attempts, error, result, applied,"
            " created_at, settled_at")


@dataclass(frozen=True)
class ChainWrite:
    """One recorded chain write."""

    id: int
    kind: WriteKind
    signer: str
    subject: str | None
    args: dict[str, Any]
    local: dict[str, Any] | None
    state: WriteState
    tx_hash: str | None
    block_number: int | None
    attempts: int
    error: str | None
    result: dict[str, Any] | None
    applied: bool
    created_at: float
    settled_at: float | None

    def to_json(self) -> dict[str, Any]:
        """The public view (no ``local`` part)."""
        return {"id": self.id, "kind": self.kind.value, "state": self.state.value, "signer": self.signer,
                "tx_hash": self.tx_hash, "block_number": self.block_number, "attempts": self.attempts,
                "error": self.error, "result": self.result, "created_at": _iso(self.created_at),
                "settled_at": None if self.settled_at is None else _iso(self.settled_at)}


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _row(r: Sequence[Any]) -> ChainWrite:
    return ChainWrite(int(r[0]), WriteKind(r[1]), r[2], r[3], json.loads(r[4]),
                      None if r[5] is None else json.loads(r[5]),
                      WriteState(r[6]), r[7], r[8], int(r[9]), r[10], None if r[11] is None else json.loads(r[11]),
                      bool(r[12]), float(r[13]), r[14])


class WriteLog:
    """The ``chain_writes`` table of the node's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, kind: WriteKind, signer: str, args: Mapping[str, Any], *, subject: str | None = None,
            local: Mapping[str, Any] | None = None) -> ChainWrite:
        """Record a write, ``pending``, before anything is sent."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO chain_writes (kind, signer, subject, args, local, state, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kind.value, signer, subject, json.dumps(dict(args)),
                 None if local is None else json.dumps(dict(local)),
                 WriteState.PENDING.value, time.time()))
            write_id = int(cursor.lastrowid or 0)
        return self.get(write_id)

    def get(self, write_id: int) -> ChainWrite:
        """One write.

        Raises:
            NotFoundError: no such write.
        """
        rows = self.db.query(f"SELECT {_COLUMNS} FROM chain_writes WHERE id = ?", (write_id,))
        if not rows:
            raise NotFoundError("chain write", str(write_id))
        return _row(rows[0])

    def unsettled(self) -> list[ChainWrite]:
        """Pending and sent writes, oldest first (the order they must reach the chain in)."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM chain_writes WHERE state IN (?, ?) ORDER BY id",
                             (WriteState.PENDING.value, WriteState.SENT.value))
        return [_row(r) for r in rows]

    def settled_since(self, since: float) -> list[ChainWrite]:
        """Writes settled since *since* whose effect still stands: the latest settled one per subject
        (a reinstatement makes the suspension before it moot), and every one without a subject."""
        rows = self.db.query(
            f"SELECT {_COLUMNS} FROM chain_writes w WHERE state = ? AND settled_at >= ? AND (subject IS NULL OR NOT"
            " EXISTS (SELECT 1 FROM chain_writes later WHERE later.subject = w.subject AND later.id > w.id"
            " AND later.state <> ?)) ORDER BY id", (WriteState.SETTLED.value, since, WriteState.REFUSED.value))
        return [_row(r) for r in rows]

    def unapplied(self) -> list[ChainWrite]:
        """Settled writes whose bookkeeping on this node has not run (a crash came in between)."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM chain_writes WHERE state = ? AND applied = 0 ORDER BY id",
                             (WriteState.SETTLED.value,))
        return [_row(r) for r in rows]

    def open_for(self, subject: str) -> list[ChainWrite]:
        """Unsettled writes about *subject*, oldest first."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM chain_writes WHERE subject = ? AND state IN (?, ?) ORDER BY id",
                             (subject, WriteState.PENDING.value, WriteState.SENT.value))
        return [_row(r) for r in rows]

    def about(self, subject: str, kind: WriteKind) -> list[ChainWrite]:
        """Every write of *kind* about *subject* but the refused ones, oldest first (e.g. a certificate's exports)."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM chain_writes WHERE subject = ? AND kind = ? AND state <> ?"
                             " ORDER BY id", (subject, kind.value, WriteState.REFUSED.value))
        return [_row(r) for r in rows]

    def claimed_results(self, kind: WriteKind, key: str) -> set[Any]:
        """The ``result[key]`` of every settled or sent write of *kind* (e.g. the request ids already taken)."""
        rows = self.db.query("SELECT json_extract(result, ?) FROM chain_writes WHERE kind = ? AND result IS NOT NULL",
                             (f"$.{key}", kind.value))
        return {r[0] for r in rows if r[0] is not None}

    def mark(self, write_id: int, state: WriteState, *, tx_hash: str | None = None, block_number: int | None = None,
             error: str | None = None, result: Mapping[str, Any] | None = None, attempted: bool = False) -> ChainWrite:
        """Move a write to *state*, keeping the transaction, the error or the result it gives."""
        settled_at = time.time() if state is WriteState.SETTLED else None
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE chain_writes SET state = ?, tx_hash = COALESCE(?, tx_hash),"
                " block_number = CASE WHEN ? = 'pending' THEN ? ELSE COALESCE(?, block_number) END,"
                " error = ?, result = COALESCE(?, result), attempts = attempts + ?,"
                " settled_at = COALESCE(?, CASE WHEN ? = 'settled' THEN settled_at END) WHERE id = ?",
                (state.value, tx_hash, state.value, block_number, block_number, error,
                 None if result is None else json.dumps(dict(result)), int(attempted), settled_at, state.value,
                 write_id))
        return self.get(write_id)

    def applied(self, write_id: int) -> None:
        """Note that the node's own bookkeeping for a settled write is done; its ``local`` part is dropped."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE chain_writes SET applied = 1, local = NULL WHERE id = ?", (write_id,))

    def counts(self) -> dict[WriteState, int]:
        """How many writes are in each state."""
        found = {str(r[0]): int(r[1]) for r in self.db.query("SELECT state, COUNT(*) FROM chain_writes GROUP BY state")}
        return {state: found.get(state.value, 0) for state in WriteState}

    def oldest_open_age(self) -> float | None:
        """Seconds since the oldest unsettled write was recorded, or None."""
        rows = self.db.query("SELECT MIN(created_at) FROM chain_writes WHERE state IN (?, ?)",
                             (WriteState.PENDING.value, WriteState.SENT.value))
        return None if rows[0][0] is None else max(0.0, time.time() - float(rows[0][0]))


__all__ = ["ChainWrite", "WriteKind", "WriteLog", "WriteState"]
