"""Keeps the store's index of contract events current with the chain head.

Each :meth:`ChainIndexer.sync` reads the events of the blocks since the last
sync in one ``eth_getLogs`` and records them with the new mark in one
transaction. The index answers "what happened to this document, and when"
without scanning the chain.
"""

from __future__ import annotations

import json
from typing import Any

from registry.chain import ChainClient, ChainEvent
from registry.store import IndexedEvent, Store

_SUBJECT_KEYS = ("documentHash", "root", "issuer", "authority")


def _subject(event: ChainEvent) -> bytes | None:
    for key in _SUBJECT_KEYS:
        value = event.args.get(key)
        if isinstance(value, bytes):
            return value
        if isinstance(value, str) and value.startswith("0x"):
            return bytes.fromhex(value[2:])
    return None


def _jsonable(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


class ChainIndexer:
    """Index the registry's events into the store.

    Args:
        store: where the index lives.
        chain: the registry client.
        max_span: blocks fetched per ``eth_getLogs`` call.
    """

    def __init__(self, store: Store, chain: ChainClient, max_span: int = 5_000) -> None:
        self.store = store
        self.chain = chain
        self.max_span = max_span

    def sync(self) -> int:
        """Index everything up to the current head; return how many events were added.

        Raises:
            ChainError: the chain could not be read (the mark does not move).
        """
        head = self.chain.block_number()
        added = 0
        start = self.store.last_indexed_block() + 1
        while start <= head:
            end = min(head, start + self.max_span - 1)
            events = self.chain.events(start, end)
            self.store.record_events([
                IndexedEvent(e.tx_hash, e.log_index, e.block_number, e.name, _subject(e),
                             json.dumps({k: _jsonable(v) for k, v in e.args.items()}))
                for e in events], end)
            added += len(events)
            start = end + 1
        return added
