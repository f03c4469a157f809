"""An API worker process's side of chain writes: it records them in the store and waits; it sends none.

``coo up --workers N`` runs one *chain writer* process and N API worker processes on
one port, over one SQLite store. Only the writer sends transactions: it runs the
anchoring worker, the chain-write outbox (:class:`~registry.pipelines.outbox.Outbox`),
the event index, the shredder and the audit pruner, and it alone counts the signing
accounts' nonces. An API worker's runtime is built from the parts here instead:

* :class:`StoreOutbox` records a write in the write log, wakes the writer, and polls
  the store until the writer has settled it (and run its bookkeeping), at most
  ``bound`` seconds; then it raises :class:`~registry.errors.WritePending` and the
  API answers ``202`` with the write's status link, as it does for any slow write.
* :class:`AnchorRelay` wakes the writer's anchoring worker for newly stored
  certificates, and waits (bounded) for the outbox to empty when a caller needs them
  anchored now.
* :class:`HeadWatcher` reads the chain head, so the API worker knows whether the
  index the writer keeps is fresh; it never writes the index.
* :class:`WriterLink` watches the writer process: a worker whose writer is gone
  reports not ready and stops itself (no API worker outlives its writer).

The wake-ups travel over a pipe (:class:`WakeSender` in the workers,
:class:`WakeListener` in the writer): one byte per event, never blocking, never
carrying data. They only save the writer a wait; the store is the channel, and a
lost wake-up costs at most the writer's idle interval.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from eth_account.signers.local import LocalAccount

from registry.errors import ConflictError, RegistryError, WritePending
from registry.pipelines.indexer import Follower
from registry.pipelines.outbox import WriteQueue
from registry.pipelines.worker import Worker, WorkerHealth
from registry.storage.store import Store
from registry.storage.writelog import ChainWrite, WriteKind, WriteLog, WriteState

log = logging.getLogger("coo.relay")

OUTBOX = b"o"
"""Wake-up byte: a chain write was recorded."""
ANCHOR = b"a"
"""Wake-up byte: certificates were stored for anchoring."""
T = TypeVar("T")
POLL_FIRST, POLL_MAX = 0.005, 0.05
"""Seconds between reads of the store while a request waits for the writer (doubling up to the maximum)."""


class AnchorQueue(Protocol):
    """What the services use of anchoring: the anchoring worker (writer), or :class:`AnchorRelay` (API worker)."""

    def wake(self) -> None: ...

    def flush(self, force: bool = True) -> int: ...

    @property
    def health(self) -> WorkerHealth: ...


class WakeSender:
    """Writes one wake-up byte to the writer's pipe without ever blocking (a full pipe means it is awake).

    Args:
        fd: the pipe's write end inherited from the writer; None: no writer to wake (its idle
            interval picks the work up).
    """

    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        if fd is not None:
            os.set_blocking(fd, False)

    def __call__(self, what: bytes) -> None:
        if self.fd is None:
            return
        # the pipe full: the writer has wake-ups to read; the writer gone: WriterLink sees it
        with contextlib.suppress(OSError):
            os.write(self.fd, what)


class WakeListener(Worker):
    """In the writer: reads the wake-up pipe and wakes the worker each byte names.

    Args:
        fd: the pipe's read end.
        targets: what to call per wake-up byte.
    """

    def __init__(self, fd: int, targets: Mapping[bytes, Callable[[], None]]) -> None:
        super().__init__("coo-wake-listener", backoff=0.1, max_backoff=1.0)
        self.fd = fd
        self.targets = dict(targets)

    def round(self) -> None:
        """Wait up to half a second for wake-ups and act on each kind once."""
        readable, _, _ = select.select([self.fd], [], [], 0.5)
        if not readable:
            return
        for byte in set(os.read(self.fd, 4096)):
            target = self.targets.get(bytes([byte]))
            if target is not None:
                target()

    def _idle(self) -> None:
        """No wait: :meth:`round` waits on the pipe."""


class StoreOutbox(WriteQueue):
    """An API worker's write queue: records each write and waits for the writer process to settle it.

    It holds no chain client and no signing key: a write reaches the chain only through
    the store, sent by the writer's :class:`~registry.pipelines.outbox.Outbox`.

    Args:
        log_: the write log (the shared store).
        wake: wakes the writer.
        bound: seconds a submitting request waits for its write.
    """

    def __init__(self, log_: WriteLog, wake: WakeSender, *, bound: float = 5.0) -> None:
        super().__init__(log_, bound)
        self._wake = wake

    def wake(self) -> None:
        """Wake the writer's outbox."""
        self._wake(OUTBOX)

    def submit(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], *,
               subject: str | None = None, local: Mapping[str, Any] | None = None) -> ChainWrite:
        """Record a write, wake the writer, and wait at most :attr:`bound` seconds for it to settle.

        Returns:
            The settled write (the writer has run its applier).

        Raises:
            WritePending: recorded, not settled in time; the writer will send it.
            ConflictError: the chain refused it.
        """
        write = self.log.add(kind, signer.address, args, subject=subject, local=local)
        self.wake()
        done = wait_for(lambda: finished(self.log.get(write.id)), self.bound)
        if done is None:
            now = self.log.get(write.id)
            raise WritePending(write.id, kind.value, now.error or "not on chain yet")
        if done.state is WriteState.REFUSED:
            raise ConflictError(f"the chain refuses this {kind.value}: {done.error}")
        return done


