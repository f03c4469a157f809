"""The node's background workers: stopped for certain, paused as a group, never racing a test's patch."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from registry.chain.client import ChainClient
from registry.errors import StoreError, WorkerError
from registry.pipelines.indexer import ChainIndexer, Follower
from registry.pipelines.worker import Worker, paused
from registry.runtime import Node
from registry.storage.store import Store
from tests.support import worker_threads
from tests.support.consortium import Consortium


class Stubborn(Worker):
    """A worker that ignores stop until the test lets it go."""

    def __init__(self) -> None:
        super().__init__("coo-test-stubborn")
        self.release = threading.Event()
        self.started = threading.Event()

    def round(self) -> None:
        self.started.set()
        self.release.wait(30)
        self._stop.wait()


class Polite(Worker):
    def __init__(self, name: str) -> None:
        super().__init__(name)

    def round(self) -> None:
        self._stop.wait(30)


def test_inside_paused_no_worker_thread_of_the_node_runs(node: Node) -> None:
    names = {worker.name: 1 for worker in node.workers}
    assert {"coo-anchorer", "coo-follower", "coo-shredder"} <= set(names) and worker_threads() == names
    with node.paused():
        assert not worker_threads()
        assert not any(worker.running for worker in node.workers)
    assert all(worker.running for worker in node.workers)
    assert worker_threads() == names


def test_paused_restarts_only_the_workers_that_were_running() -> None:
    running, idle = Polite("coo-test-running"), Polite("coo-test-idle")
    running.start()
    try:
        with paused([running, idle]):
            assert not running.running and not idle.running
        assert running.running and not idle.running
    finally:
        running.stop()
    assert not running.running


def test_stop_returns_only_once_the_thread_has_ended() -> None:
    worker = Polite("coo-test-polite")
    worker.start()
    thread = worker._thread
    worker.stop()
    assert thread is not None and not thread.is_alive()


def test_a_worker_that_does_not_stop_in_time_is_an_error_not_a_silent_leak() -> None:
    worker = Stubborn()
    worker.start()
    assert worker.started.wait(5)
    with pytest.raises(WorkerError, match="coo-test-stubborn"):
        worker.stop(timeout=0.05)
    worker.release.set()
    worker.stop()
    assert not worker.running


def test_starting_a_running_worker_does_not_start_a_second_thread() -> None:
    worker = Polite("coo-test-once")
    worker.start()
    try:
        worker.start()
        assert worker_threads()["coo-test-once"] == 1
    finally:
        worker.stop()


class LockedStoreIndexer(ChainIndexer):
    """An indexer whose store answers 'database is locked' for its first *faults* syncs
    (the fault seen in production)."""

    def __init__(self, store: Store, chain: ChainClient, faults: int) -> None:
        super().__init__(store, chain)
        self.faults = faults

    def sync(self, head: int | None = None) -> int:
        if self.faults > 0:
            self.faults -= 1
            raise StoreError("database is locked")
        return super().sync(head)


def test_a_follower_that_hits_a_store_error_keeps_following(
        chain: ChainClient, people: Consortium, data_dir: Path) -> None:
    store = Store(data_dir / "registry.db")
    follower = Follower(LockedStoreIndexer(store, chain, faults=3), interval=0.01)
    follower.backoff = 0.01
    follower.start()
    try:
        deadline = time.monotonic() + 10
        while follower.indexer.faults and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.01)
        chain.anchor(people.sg_issuer, b"\x42" * 32, 1)
        head = chain.block_number()
        while store.last_indexed_block() < head and time.monotonic() < deadline:
            time.sleep(0.01)
        assert follower.running, "the follower thread died on a store error"
        assert store.last_indexed_block() >= head
        assert follower.view.inspect(b"\x42" * 32).anchored
        while follower.health.failures and time.monotonic() < deadline:
            time.sleep(0.01)
        assert follower.health.healthy and follower.health.last_error is None
    finally:
        follower.stop()


def test_a_failing_round_is_counted_logged_once_and_retried_with_back_off(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(Worker):
        def __init__(self) -> None:
            super().__init__("coo-test-failing", backoff=0.001, max_backoff=0.002)
            self.rounds = 0

        def round(self) -> None:
            self.rounds += 1
            if self.rounds >= 5:
                self._stop.set()
            raise StoreError("database is locked")

    worker = Failing()
    worker.start()
    assert worker._thread is not None
    worker._thread.join(10)
    worker.stop()
    assert worker.rounds == 5 and worker.health.failures == 5 and not worker.health.healthy
    assert worker.health.last_error == "StoreError: database is locked"
    assert sum("database is locked" in r.getMessage() for r in caplog.records if r.name == "coo.worker") == 1
