"""The reorg watch costs one request per round while the head is unchanged, and one JSON-RPC batch per new head,
however many batches were anchored recently."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.chain.client import ChainClient
from registry.pipelines.anchoring import Anchorer, BatchPolicy
from registry.storage.store import Store
from tests.support.consortium import Consortium
from tests.support.lying_rpc import LyingRpc

ANCHORED = 40
"""Batches anchored one per block, more than the reorg window (32 blocks) holds."""


@pytest.fixture
def anchored(chain: ChainClient, people: Consortium, tmp_path: Path) -> Iterator[tuple[Store, list[bytes]]]:
    """A store whose last :data:`ANCHORED` batches are anchored on chain, one per block."""
    store = Store(tmp_path / "node.db")
    roots = []
    with store.transaction() as conn:
        for _ in range(ANCHORED):
            root = os.urandom(32)
            mined = chain.anchor(people.sg_issuer, root, 1)
            conn.execute("INSERT INTO batches (issuer, mode, root, state, tx_hash, block_number, anchored_at, size,"
                         " created_at) VALUES (?, 'hash', ?, 'anchored', ?, ?, 0, 1, ?)",
                         (people.sg_issuer.address, root, mined.tx_hash, mined.block_number, time.time()))
            roots.append(root)
    yield store, roots
    store.close()


@pytest.fixture
def proxy(chain: ChainClient) -> Iterator[tuple[LyingRpc, ChainClient]]:
    """An honest proxy in front of the session's Anvil that counts HTTP round trips, and a client through it."""
    upstream = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    with LyingRpc(str(upstream)) as rpc:
        yield rpc, ChainClient.connect(rpc.url, chain.address)


def _anchorer(store: Store, chain: ChainClient) -> Anchorer:
    return Anchorer(store, chain, vault=None, signer_for=lambda _: None,  # type: ignore[arg-type]
                    policy=BatchPolicy(reorg_every=0.0))


def test_a_watch_round_makes_at_most_two_requests_however_many_batches_are_recent(
        chain: ChainClient, people: Consortium, anchored: tuple[Store, list[bytes]],
        proxy: tuple[LyingRpc, ChainClient]) -> None:
    store, _ = anchored
    rpc, client = proxy
    anchorer = _anchorer(store, client)
    per_round = []
    for _ in range(3):
        before = rpc.posts
        assert anchorer.watch_reorgs() == 0
        per_round.append(rpc.posts - before)
    assert per_round == [2, 1, 1]  # the head and one batch of batchOf; then the head alone, unchanged
    chain.anchor(people.sg_issuer, os.urandom(32), 1)  # a new block
    before = rpc.posts
    assert anchorer.watch_reorgs() == 0
    assert rpc.posts - before == 2  # a new head: one batch again


def test_the_batched_watch_still_finds_a_root_that_left_the_chain(
        chain: ChainClient, anchored: tuple[Store, list[bytes]]) -> None:
    store, roots = anchored
    with store.transaction() as conn:
        conn.execute("UPDATE batches SET root = ? WHERE root = ?", (b"\x07" * 32, roots[-3]))  # never anchored
    anchorer = _anchorer(store, chain)
    assert anchorer.watch_reorgs() == 1
    assert [b.root for b in store.anchored_since(0)].count(b"\x07" * 32) == 0
    assert anchorer.watch_reorgs() == 0
