"""Filing a verification receipt: one statement, never over another, and no sealed contents once the
document's erasure has begun (a verification that read the key just before it cannot put contents back)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from registry.errors import ConflictError
from registry.storage.store import Store, begin_erasure
from tests.registry.storage.test_receipt_history import receipt


def test_a_receipt_filed_after_the_erasure_began_keeps_no_contents(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    before = replace(receipt("k1"), contents=b"sealed report")
    store.add_receipt(before)
    assert store.receipt(before.id).contents == b"sealed report"
    with store.transaction() as conn:
        begin_erasure(conn, before.document_hash or b"", None, "released", time.time())
    late = replace(receipt("k1"), contents=b"sealed under the key read before the erasure")
    store.add_receipt(late)
    assert store.receipt(before.id).contents is None  # dropped by the erasure
    assert store.receipt(late.id).contents is None  # and not put back by a verification that was under way
    other = replace(receipt("k1"), document_hash=b"\x02" * 32, contents=b"another document's report")
    store.add_receipt(other)
    assert store.receipt(other.id).contents == b"another document's report"


def test_a_receipt_id_is_filed_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    first = receipt("k1")
    store.add_receipt(first)
    with pytest.raises(ConflictError, match="already in the audit log"):
        store.add_receipt(replace(first, verdict="INVALID"))
    assert store.receipt(first.id) == first
