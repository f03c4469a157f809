"""The node's background workers: stopped for certain, paused as a group, never racing a test's patch."""

from __future__ import annotations

import threading

import pytest

from registry.errors import WorkerError
from registry.runtime import Node
from registry.worker import Worker, paused
from tests.conftest import worker_threads


class Stubborn(Worker):
    """A worker that ignores stop until the test lets it go."""

    def __init__(self) -> None:
        super().__init__("coo-test-stubborn")
        self.release = threading.Event()
        self.started = threading.Event()

    def _run(self) -> None:
        self.started.set()
        self.release.wait(30)


class Polite(Worker):
    def __init__(self, name: str) -> None:
        super().__init__(name)

    def _run(self) -> None:
        self._stop.wait(30)


def test_inside_paused_no_worker_thread_of_the_node_runs(node: Node) -> None:
    assert worker_threads()["coo-anchorer"] == 1 and worker_threads()["coo-follower"] == 1
    with node.paused():
        assert not worker_threads()
        assert not any(worker.running for worker in node.workers)
    assert all(worker.running for worker in node.workers)
    assert worker_threads() == {"coo-anchorer": 1, "coo-follower": 1}


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
