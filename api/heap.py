"""Keep an API worker's resident memory near what it uses, not what a burst once needed.

A registration burst parses batch bodies of up to several MB each, many at once; Python frees the
objects, but glibc keeps the freed pages in the process (and, with one malloc arena per thread of the
request pool, in several heaps at once). Measured on a 6,000-certificate flood then a verification
load: one API worker stayed at 434 MB resident afterwards, against 140 MB at start.

Two measures, both specific to glibc (elsewhere they are no-ops):

* :data:`ARENAS` malloc arenas per API worker (``MALLOC_ARENA_MAX``, set in the workers' environment
  by :func:`api.workers.worker_environment`), instead of eight per core;
* :class:`HeapTrimmer` hands the free pages back to the kernel (``malloc_trim``) every
  :data:`TRIM_EVERY` seconds, from a daemon thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("coo.heap")

ARENAS = 2
"""malloc arenas per API worker process (glibc's ``MALLOC_ARENA_MAX``)."""
TRIM_EVERY = 5.0
"""Seconds between two hand-backs of free heap pages."""


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


class HeapTrimmer:
    """A daemon thread giving free heap pages back to the kernel every *every* seconds, until :meth:`stop`."""

    def __init__(self, every: float = TRIM_EVERY) -> None:
        self.every = every
        self._trim = _malloc_trim()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="coo-heap-trim", daemon=True)

    @property
    def available(self) -> bool:
        """Whether this C library can trim its heap (glibc)."""
        return self._trim is not None

    def start(self) -> HeapTrimmer:
        """Start trimming (nothing happens where :attr:`available` is False)."""
        if self._trim is not None:
            self._thread.start()
        return self

    def trim(self) -> bool:
        """Give free heap pages back now; whether any memory was released."""
        return bool(self._trim(0)) if self._trim is not None else False

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.trim()

    def stop(self) -> None:
        """Stop the thread and wait for it (a trim in progress finishes first)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


__all__ = ["ARENAS", "TRIM_EVERY", "HeapTrimmer"]
