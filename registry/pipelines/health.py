"""Is the node ready to answer verifications, and how do its background workers fare?

Readiness asks the chain itself (a head read from the follower could be up to
its freshness window old, long enough to call a dead chain ready), but never
waits on a slow one: the probe runs in a thread and the caller gives up on it
after its own deadline (``COO_READINESS_TIMEOUT_MS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.chain.client import ChainClient
from registry.errors import ChainError, StoreError
from registry.pipelines.indexer import Follower
from registry.pipelines.worker import Worker, WorkerHealth


@dataclass(frozen=True)
class Readiness:
    """The node's readiness.

    Attributes:
        ready: the chain answers and every worker thread runs.
        chain_head: the latest head known, ``None`` when the chain did not answer.
        contract: the registry contract's address.
        index_lag: blocks the event index is behind ``chain_head`` (``None`` when unknown).
        workers: each worker's health.
        detail: why the node is not ready, ``None`` when it is.
    """

    ready: bool
    chain_head: int | None
    contract: str | None
    index_lag: int | None
    workers: tuple[WorkerHealth, ...]
    detail: str | None = None


def workers_health(workers: Sequence[Worker]) -> tuple[WorkerHealth, ...]:
    """Each worker's health, in order."""
    return tuple(worker.health for worker in workers)


def probe(chain: ChainClient, follower: Follower, workers: Sequence[Worker]) -> Readiness:
    """Readiness from the chain's head and code, the index's lag and the workers' health.

    Blocking (the chain call is bounded by the client's request timeout): run it
    in a thread and abandon it after the caller's own deadline, see
    :func:`unavailable` for that answer.
    """
    health = workers_health(workers)
    stopped = [w.name for w in health if not w.running]
    try:
        head = chain.block_number()
        if not chain.is_deployed():
            raise ChainError("registry contract not deployed")
    except ChainError as error:
        return Readiness(False, None, None, None, health, str(error))
    try:
        lag: int | None = follower.lag(head)
    except StoreError:
        lag = None
    detail = f"worker(s) not running: {', '.join(stopped)}" if stopped else None
    return Readiness(not stopped, head, chain.address, lag, health, detail)


def unavailable(workers: Sequence[Worker], detail: str) -> Readiness:
    """The answer when the chain did not respond in time."""
    return Readiness(False, None, None, None, workers_health(workers), detail)
