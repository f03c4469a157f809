"""The store's write gate: one write transaction at a time across the node's threads and processes,
each waiter woken the moment the gate is free.

Why not SQLite's own lock alone: a connection that finds the database locked polls it, sleeping
1, 2, 5, 10, … up to 100 ms between tries (``sqlite3_busy_timeout``). Under a registration flood
two API worker processes take turns holding the write lock almost all the time, and the chain
writer's anchoring transaction, polling between their transactions, lost nearly every race: the
anchoring worker spent 77 % of its time asleep in ``BEGIN IMMEDIATE`` (py-spy, 10,000-certificate
flood) and certificates waited 15–30 s to be anchored.

The gate is a :class:`threading.Lock` for the threads of one process, then an exclusive ``flock``
on a file beside the database for the processes: a process waiting in ``flock`` is woken by the
kernel when the holder lets go, so the writer competes for every release instead of sleeping
through them. SQLite's own lock and busy timeout stay underneath, for connections that do not
take the gate (a migration, a tool, a test).

Holders are only store write transactions (:meth:`registry.storage.database.Database.transaction`):
short SQL work, never a chain call, and never the key vault's lock (taken before a transaction,
not inside one). A process that dies releases its ``flock`` with its descriptors.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry.errors import StoreError

WAIT_S = 30.0
"""Seconds a thread waits for another thread of its process to finish writing (SQLite's busy timeout too)."""


class WriteGate:
    """Exclusive access to write *path*'s database, for one thread of one process at a time.

    Args:
        path: the lock file (created 0600 on first use).
        wait: seconds a thread waits behind the other threads of its process.
    """

    def __init__(self, path: Path, wait: float = WAIT_S) -> None:
        self.path = path
        self.wait = wait
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = os.getpid()

    def _descriptor(self) -> int:
        """This process's descriptor of the lock file (a forked child opens its own: flock locks belong to an
        open file, which a child would share with its parent)."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the gate for one write transaction.

        Raises:
            StoreError: another thread of this process held it for longer than ``wait`` seconds.
        """
        if not self._threads.acquire(timeout=self.wait):
            raise StoreError(f"store write failed: another writer held the store for over {self.wait:.0f} s")
        try:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        """Close this process's descriptor (the gate reopens it if used again)."""
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


__all__ = ["WriteGate"]
