"""Keeps the store's event index, and the state projected from it, at the chain head.

:class:`ChainIndexer` reads the events since the last sync in one
``eth_getLogs`` and records them, the projected state (:mod:`registry.storage.projection`)
and the new mark in one transaction. :class:`Follower` polls the chain head
in a thread and syncs whenever it moves; while it is fresh (head checked within
``max_age`` and fully indexed) a verification is answered from the index with no
RPC round trip, otherwise the verifier reads the chain directly or answers
``UNAVAILABLE``.

With several RPC endpoints the indexer reads through a
:class:`~registry.chain.quorum.QuorumReader`: every head, block hash and batch of
events it records was answered alike by a quorum of endpoints, so one lying endpoint
cannot feed it a forged history (a hidden revocation, a forged erasure that would
shred keys). While they disagree the sync fails, the mark does not move, the index
stops counting as fresh after ``max_age`` and verification reads the chain through
the same quorum, which answers ``UNAVAILABLE`` naming the endpoints.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from registry.chain.client import ChainEvent, DocumentView
from registry.chain.customs import Utilisation
from registry.pipelines.worker import Worker
from registry.storage import projection
from registry.storage.store import Store

log = logging.getLogger("coo.indexer")

class ChainFeed(Protocol):
    """What the indexer reads: a :class:`~registry.chain.client.ChainClient`, or a
    :class:`~registry.chain.quorum.QuorumReader` (each read agreed by a quorum of endpoints)."""

    def block_number(self) -> int: ...

    def block_hash(self, block: int) -> bytes | None: ...

    def block_timestamp(self, block: int | str = ...) -> int: ...

    def events(self, from_block: int = ..., to_block: int | str = ..., *, names: set[str] | None = ...,
               topics: list[Any] | None = ...) -> list[ChainEvent]: ...


class ChainIndexer:
    """Index the registry's events into the store.

    Args:
        store: where the index lives.
        chain: the registry client.
        max_span: blocks fetched per ``eth_getLogs`` call.
        first_block: the registry's deployment block (or any earlier one): the first sync starts there,
            never at block 0 (its cost would grow with the chain before the registry).
    """

    def __init__(self, store: Store, chain: ChainFeed, max_span: int = 5_000, first_block: int = 0) -> None:
        self.store = store
        self.chain = chain
        self.max_span = max_span
        self.first_block = first_block
        """No block before it holds a registry event (the registry's deployment): the first sync starts there."""
        self._lock = threading.Lock()

    def sync(self, head: int | None = None) -> int:
        """Index everything up to *head* (default: the current head); return how many events were added.

        Raises:
            ChainError: the chain could not be read (the mark does not move).
        """
        with self._lock:
            head = self.chain.block_number() if head is None else head
            self._drop_if_reorged()
            added = 0
            start = max(self.store.last_indexed_block() + 1, self.first_block)
            while start <= head:
                end = min(head, start + self.max_span - 1)
                events = self.chain.events(start, end)
                times = self._block_times(events)
                projection.record(self.store, events, times, end, self.chain.block_hash(end))
                added += len(events)
                start = end + 1
            return added

    def _drop_if_reorged(self) -> None:
        """If the last indexed block is no longer on the canonical chain, rebuild the index from scratch."""
        mark = projection.sync_mark(self.store)
        if mark is None or self.chain.block_hash(mark[0]) == mark[1]:
            return
        log.warning("the chain reorganised below block %s: rebuilding the event index", mark[0])
        projection.drop(self.store)

    def _block_times(self, events: list[ChainEvent]) -> dict[int, int]:
        times: dict[int, int] = {}
        for event in events:
            if event.block_number not in times:
                times[event.block_number] = (event.block_time if event.block_time is not None
                                             else self.chain.block_timestamp(event.block_number))
        return times


class Follower(Worker):
    """Poll the chain head and keep the index at it; report whether the index is fresh.

    Args:
        indexer: what syncs.
        interval: seconds between head polls.
        max_age: how old the last successful head check may be for the index to count as fresh.
    """

    def __init__(self, indexer: ChainIndexer, interval: float = 0.1, max_age: float = 1.0) -> None:
        super().__init__("coo-follower", backoff=interval, max_backoff=2.0)
        self.indexer = indexer
        self.interval = interval
        self.max_age = max_age
        self.head: int | None = None
        self.checked_at = 0.0
        self.view = projection.IndexedView(indexer.store.connection)

    def poll(self) -> None:
        """Check the head once and index up to it.

        Raises:
            ChainError: the chain could not be read.
        """
        head = self.indexer.chain.block_number()
        self.indexer.sync(head)
        self.head = head
        self.checked_at = time.monotonic()

    def lag(self, head: int | None = None) -> int | None:
        """Blocks the index is behind *head* (default: the last head seen); ``None`` when neither is known.

        Raises:
            StoreError: the store could not be read.
        """
        head = self.head if head is None else head
        return None if head is None else max(0, head - self.indexer.store.last_indexed_block())

    def fresh(self) -> bool:
        """True when the index is at a head seen within ``max_age`` seconds."""
        return (self.head is not None and time.monotonic() - self.checked_at <= self.max_age
                and self.indexer.store.last_indexed_block() >= self.head)

    def inspect(self, document_hash: bytes, proof: list[bytes]) -> tuple[DocumentView, int]:
        """A document's on-chain state from the index, and the head it reflects."""
        assert self.head is not None
        return self.view.inspect(document_hash, proof), self.head

    def utilisation(self, document_hash: bytes, root: bytes, item_count: int) -> Utilisation:
        """A certificate's utilisation and open verification requests, from the index."""
        return self.view.utilisation(document_hash, root, item_count)

    def anchoring_block(self, root: bytes) -> int:
        """A block no later than the anchoring of *root*, as the store records it
        (:meth:`~registry.storage.store.Store.anchoring_block`)."""
        return self.indexer.store.anchoring_block(root)

    def round(self) -> None:
        """Poll the head once and index up to it."""
        self.poll()

    def _idle(self) -> None:
        self._stop.wait(self.interval)