def finished(write: ChainWrite) -> ChainWrite | None:
    """The write once the writer is done with it: settled with its bookkeeping run, or refused."""
    if write.state is WriteState.REFUSED or (write.state is WriteState.SETTLED and write.applied):
        return write
    return None


def wait_for(check: Callable[[], T | None], bound: float) -> T | None:
    """Call *check* until it returns something, at most *bound* seconds (None then).

    Polls the store, with waits growing from :data:`POLL_FIRST` to :data:`POLL_MAX`: the writer runs
    in another process, so there is no event to wait on in this one.
    """
    deadline = time.monotonic() + bound
    pause = threading.Event()
    interval = POLL_FIRST
    while True:
        found = check()
        if found is not None:
            return found
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        pause.wait(min(interval, left))
        interval = min(POLL_MAX, interval * 2)


class AnchorRelay:
    """An API worker's anchoring: wakes the writer's anchoring worker; anchors nothing itself.

    Args:
        store: the shared store.
        wake: wakes the writer.
        link: the writer's liveness (the health reported as anchoring's).
        bound: seconds :meth:`flush` waits for the outbox to empty.
    """

    def __init__(self, store: Store, wake: WakeSender, link: WriterLink, *, bound: float = 5.0) -> None:
        self.store = store
        self._wake = wake
        self.link = link
        self.bound = bound

    @property
    def health(self) -> WorkerHealth:
        """The writer's health as this process sees it (alive or not)."""
        return self.link.health

    def wake(self) -> None:
        """Tell the writer new certificates are waiting."""
        self._wake(ANCHOR)

    def flush(self, force: bool = True) -> int:
        """Wake the writer and wait (at most :attr:`bound` seconds) until nothing waits to be anchored
        and no batch is on its way.

        Returns:
            0: the writer anchors; the caller reads the store for what it needs.
        """
        self.wake()
        wait_for(lambda: True if self._nothing_waiting() else None, self.bound)
        return 0

    def _nothing_waiting(self) -> bool:
        """No certificate waits for a batch, and no batch is still being anchored (a claimed certificate is
        not pending any more, but it has no proof until its batch is anchored)."""
        return self.store.oldest_pending_age() is None and not self.store.unfinished_batches()


class HeadWatcher(Follower):
    """An API worker's follower: reads the chain head and reports the writer's index fresh when it is at it.

    It never writes the index (the writer's follower does), so the index has one writer.
    """

    def poll(self) -> None:
        """Read the head once."""
        head = self.indexer.chain.block_number()
        self.head = head
        self.checked_at = time.monotonic()


class WriterLink(Worker):
    """In an API worker: watches the writer process; reports not running once it is gone, and stops this worker.

    Args:
        writer_pid: the writer's process id (this process's parent).
        on_lost: what to do once the writer is gone (default: SIGTERM to this process, whose
            server then shuts down gracefully).
    """

    def __init__(self, writer_pid: int, on_lost: Callable[[], None] | None = None) -> None:
        super().__init__("coo-writer", backoff=0.5, max_backoff=0.5)
        self.writer_pid = writer_pid
        self.on_lost = on_lost or (lambda: os.kill(os.getpid(), signal.SIGTERM))
        self._lost = False

    @property
    def running(self) -> bool:
        """True while this thread runs and the writer is alive."""
        return super().running and self.writer_alive()

    def writer_alive(self) -> bool:
        """The writer process is still this process's parent (an orphan is adopted by another)."""
        return os.getppid() == self.writer_pid

    def round(self) -> None:
        """Check the writer once; on losing it, act once and fail the round (counted in health)."""
        if self.writer_alive():
            return
        if not self._lost:
            self._lost = True
            log.error("the chain writer process %s is gone: this API worker stops", self.writer_pid)
            self.on_lost()
        raise RegistryError(f"the chain writer process {self.writer_pid} is gone")

    def _idle(self) -> None:
        self._stop.wait(0.5)


__all__ = ["ANCHOR", "OUTBOX", "AnchorQueue", "AnchorRelay", "HeadWatcher", "StoreOutbox", "WakeListener",
           "WakeSender", "WriterLink", "wait_for"]
