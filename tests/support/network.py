"""The consortium network for the tests: four EthereumJS chain nodes sealing one Clique chain.

``consortium_network`` starts one network for the session (``tests/network/conftest.py``
declares it, once, for every module there), records how long it took to seal its first
block, and on teardown checks that stopping it left no process behind.
``consortium_members`` puts SG's and JP's API nodes on it once for the session
(``scripts/demo_network.py``), set up, with SG's first two certificates: the story and
the fault cells both start from them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.chain.network import Network, client_package
from scripts.demo_network import Issued, Members, consortium, prepare
from scripts.demo_two_nodes import DemoError, log_tail

needs_ethereumjs = pytest.mark.skipif(not (client_package() / "package.json").exists(),
                                      reason="@ethereumjs/client not installed (npm install installs it)")
NODES = 4
BLOCK_TIME = 1
LOG_LINES = 60
"""How much of each member's node log a failed set-up shows."""


@dataclass
class RunningNetwork:
    """The session's network and how long it took from nothing to its first sealed block."""

    network: Network
    started_in: float


def processes_of(directory: Path) -> list[int]:
    """Pids of every process whose command line names *directory* (a chain node of that network)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(directory).encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="session")
def consortium_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNetwork]:
    """Four chain nodes, one per member, started together; stopped (and checked gone) at the end."""
    directory = tmp_path_factory.mktemp("network")
    began = time.monotonic()
    network = Network.create(directory, nodes=NODES, block_time=BLOCK_TIME, links=True).start()
    try:
        network.wait_for_block(1)
        yield RunningNetwork(network, time.monotonic() - began)
    finally:
        network.stop()
    left = processes_of(directory)
    assert not left, f"chain node processes left behind: {left}"


@dataclass
class Consortium:
    """SG's and JP's API nodes on the session's network, and what SG issued before any scenario."""

    members: Members
    issued: Issued
    said: list[str]


@pytest.fixture(scope="session")
def consortium_members(consortium_network: RunningNetwork, tmp_path_factory: pytest.TempPathFactory,
                       ) -> Iterator[Consortium]:
    """The members set up once: every scenario leaves the network whole (each heals what it broke)."""
    said: list[str] = []
    workdir = tmp_path_factory.mktemp("members")
    with _logs_on_failure(workdir), consortium(workdir, consortium_network.network) as members:
        issued = prepare(members, said.append)
        yield Consortium(members, issued, said)


@contextmanager
def _logs_on_failure(workdir: Path) -> Iterator[None]:
    """A member's failed set-up says what its node logged: the temporary directory holding the logs is gone by
    the time anyone reads a CI report."""
    try:
        yield
    except DemoError as error:
        tails = [f"--- the last lines of {log.parent.name}/{log.name} ---\n{log_tail(log, LOG_LINES)}"
                 for log in sorted(workdir.glob("*/node.log"))]
        raise DemoError("\n".join([str(error), *tails])) from error
