"""Free ports: outside the kernel's ephemeral range, never handed to two live processes, free again once the
process that held one ends; a port something listens on is never handed out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from registry.chain import ports
from registry.chain.ports import ephemeral_range, free_port


def _in_another_process(candidates: list[int]) -> int:
    """The port a fresh interpreter's free_port picks when its candidates are *candidates*, in that order."""
    code = textwrap.dedent(f"""
        from registry.chain import ports
        ports.candidate_ports = lambda: {candidates!r}
        print(ports.free_port())
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def _spare() -> int:
    """A port this process holds the lock of but has not handed out (so free_port may hand it out)."""
    port = free_port()
    ports._reserved.discard(port)
    return port


def _others() -> list[int]:
    return ports.candidate_ports()[:50]


def test_ports_lie_outside_the_range_the_kernel_gives_outgoing_connections() -> None:
    low, high = ephemeral_range()
    for _ in range(50):
        port = free_port()
        assert not low <= port <= high and port > 1024


def test_a_port_is_not_handed_out_twice_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = free_port()
    spare = _spare()
    monkeypatch.setattr(ports, "candidate_ports", lambda: [first, first, spare])
    assert free_port() == spare


def test_another_process_skips_a_port_this_one_holds_until_it_ends() -> None:
    mine = free_port()
    theirs = _in_another_process([mine, *_others()])
    assert theirs != mine
    # Its reservation ended with it: the port it took is free for the next process, and for this one.
    assert _in_another_process([theirs, *_others()]) == theirs
    assert ports._reserve(theirs)


def test_a_forked_child_does_not_take_its_parents_port(monkeypatch: pytest.MonkeyPatch) -> None:
    mine = free_port()
    read, write = os.pipe()
    monkeypatch.setattr(ports, "_reserved", set())  # as if the child did not know: only the lock can refuse
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            others = _others()
            ports.candidate_ports = lambda: [mine, *others]
            os.write(write, str(free_port()).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        assert int(pipe.read()) != mine


def test_a_port_something_listens_on_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    busy, spare = _spare(), _spare()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        monkeypatch.setattr(ports, "candidate_ports", lambda: [busy, spare])
        assert free_port() == spare


def test_the_ledger_is_private() -> None:
    free_port()
    assert ports.ledger_path().stat().st_mode & 0o077 == 0
