"""Retention of the verification audit log: receipts and key-release entries older than the policy go.

Every verification the node signs is filed (:meth:`registry.storage.store.Store.add_receipt`),
public ones included, so without a limit the log grows for ever. The
:class:`AuditPruner` deletes what is older than ``COO_AUDIT_RETENTION_DAYS``
(400 by default, over the year Customs audits typically need; 0 keeps
everything), once when it starts and then every hour. Every ``checkpoint_every``
seconds (30) it also checkpoints the store's write-ahead log and truncates it, so
the WAL stays bounded under sustained writes (SQLite's own checkpoints reuse the
file but never shrink it). A pruned receipt answers
404 like an unknown one; a signed receipt a party already holds stays
verifiable by its signature against the node's account.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from registry.pipelines.worker import Worker
from registry.storage.store import Store

DAY = 86_400.0
"""Seconds in a day of retention."""

DEFAULT_RETENTION_DAYS = 400
"""Over the year Customs audits typically need."""


def retention_days(days: object) -> int:
    """*days* as a retention policy.

    Raises:
        ValueError: not a whole number of days >= 0.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"audit retention must be a whole number of days >= 0 (0 keeps for ever), not {days!r}")
    return days


class AuditPruner(Worker):
    """Deletes audit-log entries older than *days*, at start and every *interval* seconds.

    Args:
        store: the node's store.
        days: how long entries are kept; 0 keeps them for ever.
        clock: the current time in ``time.time()`` seconds (the entries' ``created_at`` clock).
        interval: seconds between two prunings.
        checkpoint_every: seconds between two checkpoints of the write-ahead log.

    Raises:
        ValueError: *days* is negative or not an integer.
    """

    def __init__(self, store: Store, days: int = DEFAULT_RETENTION_DAYS, *,
                 clock: Callable[[], float] = time.time, interval: float = 3600.0,
                 checkpoint_every: float = 30.0) -> None:
        super().__init__("coo-audit-pruner", backoff=1.0, max_backoff=60.0)
        self.store = store
        self.days = retention_days(days)
        self.clock = clock
        self.interval = interval
        self.checkpoint_every = checkpoint_every
        self._prune_due = 0.0
        self._checkpoints = 0
        self._pruned = 0
        self._count_lock = threading.Lock()

    @property
    def pruned_total(self) -> int:
        """Entries this pruner deleted since it was made (for ``/metrics``)."""
        return self._pruned

    def cutoff(self) -> float | None:
        """Entries filed before this time go; ``None`` when everything is kept."""
        return None if self.days == 0 else self.clock() - self.days * DAY

    def run_once(self) -> int:
        """Delete what is older than the retention; how many entries went."""
        before = self.cutoff()
        if before is None:
            return 0
        pruned = self.store.prune_audit(before)
        with self._count_lock:
            self._pruned += pruned
        return pruned

    @property
    def checkpoints_total(self) -> int:
        """Checkpoints that emptied the write-ahead log since this pruner was made (for ``/metrics``)."""
        return self._checkpoints

    def checkpoint(self) -> bool:
        """Checkpoint the write-ahead log and truncate it, without waiting; False when a reader kept it."""
        done = self.store.try_truncate_wal()
        if done:
            with self._count_lock:
                self._checkpoints += 1
        return done

    def round(self) -> None:
        """Prune when due (see :meth:`run_once`), then checkpoint the write-ahead log."""
        now = time.monotonic()
        if now >= self._prune_due:
            self.run_once()
            self._prune_due = now + self.interval
        self.checkpoint()

    def _idle(self) -> None:
        self._stop.wait(min(self.interval, self.checkpoint_every))
