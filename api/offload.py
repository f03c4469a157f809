"""Blocking work off the event loop: one bounded pool of threads, each call under a timeout.

Handlers on the hot paths are ``async``: their dependencies and the request's CPU-light work run
on the event loop, with no thread hand-off, and only the service call, which reads and writes
the store (SQLite, whose connections are per thread: :class:`registry.storage.database.Database`)
and may read the chain, goes to this pool: one hand-off per request instead of one per sync
dependency, endpoint and response check.

The pool is bounded (:data:`WORKERS` threads for the process, long-lived, so each keeps its
store connection) and every call has a deadline (:data:`TIMEOUT` seconds). A call still queued
at its deadline never runs; one already running finishes in its thread (Python cannot stop a
thread), its answer dropped, and the caller gets ``503`` with ``Retry-After`` rather than a
hung request. The writes behind these routes are idempotent (a registration on its certificate
number), so a retry is safe.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import HTTPException

log = logging.getLogger("coo.api")

T = TypeVar("T")

WORKERS = min(32, (os.cpu_count() or 1) + 4)
"""Threads in the pool (as many as Python's default executor would start)."""
TIMEOUT = 30.0
"""Seconds a call may take, queued and running (the store's own busy timeout is 30 s too)."""

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="api-blocking")
        return _executor


async def blocking(function: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
    """``function(*args)`` in the bounded pool, awaited for at most *timeout* (default :data:`TIMEOUT`) seconds.

    Raises:
        HTTPException: 503 with ``Retry-After`` when the deadline passes (answered as problem+json).
        Exception: whatever *function* raises (a registry error becomes its problem+json as usual).
    """
    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(_pool(), context.run, function, *args)
    try:
        return await asyncio.wait_for(future, TIMEOUT if timeout is None else timeout)
    except TimeoutError:
        name = getattr(function, "__qualname__", "call")
        log.warning("%s took longer than %.0f s: answered 503", name, TIMEOUT if timeout is None else timeout)
        raise HTTPException(503, "the node is too busy to answer in time; try again shortly",
                            headers={"Retry-After": "5"}) from None
