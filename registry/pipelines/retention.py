"""Retention of the verification audit log: receipts and key-release entries older than the policy go.

Every verification the node signs is filed (:meth:`registry.storage.store.Store.add_receipt`),
public ones included, so without a limit the log grows for ever. The
:class:`AuditPruner` deletes what is older than ``COO_AUDIT_RETENTION_DAYS``
(400 by default, over the year Customs audits typically need; 0 keeps
everything), once when it starts and then every hour. A pruned receipt answers
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
        interval: seconds between rounds.

    Raises:
        ValueError: *days* is negative or not an integer.
    """

    def __init__(self, store: Store, days: int = DEFAULT_RETENTION_DAYS, *,
                 clock: Callable[[], float] = time.time, interval: float = 3600.0) -> None:
        super().__init__("coo-audit-pruner", backoff=1.0, max_backoff=60.0)
        self.store = store
        self.days = retention_days(days)
        self.clock = clock
        self.interval = interval
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

    def round(self) -> None:
        """One pass (see :meth:`run_once`)."""
        self.run_once()

    def _idle(self) -> None:
        self._stop.wait(self.interval)
