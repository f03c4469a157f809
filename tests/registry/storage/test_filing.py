"""Group commit of verification receipts: concurrent receipts of one process in one transaction, each caller
answered only once its own receipt is committed, and told when it was not filed."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from registry.errors import ConflictError, StoreError
from registry.storage.audit import ReceiptQuery, ReceiptRecord
from registry.storage.filing import ReceiptFiler
from registry.storage.store import Store
from tests.registry.storage.test_receipt_history import receipt


class _HeldLog:
    """A receipt log whose first transaction waits for :attr:`release` (:attr:`entered` set meanwhile); it
    records every transaction."""

    def __init__(self, refuse: frozenset[str] = frozenset(), fail: bool = False) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.transactions: list[list[str]] = []
        self.committed: set[str] = set()
        self.refuse, self.fail = refuse, fail

    def add_receipts(self, records: list[ReceiptRecord]) -> list[bool]:
        if not self.transactions:
            self.entered.set()
            self.release.wait(30)
        self.transactions.append([r.id for r in records])
        if self.fail and len(self.transactions) > 1:
            raise StoreError("store write failed: disk I/O error")
        self.committed |= {r.id for r in records if r.id not in self.refuse}
        return [r.id not in self.refuse for r in records]


def _file_while_the_first_commits(log: _HeldLog, ids: list[str]) -> dict[str, object]:
    """File *ids* from one thread each, the first one's transaction held until all the others are queued;
    what each caller saw when its call returned: True (its receipt committed by then) or the error."""
    filer = ReceiptFiler(log)
    seen: dict[str, object] = {}

    def file(receipt_id: str) -> None:
        try:
            filer.file(replace(receipt("k1"), id=receipt_id))
            seen[receipt_id] = receipt_id in log.committed
        except (ConflictError, StoreError) as error:
            seen[receipt_id] = error

    first = threading.Thread(target=file, args=(ids[0],))
    first.start()
    log.entered.wait(30)  # the first one is committing
    others = [threading.Thread(target=file, args=(i,)) for i in ids[1:]]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 30
    while len(filer._queue) < len(others) and time.monotonic() < deadline:  # every other one is queued
        time.sleep(0.001)
    log.release.set()
    for thread in [first, *others]:
        thread.join(30)
    return seen


def test_receipts_arriving_during_a_commit_are_filed_together_each_answered_once_committed() -> None:
    log = _HeldLog()
    seen = _file_while_the_first_commits(log, ["a", "b", "c", "d"])
    assert log.transactions[0] == ["a"] and sorted(log.transactions[1]) == ["b", "c", "d"]
    assert len(log.transactions) == 2
    assert seen == {"a": True, "b": True, "c": True, "d": True}


def test_in_a_group_only_the_receipt_already_filed_is_refused() -> None:
    seen = _file_while_the_first_commits(_HeldLog(refuse=frozenset({"c"})), ["a", "b", "c"])
    assert seen["a"] is True and seen["b"] is True
    assert isinstance(seen["c"], ConflictError) and "already in the audit log" in str(seen["c"])


def test_a_failed_transaction_tells_every_receipt_of_its_group() -> None:
    seen = _file_while_the_first_commits(_HeldLog(fail=True), ["a", "b", "c"])
    assert seen["a"] is True
    assert all(isinstance(seen[i], StoreError) and "was not filed" in str(seen[i]) for i in ("b", "c"))


def test_concurrent_receipts_are_all_in_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    filer = ReceiptFiler(store)
    records = [receipt("k1") for _ in range(40)]
    threads = [threading.Thread(target=filer.file, args=(r,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {r.id for r in store.receipts(ReceiptQuery(key_id="k1", limit=100))} == {r.id for r in records}
    with pytest.raises(ConflictError):
        filer.file(records[0])
