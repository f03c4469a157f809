"""The store's write gate: every write transaction holds it, across the threads and processes of a node.

How much it buys (the chain writer's anchoring no longer starved by the API workers' writes) is a speed
figure, measured by ``make bench`` (acceptance → anchored); these tests check what it guarantees.
"""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from registry.errors import StoreError
from registry.storage.gate import WriteGate
from registry.storage.store import Store

TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(3)
"""


def another_process_can_take(path: Path) -> bool:
    """Whether a separate process finds the gate's lock file free (it tries without waiting)."""
    done = subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], timeout=60, check=False)
    assert done.returncode in (0, 3), done
    return done.returncode == 0


def test_a_write_transaction_holds_the_gate_that_the_nodes_other_processes_wait_on(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    gate = tmp_path / "registry.db-writer.lock"
    with store.transaction() as conn:
        conn.execute("SELECT 1")
        assert not another_process_can_take(gate)
    assert another_process_can_take(gate)


def test_the_gate_file_is_private_to_the_node(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    with store.transaction():
        pass
    assert stat.S_IMODE((tmp_path / "registry.db-writer.lock").stat().st_mode) == 0o600


def test_a_thread_kept_out_past_its_wait_gets_a_clear_store_error_and_writes_nothing(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "gate.lock", wait=0.2)
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.held():
            inside.set()
            leave.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(30)
        ran = []
        with pytest.raises(StoreError, match="another writer held the store"), gate.held():
            ran.append(True)
        assert ran == []
    finally:
        leave.set()
        holder.join(30)
    with gate.held():  # free again once the holder let go
        pass


def test_a_failed_transaction_lets_go_of_the_gate(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.db")
    with pytest.raises(StoreError), store.transaction() as conn:
        conn.execute("INSERT INTO no_such_table VALUES (1)")
    assert another_process_can_take(tmp_path / "registry.db-writer.lock")
    with store.transaction() as conn:  # and this thread can write again
        conn.execute("SELECT 1")
