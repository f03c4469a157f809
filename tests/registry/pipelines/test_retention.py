"""Retention of the verification audit log: what is older than the policy goes, nothing newer, nothing at 0.

The tests file entries through the store's own methods and then age them
(``created_at`` is the filing time), and give the pruner a clock of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.errors import NotFoundError
from registry.pipelines.retention import DAY, DEFAULT_RETENTION_DAYS, AuditPruner
from registry.runtime import NodeConfig
from registry.storage.store import ReceiptRecord, Store

NOW = 2_000_000_000.0
"""The test clock (2033): far from the real time the rows are filed at."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "registry.db", secure_delete=False)
    yield opened
    opened.close()


class Clock:
    """The pruner's clock: always *now*; :attr:`asked` is set once a round has read it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.asked = threading.Event()

    def __call__(self) -> float:
        self.asked.set()
        return self.now


def first_round(pruner: AuditPruner, clock: Clock) -> None:
    """Start *pruner* and stop it once its first round is under way (:meth:`stop` waits for the round)."""
    pruner.start()
    try:
        assert clock.asked.wait(10), "the pruner did not start a round"
    finally:
        pruner.stop()


def receipt(receipt_id: str) -> ReceiptRecord:
    return ReceiptRecord(id=receipt_id, document_hash=b"\x01" * 32, issuer="0xissuer", importing_country="JP",
                         verdict="VALID", report_hash="0x" + "ab" * 32, checked_at="2026-01-01T00:00:00+00:00",
                         chain_head=7, node_account="0xnode", signature="0x" + "cd" * 65, contents=b"sealed report")


def file_aged(store: Store, receipt_id: str, filed_at: float) -> None:
    """File a verification receipt and a key-release entry named *receipt_id* as if at *filed_at*."""
    store.add_receipt(receipt(receipt_id))
    store.append_audit(f"release-{receipt_id}", {"receipt_id": receipt_id, "verdict": "VALID"})
    with store.transaction() as conn:
        conn.execute("UPDATE verification_receipts SET created_at = ? WHERE id = ?", (filed_at, receipt_id))
        conn.execute("UPDATE audit_log SET created_at = ? WHERE id = ?", (filed_at, f"release-{receipt_id}"))


def traces(store: Store, receipt_id: str) -> int:
    """Rows of either table that still name *receipt_id* anywhere (id or JSON text)."""
    pattern = f"%{receipt_id}%"
    rows = store.query("SELECT (SELECT COUNT(*) FROM verification_receipts WHERE id LIKE ? OR signature LIKE ?)"
                       " + (SELECT COUNT(*) FROM audit_log WHERE id LIKE ? OR receipt LIKE ?)", (pattern,) * 4)
    return int(rows[0][0])


def held(store: Store, receipt_id: str) -> bool:
    try:
        store.receipt(receipt_id)
        store.audit_entry(f"release-{receipt_id}")
    except NotFoundError:
        return False
    return True


def test_entries_older_than_the_retention_go_and_newer_ones_stay(store: Store) -> None:
    file_aged(store, "old", NOW - 401 * DAY)
    file_aged(store, "ancient", NOW - 3000 * DAY)
    file_aged(store, "recent", NOW - 399 * DAY)
    file_aged(store, "today", NOW - 60)

    pruner = AuditPruner(store, 400, clock=lambda: NOW)
    assert pruner.run_once() == 4  # two receipts and two key-release entries
    assert pruner.pruned_total == 4

    for gone in ("old", "ancient"):
        with pytest.raises(NotFoundError):
            store.receipt(gone)
        with pytest.raises(NotFoundError):
            store.audit_entry(f"release-{gone}")
        assert traces(store, gone) == 0
    for kept in ("recent", "today"):
        assert held(store, kept) and store.receipt(kept) == receipt(kept)
    assert pruner.run_once() == 0 and pruner.pruned_total == 4


def test_prune_deletes_strictly_before_the_cutoff(store: Store) -> None:
    file_aged(store, "before", NOW - 1)
    file_aged(store, "at", NOW)
    file_aged(store, "after", NOW + 1)
    assert store.prune_audit(NOW) == 2
    assert not held(store, "before") and held(store, "at") and held(store, "after")
    assert int(store.query("SELECT COUNT(*) FROM verification_receipts")[0][0]) == 2


def test_zero_days_keeps_everything(store: Store) -> None:
    file_aged(store, "ancient", NOW - 36_500 * DAY)
    file_aged(store, "today", NOW)
    pruner = AuditPruner(store, 0, clock=lambda: NOW + 36_500 * DAY)
    assert pruner.cutoff() is None
    assert pruner.run_once() == 0 and pruner.pruned_total == 0
    assert held(store, "ancient") and held(store, "today")


def test_the_worker_prunes_once_when_it_starts(store: Store) -> None:
    file_aged(store, "old", NOW - 401 * DAY)
    file_aged(store, "recent", NOW - DAY)
    clock = Clock()
    pruner = AuditPruner(store, 400, clock=clock, interval=3600.0)
    first_round(pruner, clock)
    assert pruner.health.failures == 0 and pruner.pruned_total == 2
    assert not held(store, "old") and held(store, "recent")


def test_a_failing_round_is_reported_and_deletes_nothing(tmp_path: Path) -> None:
    broken = Store(tmp_path / "broken.db")
    broken.close()  # every later call raises StoreError
    clock = Clock()
    pruner = AuditPruner(broken, 400, clock=clock, interval=3600.0)
    first_round(pruner, clock)  # the round fails and is recorded before the thread ends
    assert pruner.health.failures == 1 and "StoreError" in (pruner.health.last_error or "")
    assert pruner.pruned_total == 0


@pytest.mark.parametrize("days", [-1, 1.5, "400", True, None])
def test_a_bad_retention_is_refused_before_the_node_starts(tmp_path: Path, days: object) -> None:
    with pytest.raises(ValueError, match="audit retention"):
        NodeConfig(data_dir=tmp_path / "never-created", audit_retention_days=days)  # type: ignore[arg-type]
    assert not (tmp_path / "never-created").exists()
    store = Store(tmp_path / "x.db")
    try:
        with pytest.raises(ValueError, match="audit retention"):
            AuditPruner(store, days)  # type: ignore[arg-type]
    finally:
        store.close()


def test_default_retention_is_over_a_year(tmp_path: Path) -> None:
    assert NodeConfig(data_dir=tmp_path).audit_retention_days == DEFAULT_RETENTION_DAYS == 400  # over a leap year
