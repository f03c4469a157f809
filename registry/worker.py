"""One background worker thread: started, stopped for certain, and paused as a group.

A node runs two workers, the anchoring worker (:class:`registry.anchoring.Anchorer`)
and the block follower (:class:`registry.indexer.Follower`). Both share the
lifecycle here: :meth:`Worker.stop` returns only once the thread has ended (or
raises :class:`~registry.errors.WorkerError`), so nothing a caller does after it
can race with the thread; :func:`paused` stops a group of workers for the
duration of a block and restarts the ones that were running. That is the one
seam tests use before they replace anything a worker could touch, and what
maintenance such as a consistent backup needs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from registry.errors import WorkerError


class Worker:
    """A named daemon thread that runs :meth:`_run` until :meth:`stop`.

    Subclasses implement :meth:`_run`, loop while ``not self._stop.is_set()``,
    wait on ``self._stop`` (not ``time.sleep``) and override :meth:`_interrupt` if
    they also wait on something else.

    Args:
        name: the thread's name (``coo-…``), as seen in ``threading.enumerate()``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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

    def _interrupt(self) -> None:
        """Wake the thread from whatever it waits on besides the stop event."""

    def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


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
