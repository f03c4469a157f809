"""The audit log (verification receipts, key releases), its retention, and API keys."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.custody.apikeys import Principal, Role, StoredKey
from registry.errors import ConflictError, NotFoundError, ValidationError
from registry.storage.database import Database


@dataclass(frozen=True)
class ReceiptRecord:
    """One verification receipt in the audit log; ``contents`` is the report sealed under the data key."""

    id: str
    document_hash: bytes | None
    issuer: str | None
    importing_country: str | None
    verdict: str
    report_hash: str
    checked_at: str
    chain_head: int | None
    node_account: str
    signature: str
    contents: bytes | None
    key_id: str | None = None
    """The id of the API key that asked (never the key); None when asked without one."""


@dataclass(frozen=True)
class ReceiptQuery:
    """Which attributed receipts to list (every filter given must hold), a page at a time.

    ``key_id`` None lists every key's receipts (an admin's view); receipts filed
    without a key are never listed. ``since``/``until`` bound the filing time
    (``time.time()`` seconds, ``since`` inclusive, ``until`` exclusive); ``after`` is the
    id of the last receipt of the previous page.
    """

    key_id: str | None = None
    verdict: str | None = None
    since: float | None = None
    until: float | None = None
    after: str | None = None
    limit: int = 50


_RECEIPT_COLUMNS = ", ".join(ReceiptRecord.__dataclass_fields__)

_KEPT_CONTENTS = ("CASE WHEN EXISTS (SELECT 1 FROM erasures WHERE document_hash = :document_hash) THEN NULL"
                  " ELSE :contents END")

_FILE_RECEIPT = (
    f"INSERT INTO verification_receipts ({_RECEIPT_COLUMNS}, created_at) VALUES ("
    + ", ".join(_KEPT_CONTENTS if name == "contents" else f":{name}" for name in ReceiptRecord.__dataclass_fields__)
    + ", :created_at) ON CONFLICT (id) DO NOTHING")
"""File one receipt (named parameters: its fields and ``created_at``); nothing when the id is already filed."""


class AuditTables(Database):
    """The ``audit_log``, ``verification_receipts`` and ``api_keys`` tables."""

    # -- audit log and API keys ----------------------------------------------------------

    def append_audit(self, receipt_id: str, receipt: Mapping[str, Any]) -> None:
        """Append a signed verification receipt to the audit log.

        Raises:
            ConflictError: *receipt_id* is already in the log (entries are never overwritten).
        """
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM audit_log WHERE id = ?", (receipt_id,)).fetchone():
                raise ConflictError(f"verification receipt {receipt_id} is already in the audit log")
            conn.execute("INSERT INTO audit_log (id, receipt, created_at) VALUES (?, ?, ?)",
                         (receipt_id, json.dumps(dict(receipt)), time.time()))

    def audit_entry(self, receipt_id: str) -> dict[str, Any]:
        """A verification receipt by id.

        Raises:
            NotFoundError: unknown id.
        """
        rows = self._query("SELECT receipt FROM audit_log WHERE id = ?", (receipt_id,))
        if not rows:
            raise NotFoundError("verification receipt", receipt_id)
        data: dict[str, Any] = json.loads(rows[0][0])
        return data

    def add_receipt(self, record: ReceiptRecord) -> None:
        """Append a signed verification receipt (its contents already sealed) to the audit log, in one statement.

        The contents are dropped when the document's erasure has begun: a verification that read the key
        just before the erasure cannot put contents back after it dropped every receipt's.

        Raises:
            ConflictError: the id is already in the log (entries are never overwritten).
        """
        if not self.add_receipts([record])[0]:
            raise ConflictError(f"verification receipt {record.id} is already in the audit log")

    def add_receipts(self, records: Sequence[ReceiptRecord]) -> list[bool]:
        """Append receipts as :meth:`add_receipt` does, all in one transaction (a group commit,
        :class:`registry.storage.filing.ReceiptFiler`); for each, whether it was filed (False: its id
        already was, and that entry is left as it is)."""
        with self.transaction() as conn:  # each filed at its own time, in the order given (histories list by it)
            return [conn.execute(_FILE_RECEIPT, {**record.__dict__, "created_at": time.time()}).rowcount > 0
                    for record in records]

    def receipt(self, receipt_id: str) -> ReceiptRecord:
        """A verification receipt by id.

        Raises:
            NotFoundError: unknown id.
        """
        rows = self._query(f"SELECT {_RECEIPT_COLUMNS} FROM verification_receipts WHERE id = ?", (receipt_id,))
        if not rows:
            raise NotFoundError("verification receipt", receipt_id)
        return _receipt_record(rows[0])

    def receipts(self, query: ReceiptQuery) -> list[ReceiptRecord]:
        """Receipts filed with a key and matching *query*, newest filed first, at most ``query.limit``.

        Keyset pagination, as :meth:`registry.storage.store.Store.certificates`: stable while
        new receipts are filed. The cursor must be a receipt the same listing holds, so a
        caller cannot learn when someone else's verification was filed by paging from it.

        Raises:
            ValidationError: ``query.after`` is not a receipt of this listing.
        """
        where, args = ["key_id IS NOT NULL"], []
        for clause, value in (("key_id = ?", query.key_id), ("verdict = ?", query.verdict),
                              ("created_at >= ?", query.since), ("created_at < ?", query.until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if query.after is not None:
            scope = "key_id IS NOT NULL" + (" AND key_id = ?" if query.key_id is not None else "")
            found = self._query(f"SELECT created_at, id FROM verification_receipts WHERE id = ? AND {scope}",
                                (query.after, *([query.key_id] if query.key_id is not None else [])))
            if not found:
                raise ValidationError("after: not a receipt of this history (pass the `next` of the previous page)",
                                      [{"loc": "after", "msg": "not a receipt of this history"}])
            where.append("(created_at, id) < (?, ?)")
            args += [found[0]["created_at"], found[0]["id"]]
        rows = self._query(f"SELECT {_RECEIPT_COLUMNS} FROM verification_receipts WHERE {' AND '.join(where)}"
                           " ORDER BY created_at DESC, id DESC LIMIT ?", (*args, query.limit))
        return [_receipt_record(r) for r in rows]

    def audit_rows(self) -> int:
        """Entries in the audit log: verification receipts and key-release entries (for ``/metrics``)."""
        rows = self._query("SELECT (SELECT COUNT(*) FROM verification_receipts) + (SELECT COUNT(*) FROM audit_log)")
        return int(rows[0][0])

    def prune_audit(self, before: float) -> int:
        """Delete the verification receipts and key-release entries of the audit log filed before *before*
        (``time.time()`` seconds), in one transaction (the retention policy, :mod:`registry.pipelines.retention`).

        WARNING: irreversible; a receipt a party already holds stays verifiable by its signature.

        Returns:
            How many rows were deleted (both tables).
        """
        with self.transaction() as conn:
            return sum(conn.execute(f"DELETE FROM {table} WHERE created_at < ?", (before,)).rowcount
                       for table in ("verification_receipts", "audit_log"))

    def save_api_key(self, key: StoredKey) -> None:
        """Persist a minted API key (salted hash only)."""
        p = key.principal
        with self.transaction() as conn:
            conn.execute("INSERT INTO api_keys (key_id, role, country, account, label, salt, digest, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (p.key_id, p.role.value, p.country, p.account, p.label, key.salt, key.digest, time.time()))

    def load_api_key(self, key_id: str) -> StoredKey | None:
        """An API key record by id, or None."""
        rows = self._query("SELECT key_id, role, country, account, label, salt, digest FROM api_keys WHERE key_id = ?",
                           (key_id,))
        if not rows:
            return None
        r = rows[0]
        principal = Principal(r["key_id"], Role(r["role"]), r["country"], r["account"], r["label"])
        return StoredKey(principal, bytes(r["salt"]), bytes(r["digest"]))

    def list_api_keys(self) -> list[tuple[Principal, float]]:
        """Every API key's principal and creation time (never its salt or digest), oldest first."""
        rows = self._query("SELECT key_id, role, country, account, label, created_at FROM api_keys"
                           " ORDER BY created_at, key_id")
        return [(Principal(r["key_id"], Role(r["role"]), r["country"], r["account"], r["label"]),
                 float(r["created_at"])) for r in rows]

    def delete_api_key(self, key_id: str) -> bool:
        """Forget an API key (it no longer authenticates); whether there was one."""
        with self.transaction() as conn:
            return conn.execute("DELETE FROM api_keys WHERE key_id = ?", (key_id,)).rowcount > 0

    def count_api_keys(self) -> int:
        """How many API keys exist."""
        return int(self._query("SELECT COUNT(*) FROM api_keys")[0][0])


def _receipt_record(row: sqlite3.Row) -> ReceiptRecord:
    data = dict(row)
    for name in ("document_hash", "contents"):
        data[name] = None if data[name] is None else bytes(data[name])
    return ReceiptRecord(**data)


__all__ = ["AuditTables", "ReceiptQuery", "ReceiptRecord"]
