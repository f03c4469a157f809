"""One background worker thread: started, stopped for certain, and paused as a group.

A node runs five workers: the anchoring worker (:class:`registry.pipelines.anchoring.Anchorer`),
the chain-write outbox (:class:`registry.pipelines.outbox.Outbox`), the block follower
(:class:`registry.pipelines.indexer.Follower`), the shredder (:class:`registry.custody.vault.Shredder`)
and the audit pruner (:class:`registry.pipelines.retention.AuditPruner`). They share the
lifecycle here: :meth:`Worker.stop` returns only once the thread has ended (or
raises :class:`~registry.errors.WorkerError`), so nothing a caller does after it
can race with the thread; :func:`paused` stops a group of workers for the
duration of a block and restarts the ones that were running. That is the one
seam tests use before they replace anything a worker could touch, and what
maintenance such as a consistent backup needs.

A worker survives anything its round raises: the error is logged once (again
when it changes, or a minute later), counted, and the next round waits with exponential
back-off; :attr:`Worker.health` says how it fares, for ``/readyz`` and
``/metrics``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from registry.errors import RegistryError, WorkerError

log = logging.getLogger("coo.worker")

LOG_AGAIN_AFTER = 60.0
"""Seconds before the same error is logged again (a failing worker retries far more often)."""


@dataclass(frozen=True)
class WorkerHealth:
    """How a worker fares.

    Attributes:
        name: the thread's name.
        running: its thread is alive.
        failures: rounds failed in a row (0 after a good round).
        last_error: the last failure's message, ``None`` after a good round.
        since_success: seconds since the last good round (``None`` before the first).
    """

    name: str
    running: bool
    failures: int
    last_error: str | None
    since_success: float | None

    @property
    def healthy(self) -> bool:
        """Running, and its last round succeeded."""
        return self.running and self.failures == 0


class Worker:
    """A named daemon thread that runs :meth:`round` until :meth:`stop`.

    Subclasses implement :meth:`round` (one unit of work) and :meth:`_idle` (the
    wait between good rounds, on ``self._stop`` or another event, never
    ``time.sleep``), and override :meth:`_interrupt` if :meth:`_idle` waits on
    something besides the stop event, :meth:`_failed` to react to an error.

    Args:
        name: the thread's name (``coo-…``), as seen in ``threading.enumerate()``.
        backoff: the first wait after a failed round, doubled per failure in a row.
        max_backoff: the longest wait after failures.
    """

    def __init__(self, name: str, *, backoff: float = 0.25, max_backoff: float = 5.0) -> None:
        self.name = name
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.failures = 0
        self.last_error: str | None = None
        self._succeeded_at: float | None = None
        self._logged: tuple[str | None, float] = (None, 0.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def health(self) -> WorkerHealth:
        """A snapshot of how the worker fares."""
        since = None if self._succeeded_at is None else time.monotonic() - self._succeeded_at
        return WorkerHealth(self.name, self.running, self.failures, self.last_error, since)

    @property
    def running(self) -> bool:
        """True while the worker's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run the worker thread (a no-op when it already runs)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker and wait until its thread has ended.

        Raises:
            WorkerError: the thread was still running after *timeout* seconds.
        """
        self._stop.set()
        self._interrupt()
        thread = self._thread
        if thread is None:
            return
        if thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                raise WorkerError(self.name, timeout)
        self._thread = None

    def round(self) -> None:  # pragma: no cover - abstract
        """One unit of work; may raise anything (the worker survives it)."""
        raise NotImplementedError

    def _idle(self) -> None:
        """Wait between good rounds (until stopped)."""
        self._stop.wait(1.0)

    def _interrupt(self) -> None:
        """Wake the thread from whatever :meth:`_idle` waits on besides the stop event."""

    def _failed(self, error: Exception) -> None:
        """React to a failed round (after it was logged and counted)."""

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception as error:  # noqa: BLE001 - a worker outlives any one round
                self._record_failure(error)
                self._stop.wait(min(self.max_backoff, self.backoff * 2 ** (self.failures - 1)))
                continue
            self.failures, self.last_error, self._succeeded_at = 0, None, time.monotonic()
            self._idle()

    def _record_failure(self, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"
        now = time.monotonic()
        if message != self._logged[0] or now - self._logged[1] > LOG_AGAIN_AFTER:  # not once per retry
            self._logged = (message, now)
            log.warning("%s: round failed (%s); retrying with back-off", self.name, message,
                        exc_info=not isinstance(error, RegistryError))
        self.failures += 1
        self.last_error = message
        try:
            self._failed(error)
        except Exception:  # noqa: BLE001 - the reaction must not kill the worker either
            log.exception("%s: error while handling a failed round", self.name)


@contextmanager
def paused(workers: Iterable[Worker]) -> Iterator[None]:
    """Stop *workers* for the duration of the block, then restart those that were running.

    Inside the block no worker thread runs, so the caller may read or replace
    anything the workers use without a race.

    Raises:
        WorkerError: a worker did not stop in time (the others are restarted first).
    """
    running = [worker for worker in workers if worker.running]
    stopped: list[Worker] = []
    try:
        for worker in running:
            worker.stop()
            stopped.append(worker)
        yield
    finally:
        for worker in stopped:
            worker.start()
