"""Shared fixtures: one Anvil per test session, isolated per test by snapshots.

Anvil is started from ``node_modules/.bin`` on a free loopback port, the
registry is deployed once with a small consortium (SG and JP, an authority each,
issuers), and every test that asks for ``chain`` runs between an
``evm_snapshot`` and an ``evm_revert``, so tests never see each other's state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.chain.client import ChainClient
from registry.chain.nodes import NodeProcess
from registry.runtime import Node
from tests.support import CaptureLogs, worker_threads
from tests.support.consortium import Consortium, new_consortium, set_up_consortium


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One managed Anvil for the whole session, persisting to a temporary state file."""
    state = tmp_path_factory.mktemp("anvil") / "state.json"
    node = NodeProcess(kind="anvil", state_file=state)
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def people() -> Consortium:
    """The consortium's accounts (same for the whole session)."""
    return new_consortium()


@pytest.fixture(scope="session")
def session_chain(anvil: NodeProcess, people: Consortium) -> ChainClient:
    """A client for the registry deployed once on the session's Anvil."""
    client = ChainClient.connect(anvil.url)
    set_up_consortium(client, people)
    return client


@pytest.fixture
def chain(session_chain: ChainClient) -> Iterator[ChainClient]:
    """The session's client, with every change rolled back after the test."""
    snapshot = session_chain.snapshot()
    yield session_chain
    session_chain.revert_to(snapshot)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private data directory for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


# -- a whole node (store, vault, worker) on its own Anvil -------------------------------
#
# Service and API tests do not use snapshots: reverting the chain under a running
# node would desynchronise its store and nonces. They run on a second Anvil and
# stay independent by giving every certificate a fresh number.

@pytest.fixture(scope="session")
def node_anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """The Anvil behind the session's node."""
    node = NodeProcess(kind="anvil", state_file=tmp_path_factory.mktemp("node-anvil") / "state.json")
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def node(node_anvil: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A running node (SG issuer, JP customs) with the demo consortium set up."""
    from registry.pipelines.anchoring import BatchPolicy
    from registry.runtime import NodeConfig, open_node

    data = tmp_path_factory.mktemp("node-data")
    running = open_node(NodeConfig(data_dir=data, rpc_url=node_anvil.url,
                                   batch=BatchPolicy(max_size=256, max_wait=0.05)))
    from api.serve import set_up_demo

    set_up_demo(running, "http://testserver")
    yield running
    running.close()


@pytest.fixture(scope="session")
def demo_keys(node: Node) -> dict[str, dict[str, str]]:
    """The demo consortium's API keys, by role."""
    import json

    keys: dict[str, dict[str, str]] = json.loads((node.config.data_dir / "demo-keys.json").read_text())
    return keys


# -- no background thread outlives the fixture that started it --------------------------------


@pytest.fixture(autouse=True)
def no_leaked_workers() -> Iterator[None]:
    """Fail a test that leaves more node workers running than it found.

    Wider-scoped fixtures are set up before this one and torn down after it, so
    the session node's own workers (restarted under the same names by
    ``Node.paused``) count the same before and after; a worker the test or one
    of its function fixtures started and did not stop shows up as extra.
    """
    before = worker_threads()
    yield
    leaked = worker_threads() - before
    assert not leaked, f"worker threads outlived the test: {dict(leaked)}"


# -- everything logged during the session, for the secrets test -------------------------------

def pytest_configure(config: pytest.Config) -> None:
    handler = CaptureLogs(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    for name in ("coo", "uvicorn", "fastapi"):
        logging.getLogger(name).setLevel(logging.DEBUG)
