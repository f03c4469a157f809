"""Group commit of verification receipts: the receipts of concurrent verifications in one process, filed in one
transaction by one thread, each verification answered only once its own receipt is committed.

Every verification files a signed receipt before it answers, and a write transaction costs about as
much again as the rows it writes (``BEGIN IMMEDIATE``, the WAL frames, ``COMMIT``); threads of one
process each opening their own would also queue on SQLite's write lock, whose busy handler waits by
sleeping. Here a thread that files takes the process's writer turn; while it commits, the receipts of
the threads that arrive queue up, and the next thread to take the turn files every queued receipt in
one transaction. A thread whose receipt a previous turn already committed returns at once. No
thread is added, and no receipt waits for a timer: a receipt alone is filed at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from registry.errors import ConflictError, StoreError
from registry.storage.audit import ReceiptRecord


class ReceiptLog(Protocol):
    """Where receipts are filed (the store)."""

    def add_receipts(self, records: list[ReceiptRecord]) -> list[bool]: ...


@dataclass
class _Filing:
    record: ReceiptRecord
    done: bool = False
    error: Exception | None = None


class ReceiptFiler:
    """Files receipts into *log*, those of concurrent callers of this process in one transaction."""

    def __init__(self, log: ReceiptLog) -> None:
        self._log = log
        self._queue: list[_Filing] = []
        self._queued = threading.Lock()
        self._turn = threading.Lock()
        """Held by the one thread of this process that is writing receipts."""

    def file(self, record: ReceiptRecord) -> None:
        """File *record*; return once it is committed (durable before the caller answers).

        Raises:
            ConflictError: its id is already filed (entries are never overwritten).
            StoreError: the transaction that held it failed (nothing of it was filed).
        """
        mine = _Filing(record)
        with self._queued:
            self._queue.append(mine)
        with self._turn:
            if not mine.done:  # not committed by the previous turn: this turn files everything queued
                with self._queued:
                    group, self._queue = self._queue, []
                self._commit(group)
        if mine.error is not None:
            raise mine.error
        if not mine.done:  # the turn that took it was interrupted before it could say
            raise StoreError(f"verification receipt {record.id} could not be filed")

    def _commit(self, group: list[_Filing]) -> None:
        """One transaction for *group*; each filing marked done, with its own error if it has one."""
        try:
            filed = self._log.add_receipts([filing.record for filing in group])
        except Exception as error:  # every filing of the group learns it was not filed, whatever the cause
            filed = [False] * len(group)
            for filing in group:
                filing.error = StoreError(f"verification receipt {filing.record.id} was not filed: {error}")
        for filing, ok in zip(group, filed, strict=True):
            if not ok and filing.error is None:
                filing.error = ConflictError(f"verification receipt {filing.record.id} is already in the audit log")
            filing.done = True


__all__ = ["ReceiptFiler", "ReceiptLog"]
